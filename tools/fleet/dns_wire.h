// The fleet's hand-written DNS wire codec: a query parser and an answer writer for the server's hot
// path (no allocation once warm), deliberate malformations, plus a full message parser and a query
// builder for tests and tools. Independent of io/ on purpose: the fleet must be able to say things
// mxray's own codec would refuse to, and a shared bug must not hide itself.
#ifndef MXRAY_TOOLS_FLEET_DNS_WIRE_H_
#define MXRAY_TOOLS_FLEET_DNS_WIRE_H_

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"

namespace mxray::fleet {

inline constexpr uint16_t kTypeA = 1;
inline constexpr uint16_t kTypeNs = 2;
inline constexpr uint16_t kTypeCname = 5;
inline constexpr uint16_t kTypeSoa = 6;
inline constexpr uint16_t kTypePtr = 12;
inline constexpr uint16_t kTypeMx = 15;
inline constexpr uint16_t kTypeTxt = 16;
inline constexpr uint16_t kTypeAaaa = 28;
inline constexpr uint16_t kTypeOpt = 41;
inline constexpr uint16_t kClassIn = 1;

inline constexpr uint8_t kRcodeNoError = 0;
inline constexpr uint8_t kRcodeFormErr = 1;
inline constexpr uint8_t kRcodeServFail = 2;
inline constexpr uint8_t kRcodeNxDomain = 3;
inline constexpr uint8_t kRcodeNotImp = 4;
inline constexpr uint8_t kRcodeRefused = 5;

// Header flag bits (second 16-bit word).
inline constexpr uint16_t kFlagQr = 0x8000;
inline constexpr uint16_t kFlagAa = 0x0400;
inline constexpr uint16_t kFlagTc = 0x0200;
inline constexpr uint16_t kFlagRd = 0x0100;
inline constexpr uint16_t kFlagRa = 0x0080;

inline constexpr size_t kDnsHeaderBytes = 12;
inline constexpr size_t kMaxNameWireBytes = 255;
inline constexpr size_t kMaxDnsMessageBytes = 65535;
inline constexpr size_t kOptRecordBytes = 11;  // root name, type, class, ttl, rdlength 0

// Reads a possibly compressed name at *offset (advanced past it) into uncompressed wire form.
// Pointers must point strictly backwards, which rules out loops. False on any malformation.
bool ReadNameWire(std::span<const uint8_t> msg, size_t* offset,
                  std::array<uint8_t, kMaxNameWireBytes>* wire, size_t* wire_len);

// Uncompressed wire name to presentation text: dotted, no trailing dot, "" for the root.
// '.', '\\', bytes <= 0x20 and >= 0x7f come out as \DDD (the form mxray's own codec uses).
void WireNameToText(std::span<const uint8_t> wire, bool lowercase, std::string* text);

// ReadNameWire + WireNameToText.
bool ReadName(std::span<const uint8_t> msg, size_t* offset, std::string* text,
              bool lowercase = true);

// One parsed query. Reused across queries by the server so that its strings keep their capacity.
struct DnsQuery {
  uint16_t id = 0;
  uint16_t flags = 0;
  uint8_t opcode = 0;
  bool rd = false;
  std::array<uint8_t, kMaxNameWireBytes> qname_wire{};  // as received (case kept), uncompressed
  size_t qname_wire_len = 0;
  std::string qname;  // lowercase presentation text
  uint16_t qtype = 0;
  uint16_t qclass = 0;
  bool edns = false;
  uint16_t edns_udp_bytes = 0;
  uint8_t edns_version = 0;
};

enum class QueryParse : uint8_t {
  kOk,
  kIgnore,   // too short for a header, or a response: no answer at all
  kFormErr,  // a header we can answer, a body we cannot parse
  kNotImp,   // an opcode other than QUERY
};
QueryParse ParseQuery(std::span<const uint8_t> msg, DnsQuery* query);

// A query as a stub resolver sends it; `name` is dotted raw label bytes. Empty on a bad name.
std::vector<uint8_t> BuildQuery(uint16_t id, std::string_view name, uint16_t qtype,
                                uint16_t edns_udp_bytes = 0, bool rd = true);

// Ways the writer can break an answer on purpose. Each keeps the header id and the question
// intact, so that the client takes the message as the reply to its query and must reject the
// records themselves.
enum class Malformation : uint8_t {
  kTruncated,     // the packet ends in the middle of the MX record's rdata
  kPointerLoop,   // owner and exchange are compression pointers to each other
  kPointerRange,  // the exchange is a compression pointer beyond the end of the message
  kGarbage,       // ANCOUNT 1 followed by bytes that start with a reserved label type
};

// Writes a response into a caller-owned buffer. Names are given as dotted raw label bytes (no
// escaping: a label may hold spaces or '!'); they are compressed against names already written.
// A record that would pass `limit` is not written and sets overflowed(); so does a bad name.
class DnsMessageWriter {
 public:
  enum class Section : uint8_t { kAnswer, kAuthority, kAdditional };

  DnsMessageWriter(std::span<uint8_t> buffer, size_t limit);

  // Header (all counts 0 but QDCOUNT) and the question, its name copied as received.
  void Start(uint16_t id, uint16_t flags, std::span<const uint8_t> qname_wire, uint16_t qtype,
             uint16_t qclass);
  // Header only, no question: for FORMERR/NOTIMP replies to queries we could not parse.
  void StartHeaderOnly(uint16_t id, uint16_t flags);

  void set_limit(size_t limit) { limit_ = limit; }
  void SetRcode(uint8_t rcode);
  void SetFlag(uint16_t flag);
  // Sections only move forward; records are appended to the current one.
  void BeginSection(Section section);

  void AddA(std::string_view owner, const std::array<uint8_t, 4>& ip, uint32_t ttl);
  void AddAaaa(std::string_view owner, const std::array<uint8_t, 16>& ip, uint32_t ttl);
  void AddMx(std::string_view owner, uint16_t preference, std::string_view exchange, uint32_t ttl);
  void AddCname(std::string_view owner, std::string_view target, uint32_t ttl);
  void AddPtr(std::string_view owner, std::string_view target, uint32_t ttl);
  void AddTxt(std::string_view owner, std::string_view text, uint32_t ttl);
  void AddSoa(std::string_view owner, std::string_view mname, std::string_view rname,
              uint32_t serial, uint32_t refresh, uint32_t retry, uint32_t expire, uint32_t minimum,
              uint32_t ttl);
  void AddOpt(uint16_t udp_bytes);

  // Drops every record (keeps header flags and the question); clears overflowed().
  void ResetToQuestion();
  // Replaces the records with one broken answer (see Malformation).
  void WriteMalformed(Malformation kind);

  bool overflowed() const { return overflowed_; }
  uint16_t answer_count() const { return counts_[0]; }
  size_t size() const { return len_; }
  std::span<const uint8_t> message() const { return {buf_.data(), len_}; }

 private:
  struct Entry {
    uint16_t offset;    // where a name (suffix) starts in the message
    uint16_t text_len;  // length of its dotted form, to reject most candidates at once
  };
  static constexpr size_t kMaxEntries = 64;

  bool Put8(uint8_t v);
  bool Put16(uint16_t v);
  bool Put32(uint32_t v);
  bool PutBytes(const void* data, size_t n);
  bool PutName(std::string_view dotted);
  bool WireNameEquals(size_t offset, std::string_view dotted) const;
  void Remember(size_t offset, size_t text_len);
  // Starts a record: owner, type, class, ttl and a placeholder rdlength. Returns false when it
  // does not fit (the message is rolled back to `record_start_`).
  bool BeginRecord(std::string_view owner, uint16_t type, uint16_t klass, uint32_t ttl);
  void EndRecord(bool ok);
  void Patch16(size_t offset, uint16_t v);

  std::span<uint8_t> buf_;
  size_t limit_;
  size_t len_ = 0;
  size_t question_end_ = 0;
  size_t record_start_ = 0;
  size_t rdata_start_ = 0;
  size_t entry_count_ = 0;
  size_t entries_at_record_start_ = 0;
  Section section_ = Section::kAnswer;
  uint16_t counts_[3] = {0, 0, 0};
  bool overflowed_ = false;
  std::array<Entry, kMaxEntries> entries_{};
};

// A fully decoded message, for tests and tools (allocates; not for the hot path).
struct DnsRecord {
  std::string name;  // lowercase presentation
  uint16_t type = 0;
  uint16_t klass = 0;
  uint32_t ttl = 0;
  std::vector<uint8_t> rdata;      // raw, as on the wire (names in it may be compressed)
  uint16_t preference = 0;         // MX
  std::string target;              // MX exchange, CNAME/NS/PTR target, SOA mname
  std::string address;             // A/AAAA as text
  std::vector<std::string> texts;  // TXT character-strings
};
struct DnsQuestion {
  std::string name;
  uint16_t type = 0;
  uint16_t klass = 0;
};
struct DnsMessage {
  uint16_t id = 0;
  uint16_t flags = 0;
  uint8_t rcode = 0;
  bool truncated() const { return (flags & kFlagTc) != 0; }
  std::vector<DnsQuestion> questions;
  std::vector<DnsRecord> answers;
  std::vector<DnsRecord> authority;
  std::vector<DnsRecord> additional;
};
absl::StatusOr<DnsMessage> ParseMessage(std::span<const uint8_t> msg);

// Type number to "MX", "AAAA"...; "TYPE<n>" for others.
std::string TypeName(uint16_t type);

}  // namespace mxray::fleet

#endif  // MXRAY_TOOLS_FLEET_DNS_WIRE_H_
