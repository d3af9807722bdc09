// Cost of turning one DomainRecord into its JSON line: it runs once per domain, 50k+ times a
// second at full speed, so it must stay far below the per-domain budget of ~20 us.
#include <string>

#include "benchmark/benchmark.h"
#include "engine/domain_record.h"
#include "io/ip_address.h"
#include "report/jsonl_writer.h"
#include "report/safe_json_writer.h"

namespace mxray::report {
namespace {

engine::ExchangeRecord Exchange(uint16_t preference, const char* name, const char* v4,
                                const char* v6) {
  engine::ExchangeRecord x;
  x.preference = preference;
  x.exchange = name;
  x.status = engine::ExchangeStatus::kOk;
  x.a_status = io::DnsStatus::kOk;
  x.aaaa_status = io::DnsStatus::kOk;
  x.addresses.push_back({*io::IpAddress::Parse(v4)});
  x.addresses.push_back({*io::IpAddress::Parse(v6)});
  return x;
}

// A typical ok domain: two exchanges with one IPv4 and one IPv6 address each.
engine::DomainRecord TypicalRecord() {
  engine::DomainRecord r;
  r.input = "Example-Shop.co.uk";
  r.domain = "example-shop.co.uk";
  r.status = engine::DomainStatus::kOk;
  r.mx_source = engine::MxSource::kMx;
  r.mx_status = io::DnsStatus::kOk;
  r.mx.push_back(Exchange(10, "mx1.mail-provider.example.net", "198.51.100.17", "2001:db8:10::17"));
  r.mx.push_back(
      Exchange(20, "mx2.mail-provider.example.net", "203.0.113.200", "2001:db8:20::a:1"));
  r.elapsed_ms = 187;
  return r;
}

void BM_JsonLine(benchmark::State& state) {
  const engine::DomainRecord record = TypicalRecord();
  JsonlWriter writer;
  size_t bytes = 0;
  for (auto _ : state) {
    std::string_view line = writer.Format(record);
    benchmark::DoNotOptimize(line.data());
    bytes += line.size();
  }
  state.SetBytesProcessed(static_cast<int64_t>(bytes));
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_JsonLine);

// The same record with hostile bytes in every string: the slow path of the escaper.
void BM_JsonLineHostileStrings(benchmark::State& state) {
  engine::DomainRecord record = TypicalRecord();
  record.input =
      "Ex\x1b[1m\xff"
      "ample\r\n\xc3\xa9-shop.co.uk\x01";
  for (auto& x : record.mx) x.exchange += "\xe2\x80\xa8\xc2\x9b\xf0\x9f\x93\xa7\x80";
  JsonlWriter writer;
  for (auto _ : state) {
    std::string_view line = writer.Format(record);
    benchmark::DoNotOptimize(line.data());
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_JsonLineHostileStrings);

}  // namespace
}  // namespace mxray::report

BENCHMARK_MAIN();
