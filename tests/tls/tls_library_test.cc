#include "tls/tls_library.h"

#include <gtest/gtest.h>

namespace mxray::tls {
namespace {

TEST(TlsLibraryTest, LinkedLibraryIsBoringSsl) { EXPECT_EQ(TlsLibraryName(), "BoringSSL"); }

}  // namespace
}  // namespace mxray::tls
