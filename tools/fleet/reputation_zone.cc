// Answers of the DNSBL and reverse zones (see reputation_zone.h; the facts are in
// reputation_plan.cc and population.cc, shared with the expectations).
#include "tools/fleet/reputation_zone.h"

#include <arpa/inet.h>

#include <string>

namespace mxray::fleet {
namespace {

constexpr uint32_t kTtl = Population::kTtl;
constexpr uint32_t kNegativeTtl = 60;

void AddNegativeSoa(std::string_view zone, DnsMessageWriter* w) {
  w->BeginSection(DnsMessageWriter::Section::kAuthority);
  w->AddSoa(zone, "ns.test", "hostmaster.test", 1, 3600, 600, 86400, kNegativeTtl, kNegativeTtl);
}

ZoneResult Nxdomain(std::string_view zone, DnsMessageWriter* w) {
  AddNegativeSoa(zone, w);
  return {.rcode = kRcodeNxDomain};
}

ZoneResult Nodata(std::string_view zone, DnsMessageWriter* w) {
  AddNegativeSoa(zone, w);
  return {};
}

// `qname` is `apex` or under it: the labels before it ("" for the apex itself), else false.
bool Under(std::string_view qname, std::string_view apex, std::string_view* labels) {
  if (qname == apex) {
    *labels = {};
    return true;
  }
  if (qname.size() <= apex.size() + 1 || !qname.ends_with(apex) ||
      qname[qname.size() - apex.size() - 1] != '.') {
    return false;
  }
  *labels = qname.substr(0, qname.size() - apex.size() - 1);
  return true;
}

int HexDigit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  return -1;
}

}  // namespace

size_t ParseReversedAddress(std::string_view labels, std::array<uint8_t, 16>* ip) {
  // IPv6: 32 labels of one hex digit, least significant nibble first.
  if (labels.size() == 63) {
    for (size_t k = 0; k < 32; ++k) {
      const int nibble = HexDigit(labels[2 * k]);
      if (nibble < 0 || (k < 31 && labels[2 * k + 1] != '.')) return 0;
      uint8_t& byte = (*ip)[15 - k / 2];
      byte = k % 2 == 0 ? uint8_t(nibble) : uint8_t(byte | nibble << 4);
    }
    return 16;
  }
  // IPv4: four decimal octets, the last one first.
  size_t start = 0;
  for (size_t k = 0; k < 4; ++k) {
    const size_t dot = labels.find('.', start);
    if ((k < 3) != (dot != std::string_view::npos)) return 0;
    const std::string_view octet =
        labels.substr(start, dot == std::string_view::npos ? std::string_view::npos : dot - start);
    if (octet.empty() || octet.size() > 3 || (octet.size() > 1 && octet[0] == '0')) return 0;
    unsigned value = 0;
    for (char c : octet) {
      if (c < '0' || c > '9') return 0;
      value = value * 10 + unsigned(c - '0');
    }
    if (value > 255) return 0;
    (*ip)[3 - k] = uint8_t(value);
    start = dot + 1;
  }
  return 4;
}

ZoneResult DnsblDnsZone::Answer(std::string_view qname, uint16_t qtype, DnsMessageWriter* w) const {
  std::string_view labels;
  if (qname == kDnsblParent) {
    if (qtype != kTypeSoa) return Nodata(kDnsblParent, w);
    w->AddSoa(kDnsblParent, "ns.test", "hostmaster.test", 1, 3600, 600, 86400, kNegativeTtl, kTtl);
    return {};
  }
  for (size_t z = 0; z < kDnsblZoneCount; ++z) {
    const DnsblZone zone = DnsblZone(z);
    const std::string_view zone_name = kDnsblZones[z];
    if (!Under(qname, zone_name, &labels)) continue;
    std::array<uint8_t, 16> ip{};
    const size_t len = labels.empty() ? 0 : ParseReversedAddress(labels, &ip);
    const DnsblReply reply = DnsblReplyFor(zone, {ip.data(), len});
    switch (reply.rcode) {
      case DnsblReply::Rcode::kDrop:
        return {.action = ZoneResult::Action::kDrop};
      case DnsblReply::Rcode::kServfail:
        w->ResetToQuestion();
        return {.rcode = kRcodeServFail};
      case DnsblReply::Rcode::kNxdomain:
        // The zone's own name exists; names that are no address, or not listed, do not.
        return labels.empty() ? Nodata(zone_name, w) : Nxdomain(zone_name, w);
      case DnsblReply::Rcode::kAnswer:
        break;
    }
    if (qtype == kTypeA) {
      for (size_t k = 0; k < reply.count; ++k) w->AddA(qname, reply.a[k], kTtl);
      return {};
    }
    if (qtype == kTypeTxt && reply.txt) {
      char text[INET6_ADDRSTRLEN] = {};
      inet_ntop(len == 4 ? AF_INET : AF_INET6, ip.data(), text, sizeof(text));
      w->AddTxt(qname, DnsblTxt(zone, text), kTtl);
      return {};
    }
    return Nodata(zone_name, w);
  }
  return Nxdomain(kDnsblParent, w);
}

ZoneResult ReverseDnsZone::Answer(std::string_view qname, uint16_t qtype,
                                  DnsMessageWriter* w) const {
  const std::string_view zone = apex();
  std::string_view labels;
  if (!Under(qname, zone, &labels)) return Nxdomain(zone, w);
  if (labels.empty()) {
    if (qtype != kTypeSoa) return Nodata(zone, w);
    w->AddSoa(zone, "ns.test", "hostmaster.test", 1, 3600, 600, 86400, kNegativeTtl, kTtl);
    return {};
  }
  std::array<uint8_t, 16> ip{};
  const size_t len = ParseReversedAddress(labels, &ip);
  std::string ptr;
  if (len == 4 && family_ == Family::kIpv4) {
    ptr = population_->PtrName(Ipv4{ip[0], ip[1], ip[2], ip[3]});
  } else if (len == 16 && family_ == Family::kIpv6) {
    ptr = population_->PtrName(ip);
  }
  if (ptr.empty()) return Nxdomain(zone, w);
  if (qtype != kTypePtr) return Nodata(zone, w);
  w->AddPtr(qname, ptr, kTtl);
  return {};
}

}  // namespace mxray::fleet
