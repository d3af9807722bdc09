// The zone tables follow each operator's published return codes (Spamhaus: "DNSBL return codes",
// SpamCop and Barracuda: 127.0.0.2 only).
#include "engine/dnsbl.h"

#include <algorithm>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"

namespace mxray::engine {
namespace {

constexpr char kHex[] = "0123456789abcdef";

const DnsblProfile kSpamhausZen = {
    .name = "spamhaus-zen",
    .codes =
        {
            {2, "SBL", "Spamhaus SBL: a spam source or spam operation", "high"},
            {3, "CSS", "Spamhaus CSS: low-reputation mail from snowshoe spam", "high"},
            {4, "XBL", "Spamhaus XBL: exploited host (malware, botnet, open proxy)", "high"},
            {5, "XBL", "Spamhaus XBL: exploited host", "high"},
            {6, "XBL", "Spamhaus XBL: exploited host", "high"},
            {7, "XBL", "Spamhaus XBL: exploited host", "high"},
            {9, "DROP", "Spamhaus DROP/EDROP: hijacked or criminal netblock", "high"},
            {10, "PBL",
             "Spamhaus PBL (ISP maintained): end-user range, not meant to send mail "
             "directly",
             "info"},
            {11, "PBL",
             "Spamhaus PBL (Spamhaus maintained): end-user range, not meant to send "
             "mail directly",
             "info"},
        },
    .spamhaus_errors = true,
};
const DnsblProfile kSpamcop = {
    .name = "spamcop",
    .codes = {{2, "SCBL", "SpamCop: reported as a spam source recently", "high"}},
};
const DnsblProfile kBarracuda = {
    .name = "barracuda",
    .codes = {{2, "BRBL", "Barracuda: poor sending reputation", "high"}},
};
const DnsblProfile kGeneric = {.name = "generic", .any_127_listed = true};

const DnsblProfile* const kProfiles[] = {&kSpamhausZen, &kSpamcop, &kBarracuda, &kGeneric};

bool Is127(const io::IpAddress& ip) { return ip.is_v4() && ip.bytes()[0] == 127; }

bool IsLoopbackOne(const io::IpAddress& ip) {
  const uint8_t* b = ip.bytes();
  return ip.is_v4() && b[0] == 127 && b[1] == 0 && b[2] == 0 && b[3] == 1;
}

// Spamhaus' "your query was not answered" codes (127.255.255.x).
std::string_view SpamhausError(const io::IpAddress& ip) {
  const uint8_t* b = ip.bytes();
  if (!ip.is_v4() || b[0] != 127 || b[1] != 255 || b[2] != 255) return {};
  switch (b[3]) {
    case 252:
      return "typing error in the DNSBL name (127.255.255.252)";
    case 254:
      return "query via a public or open resolver, refused (127.255.255.254)";
    case 255:
      return "excessive number of queries (127.255.255.255)";
    default:
      return {};
  }
}

const DnsblCode* FindCode(const DnsblProfile& p, const io::IpAddress& ip) {
  const uint8_t* b = ip.bytes();
  if (!ip.is_v4() || b[0] != 127 || b[1] != 0 || b[2] != 0) return nullptr;
  for (const DnsblCode& c : p.codes) {
    if (c.last_octet == b[3]) return &c;
  }
  return nullptr;
}

int SeverityRank(std::string_view s) {
  if (s == "high") return 3;
  if (s == "medium") return 2;
  if (s == "low") return 1;
  return 0;
}

}  // namespace

std::string_view DnsblStatusName(DnsblStatus s) {
  switch (s) {
    case DnsblStatus::kListed:
      return "listed";
    case DnsblStatus::kNotListed:
      return "not_listed";
    case DnsblStatus::kError:
      return "error";
    case DnsblStatus::kUnknown:
      return "unknown";
    case DnsblStatus::kUnreliable:
      return "unreliable";
  }
  return "error";
}

std::string DnsblQueryName(const io::IpAddress& ip, std::string_view zone) {
  std::string out;
  const uint8_t* b = ip.bytes();
  if (ip.is_v4()) {
    for (int i = 3; i >= 0; --i) out.append(std::to_string(b[i])).push_back('.');
  } else {
    out.reserve(64 + zone.size());
    for (int i = 15; i >= 0; --i) {
      out.push_back(kHex[b[i] & 15]);
      out.push_back('.');
      out.push_back(kHex[b[i] >> 4]);
      out.push_back('.');
    }
  }
  out.append(zone);
  return out;
}

std::string PtrQueryName(const io::IpAddress& ip) {
  return DnsblQueryName(ip, ip.is_v4() ? "in-addr.arpa" : "ip6.arpa");
}

const DnsblProfile* FindDnsblProfile(std::string_view name) {
  for (const DnsblProfile* p : kProfiles) {
    if (p->name == name) return p;
  }
  return nullptr;
}

const DnsblProfile& ProfileForZone(std::string_view zone) {
  std::string z = absl::AsciiStrToLower(absl::string_view(zone.data(), zone.size()));
  if (z == "zen.spamhaus.org" || absl::EndsWith(z, ".zen.dq.spamhaus.net")) return kSpamhausZen;
  if (z == "bl.spamcop.net") return kSpamcop;
  if (z == "b.barracudacentral.org") return kBarracuda;
  return kGeneric;
}

DnsblVerdict ClassifyDnsblAnswer(const DnsblProfile& profile, const io::AddressAnswer& answer,
                                 bool zone_trusted) {
  DnsblVerdict v;
  if (!zone_trusted) {
    // Nothing a zone that failed its self-test says counts, whatever it says now.
    v.status = DnsblStatus::kUnreliable;
    v.reason = "zone failed its self-test";
    for (const io::IpAddress& ip : answer.addresses) v.codes.push_back(ip.ToString());
    std::sort(v.codes.begin(), v.codes.end());
    return v;
  }
  switch (answer.status) {
    case io::DnsStatus::kNxdomain:
    case io::DnsStatus::kNodata:
      v.status = zone_trusted ? DnsblStatus::kNotListed : DnsblStatus::kUnreliable;
      if (!zone_trusted) v.reason = "zone failed its self-test";
      return v;
    case io::DnsStatus::kOk:
      break;
    default:
      v.status = DnsblStatus::kError;
      v.reason = std::string(io::DnsStatusName(answer.status));
      return v;
  }
  for (const io::IpAddress& ip : answer.addresses) v.codes.push_back(ip.ToString());
  std::sort(v.codes.begin(), v.codes.end());
  // Worst first: a refusal or a rewritten answer makes the whole answer worthless.
  for (const io::IpAddress& ip : answer.addresses) {
    if (!Is127(ip)) {
      v.status = DnsblStatus::kUnknown;
      v.reason =
          "answer outside 127.0.0.0/8 (" + ip.ToString() + "): the resolver rewrites NXDOMAIN";
      return v;
    }
  }
  for (const io::IpAddress& ip : answer.addresses) {
    std::string_view error = profile.spamhaus_errors ? SpamhausError(ip) : std::string_view();
    if (!error.empty()) {
      v.status = DnsblStatus::kError;
      v.reason = std::string(error);
      return v;
    }
  }
  if (!zone_trusted) {
    v.status = DnsblStatus::kUnreliable;
    v.reason = "zone failed its self-test";
    return v;
  }
  for (const io::IpAddress& ip : answer.addresses) {
    const DnsblCode* code = FindCode(profile, ip);
    if (code == nullptr && profile.any_127_listed && !IsLoopbackOne(ip)) {
      if (SeverityRank("medium") > SeverityRank(v.severity)) v.severity = "medium";
      continue;
    }
    if (code == nullptr) {
      v.status = DnsblStatus::kUnknown;
      v.reason = "a code the zone does not document (" + ip.ToString() + ")";
      v.lists.clear();
      v.meanings.clear();
      return v;
    }
    if (std::find(v.lists.begin(), v.lists.end(), code->list) == v.lists.end()) {
      v.lists.push_back(code->list);
    }
    v.meanings.push_back(code->meaning);
    if (SeverityRank(code->severity) > SeverityRank(v.severity) || v.severity.empty()) {
      v.severity = code->severity;
    }
  }
  v.status = DnsblStatus::kListed;
  return v;
}

bool DnsblSelfTestPassed(const DnsblProfile& profile, const io::AddressAnswer& listed_probe,
                         const io::AddressAnswer& unlisted_probe) {
  if (unlisted_probe.status != io::DnsStatus::kNxdomain &&
      unlisted_probe.status != io::DnsStatus::kNodata) {
    return false;
  }
  DnsblVerdict v = ClassifyDnsblAnswer(profile, listed_probe, /*zone_trusted=*/true);
  return v.status == DnsblStatus::kListed;
}

}  // namespace mxray::engine
