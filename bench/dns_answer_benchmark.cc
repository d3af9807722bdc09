// Cost of interpreting DNS answers and normalizing input lines: the per-domain CPU of the DNS path.
#include <benchmark/benchmark.h>

#include <array>
#include <vector>

#include "engine/domain_input.h"
#include "io/dns_answer.h"
#include "tools/fleet/dns_wire.h"

namespace mxray {
namespace {

std::vector<uint8_t> Answer(std::string_view qname, uint16_t qtype, auto&& fill) {
  std::vector<uint8_t> q = fleet::BuildQuery(1, qname, qtype);
  size_t off = 12;
  std::array<uint8_t, fleet::kMaxNameWireBytes> wire;
  size_t wire_len = 0;
  fleet::ReadNameWire(q, &off, &wire, &wire_len);
  std::vector<uint8_t> buf(4096);
  fleet::DnsMessageWriter w(buf, buf.size());
  w.Start(1, fleet::kFlagQr | fleet::kFlagRd | fleet::kFlagRa, {wire.data(), wire_len}, qtype,
          fleet::kClassIn);
  fill(w);
  return {w.message().begin(), w.message().end()};
}

void BM_InterpretMx(benchmark::State& state) {
  auto msg = Answer("example.test", fleet::kTypeMx, [](fleet::DnsMessageWriter& w) {
    w.AddMx("example.test", 10, "mx1.provider-3.test", 300);
    w.AddMx("example.test", 20, "mx2.provider-3.test", 300);
  });
  for (auto _ : state) {
    io::MxAnswer a;
    benchmark::DoNotOptimize(io::InterpretMx(msg, "example.test", {}, &a));
  }
}
BENCHMARK(BM_InterpretMx);

void BM_InterpretAddressThroughCname(benchmark::State& state) {
  auto msg = Answer("mx.example.test", fleet::kTypeA, [](fleet::DnsMessageWriter& w) {
    w.AddCname("mx.example.test", "mx1.provider-3.test", 300);
    w.AddA("mx1.provider-3.test", {127, 1, 0, 10}, 300);
  });
  for (auto _ : state) {
    io::AddressAnswer a;
    benchmark::DoNotOptimize(io::InterpretAddress(msg, "mx.example.test", io::DnsType::kA, {}, &a));
  }
}
BENCHMARK(BM_InterpretAddressThroughCname);

void BM_NormalizeAscii(benchmark::State& state) {
  for (auto _ : state) benchmark::DoNotOptimize(engine::NormalizeDomain("Mail.Example-Shop.TEST."));
}
BENCHMARK(BM_NormalizeAscii);

void BM_NormalizeIdn(benchmark::State& state) {
  for (auto _ : state) benchmark::DoNotOptimize(engine::NormalizeDomain("bücher.example.test"));
}
BENCHMARK(BM_NormalizeIdn);

}  // namespace
}  // namespace mxray

BENCHMARK_MAIN();
