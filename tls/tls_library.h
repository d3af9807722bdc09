// Which TLS library the build linked: mxray must run on BoringSSL, never OpenSSL.
#ifndef MXRAY_TLS_TLS_LIBRARY_H_
#define MXRAY_TLS_TLS_LIBRARY_H_

#include <string_view>

namespace mxray::tls {

// The linked library's own name for itself ("BoringSSL").
std::string_view TlsLibraryName();

}  // namespace mxray::tls

#endif  // MXRAY_TLS_TLS_LIBRARY_H_
