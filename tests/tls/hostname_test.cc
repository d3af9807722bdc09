#include "tls/hostname.h"

#include <gtest/gtest.h>

namespace mxray::tls {
namespace {

TEST(MatchesDnsIdentifierTest, ExactNamesMatchIgnoringCaseAndTrailingDot) {
  EXPECT_TRUE(MatchesDnsIdentifier("mx.example.test", "mx.example.test"));
  EXPECT_TRUE(MatchesDnsIdentifier("MX.Example.TEST", "mx.example.test"));
  EXPECT_TRUE(MatchesDnsIdentifier("mx.example.test.", "mx.example.test"));
  EXPECT_TRUE(MatchesDnsIdentifier("mx.example.test", "mx.example.test."));
  EXPECT_FALSE(MatchesDnsIdentifier("mx.example.test", "mx2.example.test"));
  EXPECT_FALSE(MatchesDnsIdentifier("mx.example.test", "example.test"));
  EXPECT_FALSE(MatchesDnsIdentifier("example.test", "mx.example.test"));
}

TEST(MatchesDnsIdentifierTest, WildcardCoversExactlyOneLeftmostLabel) {
  EXPECT_TRUE(MatchesDnsIdentifier("mx.example.test", "*.example.test"));
  EXPECT_TRUE(MatchesDnsIdentifier("MX.EXAMPLE.TEST", "*.Example.Test"));
  EXPECT_FALSE(MatchesDnsIdentifier("a.mx.example.test", "*.example.test"));  // two labels
  EXPECT_FALSE(MatchesDnsIdentifier("example.test", "*.example.test"));       // zero labels
  EXPECT_FALSE(MatchesDnsIdentifier("mx.other.test", "*.example.test"));
}

TEST(MatchesDnsIdentifierTest, WildcardsThatRfc6125Forbids) {
  EXPECT_FALSE(MatchesDnsIdentifier("example.test", "*.test"));  // a whole top-level domain
  EXPECT_FALSE(MatchesDnsIdentifier("mx.example.test", "m*.example.test"));  // partial label
  EXPECT_FALSE(MatchesDnsIdentifier("mx.example.test", "mx.*.test"));        // not leftmost
  EXPECT_FALSE(MatchesDnsIdentifier("a.b.example.test", "*.*.example.test"));
  EXPECT_FALSE(MatchesDnsIdentifier("xn--bcher-kva.example.test", "*.example.test"));  // A-label
  EXPECT_FALSE(MatchesDnsIdentifier("mx.example.test", "*"));
}

TEST(MatchesDnsIdentifierTest, MalformedNamesNeverMatch) {
  EXPECT_FALSE(MatchesDnsIdentifier("", ""));
  EXPECT_FALSE(MatchesDnsIdentifier("mx..test", "mx..test"));
  EXPECT_FALSE(MatchesDnsIdentifier(".", "."));
  EXPECT_FALSE(MatchesDnsIdentifier("mx.example.test", ""));
}

TEST(MatchesHostnameTest, SansWinAndCommonNameCountsOnlyWithoutDnsSans) {
  CertificateFacts cert;
  cert.common_name = "mx.example.test";
  EXPECT_TRUE(MatchesHostname("mx.example.test", cert));  // no SAN: the CN is used
  cert.san_dns = {"other.example.test", "*.mail.example.test"};
  EXPECT_FALSE(MatchesHostname("mx.example.test", cert));  // SANs present: the CN is ignored
  EXPECT_TRUE(MatchesHostname("other.example.test", cert));
  EXPECT_TRUE(MatchesHostname("in.mail.example.test", cert));
  cert.san_dns.clear();
  cert.san_ip = {"127.0.0.1"};  // an IP SAN does not turn the CN fallback off
  EXPECT_TRUE(MatchesHostname("mx.example.test", cert));
  cert.common_name.clear();
  EXPECT_FALSE(MatchesHostname("mx.example.test", cert));
}

}  // namespace
}  // namespace mxray::tls
