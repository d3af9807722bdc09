// JSON layout of a DomainRecord, one small function per nested object so that later fields
// (ports, tls, dnsbl, ptr on addresses; findings on the domain) each slot into one place.
// Fields that may be absent are written only when meaningful; docs/output.md lists them all.
#include "report/jsonl_writer.h"

#include <arpa/inet.h>

#include <optional>
#include <vector>

#include "report/port_json.h"

namespace mxray::report {
namespace {

using engine::AddressRecord;
using engine::DomainRecord;
using engine::DomainStatus;
using engine::ExchangeRecord;

// Longest text of either family: IPv4 "255.255.255.255", IPv6 with an embedded IPv4 tail.
constexpr size_t kIpTextBytesMax = INET6_ADDRSTRLEN;

// IPv4 by hand: inet_ntop goes through sprintf, and every line has several addresses.
size_t FormatIpv4(const uint8_t* bytes, char* out) {
  char* p = out;
  for (int i = 0; i < 4; ++i) {
    if (i != 0) *p++ = '.';
    const unsigned v = bytes[i];
    if (v >= 100) *p++ = static_cast<char>('0' + v / 100);
    if (v >= 10) *p++ = static_cast<char>('0' + v / 10 % 10);
    *p++ = static_cast<char>('0' + v % 10);
  }
  return static_cast<size_t>(p - out);
}

// Same text as IpAddress::ToString() without building a std::string.
void WriteIp(const io::IpAddress& ip, SafeJsonWriter* w) {
  char text[kIpTextBytesMax];
  size_t length = 0;
  if (ip.is_v4()) {
    length = FormatIpv4(ip.bytes(), text);
  } else if (inet_ntop(AF_INET6, ip.bytes(), text, sizeof(text)) != nullptr) {
    length = std::char_traits<char>::length(text);
  }
  w->PlainString(std::string_view(text, length));
}

// Domain names arrive without the trailing dot, so the root (a null MX target) is "": print it
// the way DNS presentation format does.
void WriteHostName(std::string_view name, SafeJsonWriter* w) {
  if (name.empty()) {
    w->PlainString(".");
  } else {
    w->SafeString(name);
  }
}

// One member of a "dns" object; nothing when the lookup was not made.
void WriteDnsStatus(std::string_view key, const std::optional<io::DnsStatus>& status,
                    SafeJsonWriter* w) {
  if (!status.has_value()) return;
  w->SafeString(key);
  w->PlainString(io::DnsStatusName(*status));
}

void WriteReputation(const engine::ReputationRecord& r, SafeJsonWriter* w) {
  if (r.ptr_status) {
    w->KeyLiteral("ptr");
    w->SafeStringArray(r.ptr);
    if (*r.ptr_status != io::DnsStatus::kOk) {
      w->KeyLiteral("ptr_status");
      w->PlainString(io::DnsStatusName(*r.ptr_status));
    }
    w->KeyLiteral("fcrdns");
    w->Bool(r.fcrdns);
  }
  if (r.dnsbl.empty()) return;
  w->KeyLiteral("dnsbl");
  w->StartArray();
  for (const engine::DnsblResult& d : r.dnsbl) {
    w->StartObject();
    w->KeyLiteral("zone");
    w->SafeString(d.zone->zone);
    w->KeyLiteral("status");
    w->PlainString(engine::DnsblStatusName(d.verdict.status));
    if (!d.verdict.codes.empty()) {
      w->KeyLiteral("codes");
      w->SafeStringArray(d.verdict.codes);
    }
    if (d.verdict.status == engine::DnsblStatus::kListed) {
      w->KeyLiteral("lists");
      w->StartArray();
      for (std::string_view l : d.verdict.lists) w->PlainString(l);
      w->EndArray();
      w->KeyLiteral("meaning");
      w->StartArray();
      for (std::string_view m : d.verdict.meanings) w->PlainString(m);
      w->EndArray();
    }
    if (!d.verdict.reason.empty()) {
      w->KeyLiteral("reason");
      w->SafeString(d.verdict.reason);
    }
    if (!d.txt.empty()) {
      w->KeyLiteral("txt");
      w->SafeStringArray(d.txt);
    }
    w->EndObject();
  }
  w->EndArray();
}

void WriteAddress(const AddressRecord& address, SafeJsonWriter* w) {
  w->StartObject();
  w->KeyLiteral("ip");
  WriteIp(address.ip, w);
  if (address.reputation) WriteReputation(*address.reputation, w);
  if (address.ptr_matches_mx) {
    w->KeyLiteral("ptr_matches_mx");
    w->Bool(*address.ptr_matches_mx);
  }
  if (address.ptr_matches_greeting) {
    w->KeyLiteral("ptr_matches_greeting");
    w->Bool(*address.ptr_matches_greeting);
  }
  if (!address.ports.empty()) {
    w->KeyLiteral("ports");
    w->StartArray();
    for (size_t i = 0; i < address.ports.size(); ++i) {
      const engine::CertificateVerdict* verdict =
          i < address.verdicts.size() ? &address.verdicts[i] : nullptr;
      if (address.ports[i]) WritePort(*address.ports[i], verdict, w);
    }
    w->EndArray();
  }
  w->EndObject();
}

void WriteExchange(const ExchangeRecord& exchange, SafeJsonWriter* w) {
  w->StartObject();
  w->KeyLiteral("preference");
  w->Uint(exchange.preference);
  w->KeyLiteral("exchange");
  WriteHostName(exchange.exchange, w);
  w->KeyLiteral("status");
  w->PlainString(engine::ExchangeStatusName(exchange.status));
  if (!exchange.cname.empty()) {
    w->KeyLiteral("cname");
    w->SafeStringArray(exchange.cname);
  }
  w->KeyLiteral("dns");
  w->StartObject();
  WriteDnsStatus("a", exchange.a_status, w);
  WriteDnsStatus("aaaa", exchange.aaaa_status, w);
  w->EndObject();
  if (exchange.addresses_truncated) {
    w->KeyLiteral("addresses_truncated");
    w->Bool(true);
  }
  w->KeyLiteral("addresses");
  w->StartArray();
  for (const AddressRecord& address : exchange.addresses) WriteAddress(address, w);
  w->EndArray();
  w->EndObject();
}

// Always present (possibly empty), so that `.findings[]` works on every line.
void WriteFindings(const DomainRecord& record, SafeJsonWriter* w) {
  w->KeyLiteral("findings");
  w->StartArray();
  for (const engine::Finding& f : record.findings) {
    w->StartObject();
    w->KeyLiteral("id");
    w->PlainString(f.id);
    w->KeyLiteral("severity");
    w->PlainString(f.severity);
    w->KeyLiteral("where");
    w->StartObject();
    if (f.exchange < record.mx.size()) {
      const ExchangeRecord& exchange = record.mx[f.exchange];
      w->KeyLiteral("exchange");
      WriteHostName(exchange.exchange, w);
      if (f.address < exchange.addresses.size()) {
        w->KeyLiteral("address");
        WriteIp(exchange.addresses[f.address].ip, w);
      }
    }
    if (f.port != 0) {
      w->KeyLiteral("port");
      w->Uint(f.port);
    }
    w->EndObject();
    w->EndObject();
  }
  w->EndArray();
}

void WriteDomain(const DomainRecord& record, SafeJsonWriter* w) {
  const bool invalid = record.status == DomainStatus::kInvalidInput;
  w->StartObject();
  w->KeyLiteral("domain");
  // null rather than "" so that `select(.domain)` and joins on the name skip invalid lines.
  if (invalid) {
    w->Null();
  } else {
    w->SafeString(record.domain);
  }
  w->KeyLiteral("input");
  w->SafeString(record.input);
  w->KeyLiteral("status");
  w->PlainString(engine::DomainStatusName(record.status));
  // Written whenever set, not only for invalid_input: the schema then catches an engine that
  // reports an error the contract does not have, instead of the writer hiding it.
  if (invalid || !record.error.empty()) {
    w->KeyLiteral("error");
    w->SafeString(record.error);
  }
  w->KeyLiteral("mx_source");
  w->PlainString(engine::MxSourceName(record.mx_source));
  if (!record.mx_cname.empty()) {
    w->KeyLiteral("cname");
    w->SafeStringArray(record.mx_cname);
  }
  w->KeyLiteral("dns");
  w->StartObject();
  WriteDnsStatus("mx", record.mx_status, w);
  WriteDnsStatus("a", record.a_status, w);
  WriteDnsStatus("aaaa", record.aaaa_status, w);
  w->EndObject();
  if (record.mx_truncated) {
    w->KeyLiteral("mx_truncated");
    w->Bool(true);
  }
  w->KeyLiteral("mx");
  w->StartArray();
  for (const ExchangeRecord& exchange : record.mx) WriteExchange(exchange, w);
  w->EndArray();
  WriteFindings(record, w);
  w->KeyLiteral("elapsed_ms");
  w->Uint64(record.elapsed_ms);
  w->EndObject();
}

}  // namespace

JsonlWriter::JsonlWriter() : writer_(buffer_) {}

std::string_view JsonlWriter::Format(const engine::DomainRecord& record) {
  buffer_.Clear();  // keeps the capacity
  writer_.Reset(buffer_);
  WriteDomain(record, &writer_);
  buffer_.Put('\n');
  return std::string_view(buffer_.GetString(), buffer_.GetSize());
}

void JsonlWriter::Append(const engine::DomainRecord& record, std::string* out) {
  out->append(Format(record));
}

void AppendDomainJson(const engine::DomainRecord& record, std::string* out) {
  thread_local JsonlWriter writer;
  writer.Append(record, out);
}

}  // namespace mxray::report
