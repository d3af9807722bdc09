// The DNSBL table and the classification of its answers (see reputation_plan.h).
#include "tools/fleet/reputation_plan.h"

#include <arpa/inet.h>

#include <algorithm>

#include "absl/strings/str_cat.h"

namespace mxray::fleet {
namespace {

// What one zone says about one class of names.
enum class Listing : uint8_t {
  kNone,       // NXDOMAIN
  kSbl,        // 127.0.0.2 + TXT
  kSblXbl,     // 127.0.0.2, 127.0.0.4 + TXT
  kPbl,        // 127.0.0.10 + TXT
  kError252,   // 127.255.255.252
  kError254,   // 127.255.255.254
  kError255,   // 127.255.255.255
  kRewritten,  // kRewrittenAddress
};

// How a zone answers the names that are not its self-test's.
enum class Mode : uint8_t {
  kTable,     // kListings, NXDOMAIN for the rest
  kServfail,  // SERVFAIL for every name but the self-test's
  kDrop,      // nothing, ever (the self-test included)
};

struct ZoneRow {
  DnsblZone zone;
  std::string_view name;
  std::string_view profile;
  std::string_view summary;
  Mode mode;
  Listing self_listed;    // 2.0.0.127 (::ffff:127.0.0.2)
  Listing self_unlisted;  // 1.0.0.127 (::ffff:127.0.0.1)
};

constexpr ZoneRow kZoneRows[kDnsblZoneCount] = {
    {DnsblZone::kZen, kZenZone, "spamhaus-zen",
     "Spamhaus ZEN codes: dnsbl_listed 127.0.0.2, dnsbl_multi 127.0.0.2+4, dnsbl_pbl "
     "127.0.0.10 (with TXT), dnsbl_error_252/254/255 127.255.255.x; NXDOMAIN otherwise",
     Mode::kTable, Listing::kSbl, Listing::kNone},
    {DnsblZone::kRewrite, kRewriteZone, "generic",
     "a resolver rewriting NXDOMAIN: dnsbl_rewritten 198.51.100.7; NXDOMAIN otherwise",
     Mode::kTable, Listing::kSbl, Listing::kNone},
    // Both halves of the self-test fail, so a client that checks only one still notices.
    {DnsblZone::kBroken, kBrokenZone, "generic",
     "fails its self-test (2.0.0.127 NXDOMAIN, 1.0.0.127 listed); lists dnsbl_listed and "
     "dnsbl_multi 127.0.0.2: unreliable",
     Mode::kTable, Listing::kNone, Listing::kSbl},
    {DnsblZone::kSlow, kSlowZone, "generic", "never answers, the self-test included: unreliable",
     Mode::kDrop, Listing::kNone, Listing::kNone},
    {DnsblZone::kServfail, kServfailZone, "generic",
     "passes its self-test, SERVFAIL for every other name: error", Mode::kServfail, Listing::kSbl,
     Listing::kNone},
};

// The hosts 127.4.<kind>.<n> each table-mode zone lists, by zone (kZen, kRewrite, kBroken; the
// other zones never consult it).
struct ListingRow {
  DomainKind kind;
  std::array<Listing, kDnsblZoneCount> by_zone;
};
constexpr ListingRow kListings[] = {
    {DomainKind::kDnsblListed, {Listing::kSbl, Listing::kNone, Listing::kSbl}},
    {DomainKind::kDnsblMulti, {Listing::kSblXbl, Listing::kNone, Listing::kSbl}},
    {DomainKind::kDnsblPbl, {Listing::kPbl, Listing::kNone, Listing::kNone}},
    {DomainKind::kDnsblError252, {Listing::kError252, Listing::kNone, Listing::kNone}},
    {DomainKind::kDnsblError254, {Listing::kError254, Listing::kNone, Listing::kNone}},
    {DomainKind::kDnsblError255, {Listing::kError255, Listing::kNone, Listing::kNone}},
    {DomainKind::kDnsblRewritten, {Listing::kNone, Listing::kRewritten, Listing::kNone}},
};

DnsblReply ReplyOf(Listing listing) {
  DnsblReply r;
  auto add = [&r](std::array<uint8_t, 4> a) {
    r.rcode = DnsblReply::Rcode::kAnswer;
    r.a[r.count++] = a;
  };
  switch (listing) {
    case Listing::kNone:
      break;
    case Listing::kSbl:
      add({127, 0, 0, 2});
      r.txt = true;
      break;
    case Listing::kSblXbl:
      add({127, 0, 0, 2});
      add({127, 0, 0, 4});
      r.txt = true;
      break;
    case Listing::kPbl:
      add({127, 0, 0, 10});
      r.txt = true;
      break;
    case Listing::kError252:
      add({127, 255, 255, 252});
      break;
    case Listing::kError254:
      add({127, 255, 255, 254});
      break;
    case Listing::kError255:
      add({127, 255, 255, 255});
      break;
    case Listing::kRewritten:
      add(kRewrittenAddress);
      break;
  }
  return r;
}

// 0 for 127.0.0.1 and ::ffff:127.0.0.1, 1 for .2, -1 for any other address.
int SelfTestAddress(std::span<const uint8_t> ip) {
  std::array<uint8_t, 4> v4;
  if (ip.size() == 4) {
    std::copy(ip.begin(), ip.end(), v4.begin());
  } else if (ip.size() == 16) {
    static constexpr uint8_t kMapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xFF, 0xFF};
    if (!std::equal(ip.begin(), ip.begin() + 12, kMapped)) return -1;
    std::copy(ip.begin() + 12, ip.end(), v4.begin());
  } else {
    return -1;
  }
  if (v4[0] != 127 || v4[1] != 0 || v4[2] != 0) return -1;
  return v4[3] == 1 ? 0 : v4[3] == 2 ? 1 : -1;
}

std::string_view ProbeName(const DnsblReply& r) {
  switch (r.rcode) {
    case DnsblReply::Rcode::kNxdomain:
      return "nxdomain";
    case DnsblReply::Rcode::kServfail:
      return "servfail";
    case DnsblReply::Rcode::kDrop:
      return "timeout";
    case DnsblReply::Rcode::kAnswer:
      break;
  }
  return "listed";
}

// The status of a reply on its own, as if the zone were trusted.
std::string_view Classify(const DnsblReply& r) {
  switch (r.rcode) {
    case DnsblReply::Rcode::kNxdomain:
      return "not_listed";
    case DnsblReply::Rcode::kServfail:
    case DnsblReply::Rcode::kDrop:
      return "error";
    case DnsblReply::Rcode::kAnswer:
      break;
  }
  bool error = false, outside = false, documented = true;
  for (size_t k = 0; k < r.count; ++k) {
    const std::array<uint8_t, 4>& a = r.a[k];
    error |= a[0] == 127 && a[1] == 255 && a[2] == 255 && (a[3] == 252 || a[3] >= 254);
    outside |= a[0] != 127;
    documented &= a[0] == 127 && a[1] == 0 && a[2] == 0 && a[3] >= 2 && a[3] <= 11;
  }
  return error ? "error" : outside || !documented ? "unknown" : "listed";
}

}  // namespace

std::string_view DnsblZoneName(DnsblZone zone) { return kZoneRows[size_t(zone)].name; }

std::optional<DnsblZone> DnsblZoneFromName(std::string_view name) {
  for (const ZoneRow& row : kZoneRows) {
    if (row.name == name) return row.zone;
  }
  return std::nullopt;
}

std::string_view DnsblProfileName(DnsblZone zone) { return kZoneRows[size_t(zone)].profile; }

std::string_view DnsblZoneSummary(DnsblZone zone) { return kZoneRows[size_t(zone)].summary; }

DnsblReply DnsblReplyFor(DnsblZone zone, std::span<const uint8_t> ip) {
  const ZoneRow& row = kZoneRows[size_t(zone)];
  if (row.mode == Mode::kDrop) return {.rcode = DnsblReply::Rcode::kDrop};
  const int self = SelfTestAddress(ip);
  if (self >= 0) return ReplyOf(self == 1 ? row.self_listed : row.self_unlisted);
  if (row.mode == Mode::kServfail) return {.rcode = DnsblReply::Rcode::kServfail};
  if (ip.size() == 4 && ip[0] == 127 && ip[1] == 4 && ip[3] >= 1) {
    for (const ListingRow& listing : kListings) {
      if (ip[2] == uint8_t(listing.kind)) return ReplyOf(listing.by_zone[size_t(zone)]);
    }
  }
  return {};
}

std::string DnsblTxt(DnsblZone zone, std::string_view ip_text) {
  std::string text = zone == DnsblZone::kZen ? std::string("https://www.spamhaus.org")
                                             : "https://" + std::string(DnsblZoneName(zone));
  return text.append("/query/ip/").append(ip_text);
}

bool DnsblSelfTestPasses(DnsblZone zone) {
  // Asked for every address of every expectation: worked out once from the table.
  static const std::array<bool, kDnsblZoneCount> kPasses = [] {
    static constexpr std::array<uint8_t, 4> kListed = {127, 0, 0, 2}, kUnlisted = {127, 0, 0, 1};
    std::array<bool, kDnsblZoneCount> passes;
    for (size_t z = 0; z < kDnsblZoneCount; ++z) {
      passes[z] = Classify(DnsblReplyFor(DnsblZone(z), kListed)) == "listed" &&
                  DnsblReplyFor(DnsblZone(z), kUnlisted).rcode == DnsblReply::Rcode::kNxdomain;
    }
    return passes;
  }();
  return kPasses[size_t(zone)];
}

ExpectedDnsblZone ExpectDnsblZone(DnsblZone zone) {
  static constexpr std::array<uint8_t, 4> kListed = {127, 0, 0, 2}, kUnlisted = {127, 0, 0, 1};
  return {.zone = DnsblZoneName(zone),
          .profile = DnsblProfileName(zone),
          .passed = DnsblSelfTestPasses(zone),
          .listed_probe = ProbeName(DnsblReplyFor(zone, kListed)),
          .unlisted_probe = ProbeName(DnsblReplyFor(zone, kUnlisted))};
}

std::vector<ExpectedDnsblZone> ExpectDnsblZones() {
  std::vector<ExpectedDnsblZone> out;
  for (size_t z = 0; z < kDnsblZoneCount; ++z) out.push_back(ExpectDnsblZone(DnsblZone(z)));
  return out;
}

ExpectedDnsbl ExpectDnsbl(DnsblZone zone, std::string_view ip) {
  char text[INET6_ADDRSTRLEN] = {};
  std::array<uint8_t, 16> bytes;
  std::span<const uint8_t> address;
  if (ip.size() < sizeof(text)) {
    ip.copy(text, ip.size());
    if (inet_pton(AF_INET, text, bytes.data()) == 1) {
      address = {bytes.data(), 4};
    } else if (inet_pton(AF_INET6, text, bytes.data()) == 1) {
      address = {bytes.data(), 16};
    }
  }
  return ExpectDnsbl(zone, ip, address);
}

ExpectedDnsbl ExpectDnsbl(DnsblZone zone, std::string_view ip, std::span<const uint8_t> address) {
  ExpectedDnsbl e{.zone = DnsblZoneName(zone)};
  if (!DnsblSelfTestPasses(zone)) {
    e.status = "unreliable";
    return e;
  }
  const DnsblReply reply = DnsblReplyFor(zone, address);
  e.status = Classify(reply);
  if (e.status == "not_listed" || reply.rcode != DnsblReply::Rcode::kAnswer) return e;
  for (size_t k = 0; k < reply.count; ++k) {
    const std::array<uint8_t, 4>& a = reply.a[k];
    e.codes.push_back(absl::StrCat(a[0], ".", a[1], ".", a[2], ".", a[3]));
  }
  std::sort(e.codes.begin(), e.codes.end());
  if (e.status == "listed" && reply.txt) e.txt = DnsblTxt(zone, ip);
  return e;
}

}  // namespace mxray::fleet
