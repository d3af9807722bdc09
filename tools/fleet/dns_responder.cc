// One query to one response (see dns_responder.h).
#include "tools/fleet/dns_responder.h"

#include <algorithm>

namespace mxray::fleet {

DnsResponder::DnsResponder(std::vector<const Zone*> zones) : zones_(std::move(zones)) {
  query_.qname.reserve(4 * kMaxNameWireBytes);
}

const Zone* DnsResponder::FindZone(std::string_view qname) const {
  const Zone* best = nullptr;
  for (const Zone* zone : zones_) {
    std::string_view apex = zone->apex();
    bool inside = qname == apex || (qname.size() > apex.size() && qname.ends_with(apex) &&
                                    qname[qname.size() - apex.size() - 1] == '.');
    if (inside && (!best || apex.size() > best->apex().size())) best = zone;
  }
  return best;
}

size_t DnsResponder::Respond(std::span<const uint8_t> query, Transport transport,
                             std::span<uint8_t> out, ResponseInfo* info) {
  *info = ResponseInfo();
  const QueryParse parsed = ParseQuery(query, &query_);
  if (parsed == QueryParse::kIgnore) {
    info->dropped = true;
    return 0;
  }
  // Replies carry the query's opcode and RD; we recurse, so RA.
  const uint16_t flags = kFlagQr | (query_.flags & (0x7800 | kFlagRd)) | kFlagRa;
  size_t limit = kMaxDnsMessageBytes;
  if (transport == Transport::kUdp) {
    limit =
        query_.edns ? std::clamp<size_t>(query_.edns_udp_bytes, 512, kMaxUdpResponseBytes) : 512;
  }
  limit = std::min(limit, out.size());
  DnsMessageWriter w(out, limit);
  if (parsed != QueryParse::kOk) {
    w.StartHeaderOnly(query_.id, flags);
    info->rcode = parsed == QueryParse::kNotImp ? kRcodeNotImp : kRcodeFormErr;
    w.SetRcode(info->rcode);
    return w.size();
  }
  w.Start(query_.id, flags, {query_.qname_wire.data(), query_.qname_wire_len}, query_.qtype,
          query_.qclass);
  const Zone* zone = query_.qclass == kClassIn ? FindZone(query_.qname) : nullptr;
  ZoneResult result;
  if (zone == nullptr) {
    result.rcode = kRcodeRefused;  // not a name we resolve: an open resolver would, we do not
  } else {
    // Keep room for our OPT record.
    if (query_.edns) w.set_limit(limit - kOptRecordBytes);
    result = zone->Answer(query_.qname, query_.qtype, &w);
    w.set_limit(limit);
  }
  switch (result.action) {
    case ZoneResult::Action::kDrop:
      info->dropped = true;
      return 0;
    case ZoneResult::Action::kMalformed:
      w.WriteMalformed(result.malformation);
      info->malformed = true;
      return w.size();
    case ZoneResult::Action::kAnswer:
      break;
  }
  if (w.overflowed() || (result.tcp_only && transport == Transport::kUdp)) {
    w.ResetToQuestion();
    if (transport == Transport::kUdp) {
      w.SetFlag(kFlagTc);
      info->truncated = true;
    } else {
      result.rcode = kRcodeServFail;  // larger than a DNS message: a zone bug, not a test case
    }
  }
  w.SetRcode(result.rcode);
  info->rcode = result.rcode;
  if (query_.edns) w.AddOpt(kEdnsUdpBytes);
  return w.size();
}

}  // namespace mxray::fleet
