// DNS answer interpretation (RFC 1035 §4, RFC 2181 §10.1 for CNAME chains).
#include "io/dns_answer.h"

#include <algorithm>
#include <cstring>

#include "absl/strings/ascii.h"

namespace mxray::io {
namespace {

constexpr uint16_t kTypeCname = 5;
constexpr uint16_t kClassIn = 1;
constexpr size_t kMaxNameText = 1024;  // presentation form with escapes; wire names are <= 255

uint16_t Read16(const uint8_t* p) { return uint16_t(p[0] << 8 | p[1]); }

struct RawRecord {
  std::string owner;
  uint16_t type;
  uint16_t klass;
  size_t rdata;  // offset of RDATA in the message
  uint16_t rdlength;
};

// Walks the question and answer sections, handing each answer record to `fn`.
template <typename Fn>
bool ForEachAnswer(std::span<const uint8_t> msg, Fn&& fn) {
  DnsHeader h;
  if (!ParseDnsHeader(msg, &h)) return false;
  size_t off = 12;
  std::string name;
  for (int i = 0; i < h.qdcount; ++i) {
    if (!ReadDnsName(msg, &off, &name) || off + 4 > msg.size()) return false;
    off += 4;
  }
  RawRecord rr;
  for (int i = 0; i < h.ancount; ++i) {
    if (!ReadDnsName(msg, &off, &rr.owner) || off + 10 > msg.size()) return false;
    rr.type = Read16(&msg[off]);
    rr.klass = Read16(&msg[off + 2]);
    rr.rdlength = Read16(&msg[off + 8]);
    rr.rdata = off + 10;
    off = rr.rdata + rr.rdlength;
    if (off > msg.size()) return false;
    if (!fn(rr)) return false;
  }
  return true;
}

// Follows the CNAME chain from `qname` inside one answer. Returns the name whose records answer
// the question, or sets loop when the chain revisits a name or runs past the hop limit.
bool FollowChain(std::span<const uint8_t> msg, std::string_view qname, const AnswerLimits& limits,
                 DnsAnswerBase* answer, std::string* final_name) {
  std::string current(qname);
  std::string target;
  for (;;) {
    bool advanced = false;
    bool ok = ForEachAnswer(msg, [&](const RawRecord& rr) {
      if (rr.klass != kClassIn) return true;
      if (advanced || rr.type != kTypeCname || rr.owner != current) return true;
      size_t p = rr.rdata;
      if (!ReadDnsName(msg, &p, &target) || p != rr.rdata + rr.rdlength) return false;
      advanced = true;
      return true;
    });
    if (!ok) return false;
    if (!advanced) break;
    bool seen = target == qname || std::find(answer->cname_chain.begin(), answer->cname_chain.end(),
                                             target) != answer->cname_chain.end();
    answer->cname_chain.push_back(target);
    if (seen || static_cast<int>(answer->cname_chain.size()) > limits.max_cname_hops) {
      answer->cname_loop = true;
      break;
    }
    current = target;
  }
  *final_name = std::move(current);
  return true;
}

// The shared shape of every typed interpretation: follow the chain, collect records of `type`
// owned by the chain's end with `take`, decide the status.
template <typename Take>
Interpretation Interpret(std::span<const uint8_t> msg, std::string_view qname, uint16_t type,
                         const AnswerLimits& limits, DnsAnswerBase* answer, size_t* count,
                         Take&& take) {
  Interpretation result;
  std::string final_name;
  size_t chain_before = answer->cname_chain.size();
  if (!FollowChain(msg, qname, limits, answer, &final_name)) return result;
  if (answer->cname_loop) return result;  // kMalformed
  bool ok = ForEachAnswer(msg, [&](const RawRecord& rr) {
    if (rr.klass != kClassIn || rr.type != type || rr.owner != final_name) return true;
    if (*count >= limits.max_records) {
      answer->truncated_records = true;
      return true;
    }
    return take(rr);
  });
  if (!ok) return result;
  if (*count > 0) {
    result.status = DnsStatus::kOk;
  } else if (answer->cname_chain.size() > chain_before) {
    // The chain leads somewhere this answer does not cover: ask for the target itself.
    result.status = DnsStatus::kNodata;
    result.next_name = final_name;
  } else {
    // No record of the asked type for the name. Records about other names are ignored, as
    // resolvers and MTAs ignore them (RFC 2181 §5.4.1): NODATA, and mail would follow the
    // implicit MX.
    result.status = DnsStatus::kNodata;
  }
  return result;
}

}  // namespace

bool ParseDnsHeader(std::span<const uint8_t> msg, DnsHeader* out) {
  if (msg.size() < 12) return false;
  out->id = Read16(&msg[0]);
  out->truncated = (msg[2] & 0x02) != 0;
  out->authenticated = (msg[3] & 0x20) != 0;
  out->rcode = msg[3] & 0x0F;
  out->qdcount = Read16(&msg[4]);
  out->ancount = Read16(&msg[6]);
  out->nscount = Read16(&msg[8]);
  out->arcount = Read16(&msg[10]);
  return true;
}

bool ReadDnsName(std::span<const uint8_t> msg, size_t* offset, std::string* out) {
  out->clear();
  size_t pos = *offset;
  size_t end_after_first_pointer = 0;
  int jumps = 0;
  size_t wire_length = 0;
  for (;;) {
    if (pos >= msg.size()) return false;
    uint8_t len = msg[pos];
    if ((len & 0xC0) == 0xC0) {
      if (pos + 1 >= msg.size() || ++jumps > 64) return false;
      size_t target = size_t(len & 0x3F) << 8 | msg[pos + 1];
      if (end_after_first_pointer == 0) end_after_first_pointer = pos + 2;
      if (target >= pos) return false;  // pointers must point backwards: no loops
      pos = target;
      continue;
    }
    if ((len & 0xC0) != 0) return false;  // reserved label types
    if (len == 0) {
      *offset = end_after_first_pointer ? end_after_first_pointer : pos + 1;
      return true;
    }
    wire_length += len + 1;
    if (wire_length > 255 || pos + 1 + len > msg.size()) return false;
    if (!out->empty()) out->push_back('.');
    for (size_t i = 0; i < len; ++i) {
      uint8_t c = msg[pos + 1 + i];
      if (c == '.' || c == '\\' || c <= 0x20 || c >= 0x7F) {
        char esc[5];
        esc[0] = '\\';
        esc[1] = char('0' + c / 100);
        esc[2] = char('0' + c / 10 % 10);
        esc[3] = char('0' + c % 10);
        out->append(esc, 4);
      } else {
        out->push_back(absl::ascii_tolower(c));
      }
    }
    if (out->size() > kMaxNameText) return false;
    pos += 1 + len;
  }
}

Interpretation InterpretMx(std::span<const uint8_t> msg, std::string_view qname,
                           const AnswerLimits& limits, MxAnswer* answer) {
  size_t count = 0;
  Interpretation r = Interpret(msg, qname, uint16_t(DnsType::kMx), limits, answer, &count,
                               [&](const RawRecord& rr) {
                                 if (rr.rdlength < 3) return false;
                                 MxRecord mx;
                                 mx.preference = Read16(&msg[rr.rdata]);
                                 size_t p = rr.rdata + 2;
                                 if (!ReadDnsName(msg, &p, &mx.exchange)) return false;
                                 if (p != rr.rdata + rr.rdlength) return false;
                                 answer->records.push_back(std::move(mx));
                                 ++count;
                                 return true;
                               });
  if (r.status != DnsStatus::kOk) {
    answer->records.clear();
  } else {
    std::sort(answer->records.begin(), answer->records.end(), [](const auto& a, const auto& b) {
      return a.preference != b.preference ? a.preference < b.preference : a.exchange < b.exchange;
    });
    answer->records.erase(std::unique(answer->records.begin(), answer->records.end(),
                                      [](const auto& a, const auto& b) {
                                        return a.preference == b.preference &&
                                               a.exchange == b.exchange;
                                      }),
                          answer->records.end());
  }
  return r;
}

Interpretation InterpretAddress(std::span<const uint8_t> msg, std::string_view qname, DnsType type,
                                const AnswerLimits& limits, AddressAnswer* answer) {
  size_t count = 0;
  const bool v4 = type == DnsType::kA;
  Interpretation r =
      Interpret(msg, qname, uint16_t(type), limits, answer, &count, [&](const RawRecord& rr) {
        if (rr.rdlength != (v4 ? 4 : 16)) return false;
        IpAddress ip = v4 ? IpAddress::V4(&msg[rr.rdata]) : IpAddress::V6(&msg[rr.rdata]);
        if (std::find(answer->addresses.begin(), answer->addresses.end(), ip) ==
            answer->addresses.end()) {
          answer->addresses.push_back(ip);
          ++count;
        }
        return true;
      });
  if (r.status != DnsStatus::kOk) answer->addresses.clear();
  return r;
}

Interpretation InterpretTxt(std::span<const uint8_t> msg, std::string_view qname,
                            const AnswerLimits& limits, TxtAnswer* answer) {
  size_t count = 0;
  Interpretation r = Interpret(msg, qname, uint16_t(DnsType::kTxt), limits, answer, &count,
                               [&](const RawRecord& rr) {
                                 std::string text;
                                 size_t p = rr.rdata, end = rr.rdata + rr.rdlength;
                                 while (p < end) {
                                   size_t n = msg[p];
                                   if (p + 1 + n > end) return false;
                                   text.append(reinterpret_cast<const char*>(&msg[p + 1]), n);
                                   p += 1 + n;
                                 }
                                 answer->texts.push_back(std::move(text));
                                 ++count;
                                 return true;
                               });
  if (r.status != DnsStatus::kOk) answer->texts.clear();
  return r;
}

Interpretation InterpretPtr(std::span<const uint8_t> msg, std::string_view qname,
                            const AnswerLimits& limits, PtrAnswer* answer) {
  size_t count = 0;
  Interpretation r = Interpret(msg, qname, uint16_t(DnsType::kPtr), limits, answer, &count,
                               [&](const RawRecord& rr) {
                                 std::string name;
                                 size_t p = rr.rdata;
                                 if (!ReadDnsName(msg, &p, &name)) return false;
                                 if (p != rr.rdata + rr.rdlength) return false;
                                 answer->names.push_back(std::move(name));
                                 ++count;
                                 return true;
                               });
  if (r.status != DnsStatus::kOk) answer->names.clear();
  return r;
}

}  // namespace mxray::io
