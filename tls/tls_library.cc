// Compile-time and run-time proof that the TLS library is BoringSSL.
#include "tls/tls_library.h"

#include <openssl/crypto.h>

#ifndef OPENSSL_IS_BORINGSSL
#error "mxray must be built against BoringSSL (android-libboringssl-dev), not OpenSSL"
#endif

namespace mxray::tls {

std::string_view TlsLibraryName() { return OpenSSL_version(OPENSSL_VERSION); }

}  // namespace mxray::tls
