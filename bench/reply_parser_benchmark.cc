// Cost of parsing SMTP replies and EHLO capabilities: the per-reply CPU of every conversation,
// whole and in the small chunks a slow or hostile server delivers.
#include <benchmark/benchmark.h>

#include <algorithm>
#include <string_view>

#include "engine/ehlo_capabilities.h"
#include "engine/reply_parser.h"

namespace mxray::engine {
namespace {

constexpr std::string_view kBanner = "220 mx1.example.com ESMTP Postfix (Debian/GNU)\r\n";

constexpr std::string_view kPostfixEhlo =
    "250-mx1.example.com\r\n"
    "250-PIPELINING\r\n"
    "250-SIZE 10240000\r\n"
    "250-VRFY\r\n"
    "250-ETRN\r\n"
    "250-STARTTLS\r\n"
    "250-ENHANCEDSTATUSCODES\r\n"
    "250-8BITMIME\r\n"
    "250-DSN\r\n"
    "250 SMTPUTF8\r\n";

// Feeds `wire` in `chunk`-byte pieces into a parser reused across iterations, as a session does.
void ParseInChunks(benchmark::State& state, std::string_view wire, size_t chunk) {
  ReplyParser parser;
  for (auto _ : state) {
    parser.Reset();
    ReplyParser::Result r = ReplyParser::Result::kNeedMore;
    for (size_t off = 0; off < wire.size() && r == ReplyParser::Result::kNeedMore;) {
      const size_t n = std::min(chunk, wire.size() - off);
      size_t consumed = 0;
      r = parser.Feed(wire.substr(off, n), &consumed);
      off += consumed;
    }
    benchmark::DoNotOptimize(r);
    benchmark::DoNotOptimize(parser.reply().lines.data());
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * wire.size()));
}

void BM_ReplyParseBanner(benchmark::State& state) { ParseInChunks(state, kBanner, kBanner.size()); }
BENCHMARK(BM_ReplyParseBanner);

void BM_ReplyParseEhlo(benchmark::State& state) {
  ParseInChunks(state, kPostfixEhlo, static_cast<size_t>(state.range(0)));
}
BENCHMARK(BM_ReplyParseEhlo)->Arg(static_cast<int64_t>(kPostfixEhlo.size()))->Arg(7)->Arg(1);

// A fresh parser per reply: what reusing the line storage saves.
void BM_ReplyParseEhloFreshParser(benchmark::State& state) {
  for (auto _ : state) {
    ReplyParser parser;
    size_t consumed = 0;
    benchmark::DoNotOptimize(parser.Feed(kPostfixEhlo, &consumed));
    benchmark::DoNotOptimize(parser.reply().lines.data());
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * kPostfixEhlo.size()));
}
BENCHMARK(BM_ReplyParseEhloFreshParser);

void BM_EhloParse(benchmark::State& state) {
  ReplyParser parser;
  size_t consumed = 0;
  parser.Feed(kPostfixEhlo, &consumed);
  const SmtpReply& reply = parser.reply();
  for (auto _ : state) {
    EhloCapabilities caps = ParseEhlo(reply);
    benchmark::DoNotOptimize(caps);
  }
}
BENCHMARK(BM_EhloParse);

}  // namespace
}  // namespace mxray::engine

BENCHMARK_MAIN();
