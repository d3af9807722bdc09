// The fleet's DNS wire codec (see dns_wire.h). RFC 1035 §4 message format, RFC 6891 OPT.
#include "tools/fleet/dns_wire.h"

#include <arpa/inet.h>

#include <cstring>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"

namespace mxray::fleet {
namespace {

uint16_t Read16(const uint8_t* p) { return uint16_t(p[0] << 8 | p[1]); }
uint32_t Read32(const uint8_t* p) {
  return uint32_t(p[0]) << 24 | uint32_t(p[1]) << 16 | uint32_t(p[2]) << 8 | p[3];
}

// Skips one resource record starting at *offset; false when it does not fit.
bool SkipRecord(std::span<const uint8_t> msg, size_t* offset, uint16_t* type, uint16_t* klass,
                uint32_t* ttl) {
  std::array<uint8_t, kMaxNameWireBytes> wire;
  size_t wire_len = 0;
  if (!ReadNameWire(msg, offset, &wire, &wire_len)) return false;
  if (*offset + 10 > msg.size()) return false;
  const uint8_t* p = msg.data() + *offset;
  *type = Read16(p);
  *klass = Read16(p + 2);
  *ttl = Read32(p + 4);
  size_t rdlength = Read16(p + 8);
  if (*offset + 10 + rdlength > msg.size()) return false;
  *offset += 10 + rdlength;
  return true;
}

}  // namespace

bool ReadNameWire(std::span<const uint8_t> msg, size_t* offset,
                  std::array<uint8_t, kMaxNameWireBytes>* wire, size_t* wire_len) {
  size_t pos = *offset;
  size_t end = 0;
  bool jumped = false;
  size_t out = 0;
  // Terminates: pointers strictly decrease the position, labels grow `out` towards its cap.
  for (;;) {
    if (pos >= msg.size()) return false;
    uint8_t len = msg[pos];
    if ((len & 0xC0) == 0xC0) {
      if (pos + 1 >= msg.size()) return false;
      size_t target = size_t(len & 0x3F) << 8 | msg[pos + 1];
      if (target >= pos) return false;
      if (!jumped) {
        end = pos + 2;
        jumped = true;
      }
      pos = target;
      continue;
    }
    if ((len & 0xC0) != 0) return false;  // 01 and 10: extended/reserved label types
    if (len == 0) {
      (*wire)[out++] = 0;
      *wire_len = out;
      *offset = jumped ? end : pos + 1;
      return true;
    }
    // Room for this label and the final root byte within 255 bytes.
    if (pos + 1 + len > msg.size() || out + 1 + len + 1 > kMaxNameWireBytes) return false;
    std::memcpy(wire->data() + out, msg.data() + pos, 1 + len);
    out += 1 + len;
    pos += 1 + len;
  }
}

void WireNameToText(std::span<const uint8_t> wire, bool lowercase, std::string* text) {
  text->clear();
  size_t pos = 0;
  while (pos < wire.size() && wire[pos] != 0) {
    size_t len = wire[pos];
    if (!text->empty()) text->push_back('.');
    for (size_t i = 1; i <= len && pos + i < wire.size(); ++i) {
      uint8_t c = wire[pos + i];
      if (c == '.' || c == '\\' || c <= 0x20 || c >= 0x7F) {
        char esc[4] = {'\\', char('0' + c / 100), char('0' + c / 10 % 10), char('0' + c % 10)};
        text->append(esc, 4);
      } else {
        text->push_back(lowercase ? absl::ascii_tolower(c) : char(c));
      }
    }
    pos += 1 + len;
  }
}

bool ReadName(std::span<const uint8_t> msg, size_t* offset, std::string* text, bool lowercase) {
  std::array<uint8_t, kMaxNameWireBytes> wire;
  size_t wire_len = 0;
  if (!ReadNameWire(msg, offset, &wire, &wire_len)) return false;
  WireNameToText({wire.data(), wire_len}, lowercase, text);
  return true;
}

QueryParse ParseQuery(std::span<const uint8_t> msg, DnsQuery* query) {
  if (msg.size() < kDnsHeaderBytes) return QueryParse::kIgnore;
  const uint8_t* h = msg.data();
  query->id = Read16(h);
  query->flags = Read16(h + 2);
  if (query->flags & kFlagQr) return QueryParse::kIgnore;
  query->opcode = (query->flags >> 11) & 0xF;
  query->rd = (query->flags & kFlagRd) != 0;
  query->edns = false;
  query->edns_udp_bytes = 0;
  query->edns_version = 0;
  if (query->opcode != 0) return QueryParse::kNotImp;
  uint16_t qdcount = Read16(h + 4);
  uint16_t ancount = Read16(h + 6);
  uint16_t nscount = Read16(h + 8);
  uint16_t arcount = Read16(h + 10);
  if (qdcount != 1) return QueryParse::kFormErr;

  size_t offset = kDnsHeaderBytes;
  if (!ReadNameWire(msg, &offset, &query->qname_wire, &query->qname_wire_len)) {
    return QueryParse::kFormErr;
  }
  if (offset + 4 > msg.size()) return QueryParse::kFormErr;
  query->qtype = Read16(h + offset);
  query->qclass = Read16(h + offset + 2);
  offset += 4;
  WireNameToText({query->qname_wire.data(), query->qname_wire_len}, true, &query->qname);

  uint16_t type = 0, klass = 0;
  uint32_t ttl = 0;
  for (uint32_t i = 0; i < uint32_t(ancount) + nscount; ++i) {
    if (!SkipRecord(msg, &offset, &type, &klass, &ttl)) return QueryParse::kFormErr;
  }
  for (uint16_t i = 0; i < arcount; ++i) {
    if (!SkipRecord(msg, &offset, &type, &klass, &ttl)) return QueryParse::kFormErr;
    if (type == kTypeOpt) {
      query->edns = true;
      query->edns_udp_bytes = klass;
      query->edns_version = uint8_t(ttl >> 16);
    }
  }
  return QueryParse::kOk;
}

std::vector<uint8_t> BuildQuery(uint16_t id, std::string_view name, uint16_t qtype,
                                uint16_t edns_udp_bytes, bool rd) {
  std::vector<uint8_t> out = {uint8_t(id >> 8),
                              uint8_t(id),
                              uint8_t(rd ? kFlagRd >> 8 : 0),
                              0,
                              0,
                              1,
                              0,
                              0,
                              0,
                              0,
                              0,
                              uint8_t(edns_udp_bytes ? 1 : 0)};
  if (!name.empty() && name.back() == '.') name.remove_suffix(1);
  size_t wire = 1;
  while (!name.empty()) {
    size_t dot = name.find('.');
    std::string_view label = name.substr(0, dot);
    if (label.empty() || label.size() > 63) return {};
    wire += 1 + label.size();
    if (wire > kMaxNameWireBytes) return {};
    out.push_back(uint8_t(label.size()));
    out.insert(out.end(), label.begin(), label.end());
    if (dot == std::string_view::npos) break;
    name.remove_prefix(dot + 1);
    if (name.empty()) return {};  // "a..": an empty label
  }
  out.push_back(0);
  out.insert(out.end(), {uint8_t(qtype >> 8), uint8_t(qtype), 0, kClassIn});
  if (edns_udp_bytes) {
    out.insert(out.end(), {0, 0, kTypeOpt, uint8_t(edns_udp_bytes >> 8), uint8_t(edns_udp_bytes), 0,
                           0, 0, 0, 0, 0});
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// DnsMessageWriter

DnsMessageWriter::DnsMessageWriter(std::span<uint8_t> buffer, size_t limit)
    : buf_(buffer), limit_(std::min(limit, buffer.size())) {}

void DnsMessageWriter::Start(uint16_t id, uint16_t flags, std::span<const uint8_t> qname_wire,
                             uint16_t qtype, uint16_t qclass) {
  StartHeaderOnly(id, flags);
  Patch16(4, 1);
  size_t qname_at = len_;
  // Every label start of the question name is a compression target: most answers repeat it.
  size_t labels[128];
  size_t n = 0;
  for (size_t p = 0; p < qname_wire.size() && qname_wire[p] != 0 && n < 128;
       p += 1 + qname_wire[p]) {
    labels[n++] = p;
  }
  PutBytes(qname_wire.data(), qname_wire.size());
  size_t text_len = qname_wire.size() >= 2 ? qname_wire.size() - 2 : 0;  // dots replace lengths
  for (size_t k = 0; k < n; ++k) {
    Remember(qname_at + labels[k], text_len - labels[k]);
  }
  Put16(qtype);
  Put16(qclass);
  question_end_ = len_;
  record_start_ = len_;
}

void DnsMessageWriter::StartHeaderOnly(uint16_t id, uint16_t flags) {
  len_ = 0;
  entry_count_ = 0;
  overflowed_ = false;
  section_ = Section::kAnswer;
  counts_[0] = counts_[1] = counts_[2] = 0;
  Put16(id);
  Put16(flags);
  for (int i = 0; i < 4; ++i) Put16(0);
  question_end_ = len_;
}

void DnsMessageWriter::SetRcode(uint8_t rcode) {
  if (buf_.size() < 4) return;
  buf_[3] = uint8_t((buf_[3] & 0xF0) | (rcode & 0x0F));
}

void DnsMessageWriter::SetFlag(uint16_t flag) {
  uint16_t flags = uint16_t(buf_[2] << 8 | buf_[3]) | flag;
  Patch16(2, flags);
}

void DnsMessageWriter::BeginSection(Section section) {
  if (section > section_) section_ = section;
}

void DnsMessageWriter::Patch16(size_t offset, uint16_t v) {
  buf_[offset] = uint8_t(v >> 8);
  buf_[offset + 1] = uint8_t(v);
}

bool DnsMessageWriter::Put8(uint8_t v) { return PutBytes(&v, 1); }
bool DnsMessageWriter::Put16(uint16_t v) {
  uint8_t b[2] = {uint8_t(v >> 8), uint8_t(v)};
  return PutBytes(b, 2);
}
bool DnsMessageWriter::Put32(uint32_t v) {
  uint8_t b[4] = {uint8_t(v >> 24), uint8_t(v >> 16), uint8_t(v >> 8), uint8_t(v)};
  return PutBytes(b, 4);
}
bool DnsMessageWriter::PutBytes(const void* data, size_t n) {
  if (len_ + n > limit_) return false;
  std::memcpy(buf_.data() + len_, data, n);
  len_ += n;
  return true;
}

void DnsMessageWriter::Remember(size_t offset, size_t text_len) {
  if (entry_count_ < kMaxEntries && offset < 0x4000) {
    entries_[entry_count_++] = Entry{uint16_t(offset), uint16_t(text_len)};
  }
}

bool DnsMessageWriter::WireNameEquals(size_t offset, std::string_view dotted) const {
  size_t pos = offset;
  for (int guard = 0; guard < 128; ++guard) {
    uint8_t len = buf_[pos];
    if ((len & 0xC0) == 0xC0) {
      pos = size_t(len & 0x3F) << 8 | buf_[pos + 1];
      continue;
    }
    if (len == 0) return dotted.empty();
    size_t dot = dotted.find('.');
    std::string_view label = dotted.substr(0, dot);
    if (label.size() != len) return false;
    for (size_t i = 0; i < len; ++i) {
      if (absl::ascii_tolower(buf_[pos + 1 + i]) != absl::ascii_tolower(uint8_t(label[i]))) {
        return false;
      }
    }
    dotted = dot == std::string_view::npos ? std::string_view() : dotted.substr(dot + 1);
    pos += 1 + len;
  }
  return false;
}

bool DnsMessageWriter::PutName(std::string_view dotted) {
  if (!dotted.empty() && dotted.back() == '.') dotted.remove_suffix(1);
  if (dotted.empty()) return Put8(0);
  size_t starts[128];
  size_t n = 0;
  size_t wire = 1;
  for (size_t p = 0;;) {
    size_t dot = dotted.find('.', p);
    size_t end = dot == std::string_view::npos ? dotted.size() : dot;
    size_t len = end - p;
    if (len == 0 || len > 63 || n == 128) return false;
    wire += 1 + len;
    starts[n++] = p;
    if (dot == std::string_view::npos) break;
    p = dot + 1;
  }
  if (wire > kMaxNameWireBytes) return false;

  size_t literal = n;
  size_t pointer = 0;
  for (size_t j = 0; j < n && literal == n; ++j) {
    std::string_view suffix = dotted.substr(starts[j]);
    for (size_t e = 0; e < entry_count_; ++e) {
      if (entries_[e].text_len == suffix.size() && WireNameEquals(entries_[e].offset, suffix)) {
        literal = j;
        pointer = entries_[e].offset;
        break;
      }
    }
  }
  for (size_t k = 0; k < literal; ++k) {
    size_t end = k + 1 < n ? starts[k + 1] - 1 : dotted.size();
    Remember(len_, dotted.size() - starts[k]);
    if (!Put8(uint8_t(end - starts[k])) || !PutBytes(dotted.data() + starts[k], end - starts[k])) {
      return false;
    }
  }
  return literal < n ? Put16(uint16_t(0xC000 | pointer)) : Put8(0);
}

bool DnsMessageWriter::BeginRecord(std::string_view owner, uint16_t type, uint16_t klass,
                                   uint32_t ttl) {
  record_start_ = len_;
  entries_at_record_start_ = entry_count_;
  if (overflowed_) return false;
  if (PutName(owner) && Put16(type) && Put16(klass) && Put32(ttl) && Put16(0)) {
    rdata_start_ = len_;
    return true;
  }
  EndRecord(false);
  return false;
}

void DnsMessageWriter::EndRecord(bool ok) {
  if (!ok) {
    len_ = record_start_;
    entry_count_ = entries_at_record_start_;
    overflowed_ = true;
    return;
  }
  Patch16(rdata_start_ - 2, uint16_t(len_ - rdata_start_));
  size_t s = size_t(section_);
  ++counts_[s];
  Patch16(6 + 2 * s, counts_[s]);
}

void DnsMessageWriter::AddA(std::string_view owner, const std::array<uint8_t, 4>& ip,
                            uint32_t ttl) {
  if (!BeginRecord(owner, kTypeA, kClassIn, ttl)) return;
  EndRecord(PutBytes(ip.data(), 4));
}

void DnsMessageWriter::AddAaaa(std::string_view owner, const std::array<uint8_t, 16>& ip,
                               uint32_t ttl) {
  if (!BeginRecord(owner, kTypeAaaa, kClassIn, ttl)) return;
  EndRecord(PutBytes(ip.data(), 16));
}

void DnsMessageWriter::AddMx(std::string_view owner, uint16_t preference, std::string_view exchange,
                             uint32_t ttl) {
  if (!BeginRecord(owner, kTypeMx, kClassIn, ttl)) return;
  EndRecord(Put16(preference) && PutName(exchange));
}

void DnsMessageWriter::AddCname(std::string_view owner, std::string_view target, uint32_t ttl) {
  if (!BeginRecord(owner, kTypeCname, kClassIn, ttl)) return;
  EndRecord(PutName(target));
}

void DnsMessageWriter::AddPtr(std::string_view owner, std::string_view target, uint32_t ttl) {
  if (!BeginRecord(owner, kTypePtr, kClassIn, ttl)) return;
  EndRecord(PutName(target));
}

void DnsMessageWriter::AddTxt(std::string_view owner, std::string_view text, uint32_t ttl) {
  if (!BeginRecord(owner, kTypeTxt, kClassIn, ttl)) return;
  bool ok = true;
  do {  // character-strings of at most 255 bytes; an empty text is one empty string
    size_t n = std::min<size_t>(text.size(), 255);
    ok = ok && Put8(uint8_t(n)) && PutBytes(text.data(), n);
    text.remove_prefix(n);
  } while (ok && !text.empty());
  EndRecord(ok);
}

void DnsMessageWriter::AddSoa(std::string_view owner, std::string_view mname,
                              std::string_view rname, uint32_t serial, uint32_t refresh,
                              uint32_t retry, uint32_t expire, uint32_t minimum, uint32_t ttl) {
  if (!BeginRecord(owner, kTypeSoa, kClassIn, ttl)) return;
  EndRecord(PutName(mname) && PutName(rname) && Put32(serial) && Put32(refresh) && Put32(retry) &&
            Put32(expire) && Put32(minimum));
}

void DnsMessageWriter::AddOpt(uint16_t udp_bytes) {
  BeginSection(Section::kAdditional);
  if (!BeginRecord("", kTypeOpt, udp_bytes, 0)) return;
  EndRecord(true);
}

void DnsMessageWriter::ResetToQuestion() {
  len_ = question_end_;
  record_start_ = len_;
  // Entries of the question come first; anything later pointed past the question.
  size_t keep = 0;
  while (keep < entry_count_ && entries_[keep].offset < question_end_) ++keep;
  entry_count_ = keep;
  counts_[0] = counts_[1] = counts_[2] = 0;
  for (size_t s = 0; s < 3; ++s) Patch16(6 + 2 * s, 0);
  section_ = Section::kAnswer;
  overflowed_ = false;
}

void DnsMessageWriter::WriteMalformed(Malformation kind) {
  ResetToQuestion();
  // Room for the largest variant is guaranteed by any limit >= 512.
  limit_ = std::max(limit_, std::min<size_t>(buf_.size(), 512));
  const size_t owner_at = len_;
  constexpr uint16_t kQnamePointer = 0xC000 | kDnsHeaderBytes;
  switch (kind) {
    case Malformation::kTruncated: {
      static constexpr char kExchange[] = "\3mx1\012provider-0\4test";  // + root byte
      Put16(kQnamePointer);
      Put16(kTypeMx);
      Put16(kClassIn);
      Put32(300);
      Put16(uint16_t(2 + sizeof(kExchange)));
      Put16(10);
      PutBytes(kExchange, sizeof(kExchange));  // sizeof counts the NUL: the root label
      len_ -= 8;                               // cut inside "provider-0"
      break;
    }
    case Malformation::kPointerLoop: {
      // owner(2) type(2) class(2) ttl(4) rdlength(2) preference(2), then the exchange.
      const size_t exchange_at = owner_at + 14;
      Put16(uint16_t(0xC000 | exchange_at));
      Put16(kTypeMx);
      Put16(kClassIn);
      Put32(300);
      Put16(4);
      Put16(10);
      Put16(uint16_t(0xC000 | owner_at));
      break;
    }
    case Malformation::kPointerRange:
      Put16(kQnamePointer);
      Put16(kTypeMx);
      Put16(kClassIn);
      Put32(300);
      Put16(4);
      Put16(10);
      Put16(0xC000 | 0x3FFF);
      break;
    case Malformation::kGarbage: {
      uint32_t x = uint32_t(buf_[0] << 8 | buf_[1]) * 2654435761u + 1;
      Put8(0x80);  // label type 10: reserved, so no parser can take it for a name
      for (int i = 0; i < 31; ++i) {
        x = x * 1103515245u + 12345u;
        Put8(uint8_t(x >> 16));
      }
      break;
    }
  }
  counts_[0] = 1;
  Patch16(6, 1);
}

// ---------------------------------------------------------------------------------------------
// ParseMessage

namespace {

absl::Status ParseRecord(std::span<const uint8_t> msg, size_t* offset, DnsRecord* rr) {
  if (!ReadName(msg, offset, &rr->name)) return absl::DataLossError("bad owner name");
  if (*offset + 10 > msg.size()) return absl::DataLossError("record header past the end");
  const uint8_t* p = msg.data() + *offset;
  rr->type = Read16(p);
  rr->klass = Read16(p + 2);
  rr->ttl = Read32(p + 4);
  size_t rdlength = Read16(p + 8);
  size_t rdata = *offset + 10;
  size_t end = rdata + rdlength;
  if (end > msg.size()) return absl::DataLossError("rdata past the end");
  rr->rdata.assign(msg.begin() + rdata, msg.begin() + end);
  *offset = end;
  char text[INET6_ADDRSTRLEN];
  size_t at = rdata;
  switch (rr->type) {
    case kTypeA:
      if (rdlength != 4) return absl::DataLossError("A rdata is not 4 bytes");
      inet_ntop(AF_INET, msg.data() + rdata, text, sizeof(text));
      rr->address = text;
      return absl::OkStatus();
    case kTypeAaaa:
      if (rdlength != 16) return absl::DataLossError("AAAA rdata is not 16 bytes");
      inet_ntop(AF_INET6, msg.data() + rdata, text, sizeof(text));
      rr->address = text;
      return absl::OkStatus();
    case kTypeMx:
      if (rdlength < 3) return absl::DataLossError("MX rdata too short");
      rr->preference = Read16(msg.data() + rdata);
      at += 2;
      [[fallthrough]];
    case kTypeCname:
    case kTypeNs:
    case kTypePtr:
      if (!ReadName(msg, &at, &rr->target) || at != end) {
        return absl::DataLossError(absl::StrCat("bad name in ", TypeName(rr->type), " rdata"));
      }
      return absl::OkStatus();
    case kTypeSoa: {
      std::string rname;
      if (!ReadName(msg, &at, &rr->target) || !ReadName(msg, &at, &rname) || at + 20 != end) {
        return absl::DataLossError("bad SOA rdata");
      }
      return absl::OkStatus();
    }
    case kTypeTxt:
      while (at < end) {
        size_t n = msg[at];
        if (at + 1 + n > end) return absl::DataLossError("TXT string past its rdata");
        rr->texts.emplace_back(reinterpret_cast<const char*>(msg.data() + at + 1), n);
        at += 1 + n;
      }
      return absl::OkStatus();
    default:
      return absl::OkStatus();
  }
}

}  // namespace

absl::StatusOr<DnsMessage> ParseMessage(std::span<const uint8_t> msg) {
  if (msg.size() < kDnsHeaderBytes) return absl::DataLossError("shorter than a header");
  DnsMessage m;
  m.id = Read16(msg.data());
  m.flags = Read16(msg.data() + 2);
  m.rcode = m.flags & 0xF;
  uint16_t counts[4];
  for (int i = 0; i < 4; ++i) counts[i] = Read16(msg.data() + 4 + 2 * i);
  size_t offset = kDnsHeaderBytes;
  for (uint16_t i = 0; i < counts[0]; ++i) {
    DnsQuestion q;
    if (!ReadName(msg, &offset, &q.name)) return absl::DataLossError("bad question name");
    if (offset + 4 > msg.size()) return absl::DataLossError("question past the end");
    q.type = Read16(msg.data() + offset);
    q.klass = Read16(msg.data() + offset + 2);
    offset += 4;
    m.questions.push_back(std::move(q));
  }
  std::vector<DnsRecord>* sections[3] = {&m.answers, &m.authority, &m.additional};
  for (int s = 0; s < 3; ++s) {
    for (uint16_t i = 0; i < counts[s + 1]; ++i) {
      DnsRecord rr;
      absl::Status status = ParseRecord(msg, &offset, &rr);
      if (!status.ok()) return status;
      sections[s]->push_back(std::move(rr));
    }
  }
  if (offset != msg.size()) return absl::DataLossError("trailing bytes after the last record");
  return m;
}

std::string TypeName(uint16_t type) {
  switch (type) {
    case kTypeA:
      return "A";
    case kTypeNs:
      return "NS";
    case kTypeCname:
      return "CNAME";
    case kTypeSoa:
      return "SOA";
    case kTypePtr:
      return "PTR";
    case kTypeMx:
      return "MX";
    case kTypeTxt:
      return "TXT";
    case kTypeAaaa:
      return "AAAA";
    case kTypeOpt:
      return "OPT";
    default:
      return absl::StrCat("TYPE", type);
  }
}

}  // namespace mxray::fleet
