// Cost of one TLS probe's cryptography without sockets: a full client handshake against a
// BoringSSL server in memory (both sides' CPU; the server is the fleet's), the client's share of
// it alone, the facts extracted after it and the chain verification alone, plus the client's
// heap at the peak of a handshake (the budget is 48 KiB per probe in handshake).
//
// Every combination of the leaf's key (what the server signs with, the client verifies once)
// and the test CA's keys (FleetOptions::rsa_ca: what the client verifies the chain with). The
// client's context is made afresh for each handshake timed, as each run of mxray makes one: its
// cache of chain verdicts (tls/verify_cache.h) starts empty. The `_no_handshake_verify` variant
// shows what the client would save if BoringSSL did not verify the chain inside the handshake
// too (it does, even with SSL_VERIFY_NONE, before mxray's own verification in Facts()): an
// experiment, not what mxray does.
#include <benchmark/benchmark.h>
#include <malloc.h>
#include <openssl/bio.h>
#include <openssl/ssl.h>
#include <time.h>
#include <unistd.h>

#include <cstdio>
#include <memory>
#include <string>

#include "tls/chain_verifier.h"
#include "tls/client_context.h"
#include "tls/tls_client.h"
#include "tools/fleet/test_ca.h"

namespace mxray::tls {
namespace {

using fleet::TestKeyType;

struct Setup {
  std::unique_ptr<fleet::TestCa> ca;
  std::string ca_file;
  std::unique_ptr<ClientContext> client;  // shared: its verdict cache fills up
  bssl::UniquePtr<SSL_CTX> rsa_server, ec_server;

  // The fleet's CA with ECDSA (default) or RSA-2048 root and intermediate keys.
  static Setup& Get(bool rsa_ca) {
    // Destroyed at exit, which removes the CA file.
    static std::unique_ptr<Setup> setups[2];
    std::unique_ptr<Setup>& s = setups[rsa_ca];
    if (s != nullptr) return *s;
    s = std::make_unique<Setup>();
    s->ca =
        std::move(*fleet::TestCa::Create(rsa_ca ? TestKeyType::kRsa2048 : TestKeyType::kEcdsaP256));
    // Kept for the process's life: fresh contexts are made from it.
    s->ca_file = "/tmp/mxray_tls_bench_root_" + std::to_string(getpid()) +
                 (rsa_ca ? "_rsa" : "_ec") + ".pem";
    (void)s->ca->WriteRootPem(s->ca_file);
    s->client = std::move(*ClientContext::Create(s->ca_file));
    for (auto [key, ctx] : {std::pair{TestKeyType::kRsa2048, &s->rsa_server},
                            std::pair{TestKeyType::kEcdsaP256, &s->ec_server}}) {
      fleet::CertSpec spec;
      spec.dns_names = {"mx.bench.test"};
      spec.key = key;
      *ctx = std::move(*fleet::NewServerContext(*s->ca->Issue(spec), TLS1_VERSION, TLS1_3_VERSION));
    }
    return *s;
  }
  SSL_CTX* server(bool rsa_leaf) const { return rsa_leaf ? rsa_server.get() : ec_server.get(); }
  ~Setup() { std::remove(ca_file.c_str()); }
};

bssl::UniquePtr<SSL> NewServer(SSL_CTX* ctx) {
  bssl::UniquePtr<SSL> ssl(SSL_new(ctx));
  SSL_set_bio(ssl.get(), BIO_new(BIO_s_mem()), BIO_new(BIO_s_mem()));
  BIO_set_mem_eof_return(SSL_get_rbio(ssl.get()), -1);
  SSL_set_accept_state(ssl.get());
  return ssl;
}

int64_t ThreadCpuNs() {
  timespec ts;
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return int64_t(ts.tv_sec) * 1'000'000'000 + ts.tv_nsec;
}

// Runs the handshake. Returns the client's peak extra heap (bytes) seen between flights when
// `heap_before` is set; adds the CPU time spent in the client's calls to *client_ns if given.
size_t Handshake(TlsClient* client, SSL* server, size_t heap_before, int64_t* client_ns = nullptr) {
  size_t peak = 0;
  std::string wire;
  int64_t t0 = 0;
  auto start = [&] {
    if (client_ns) t0 = ThreadCpuNs();
  };
  auto stop = [&] {
    if (client_ns) *client_ns += ThreadCpuNs() - t0;
  };
  for (int round = 0; round < 10 && !client->handshake_done(); ++round) {
    start();
    client->Handshake();
    wire.clear();
    client->TakeOutput(&wire);
    stop();
    BIO_write(SSL_get_rbio(server), wire.data(), int(wire.size()));
    SSL_do_handshake(server);
    const uint8_t* data;
    size_t len;
    BIO_mem_contents(SSL_get_wbio(server), &data, &len);
    start();
    client->Feed(std::string_view(reinterpret_cast<const char*>(data), len));
    stop();
    BIO_reset(SSL_get_wbio(server));
    if (heap_before) peak = std::max(peak, size_t(mallinfo2().uordblks));
  }
  start();
  client->Handshake();
  stop();
  return peak > heap_before ? peak - heap_before : 0;
}

std::unique_ptr<ClientContext> FreshContext(const Setup& s, bool handshake_verify) {
  std::unique_ptr<ClientContext> context = std::move(*ClientContext::Create(s.ca_file));
  if (!handshake_verify) {
    SSL_CTX_set_custom_verify(context->ctx(), SSL_VERIFY_NONE,
                              [](SSL*, uint8_t*) { return ssl_verify_ok; });
  }
  return context;
}

// Both sides, facts included; a fresh client context (empty verdict cache) for each handshake.
void BM_FullHandshake(benchmark::State& state, bool rsa_leaf, bool rsa_ca) {
  Setup& s = Setup::Get(rsa_ca);
  int64_t now = time(nullptr);
  for (auto _ : state) {
    state.PauseTiming();
    std::unique_ptr<ClientContext> context = FreshContext(s, true);
    state.ResumeTiming();
    auto client = TlsClient::Create(context.get(), "mx.bench.test");
    bssl::UniquePtr<SSL> server = NewServer(s.server(rsa_leaf));
    Handshake(client.get(), server.get(), 0);
    TlsFacts facts = client->Facts(now, false);
    if (!facts.verify.trusted) state.SkipWithError("chain not trusted");
    benchmark::DoNotOptimize(facts);
  }
}
BENCHMARK_CAPTURE(BM_FullHandshake, ecdsa_leaf_ecdsa_ca, false, false)
    ->Unit(benchmark::kMicrosecond);
BENCHMARK_CAPTURE(BM_FullHandshake, rsa_leaf_ecdsa_ca, true, false)->Unit(benchmark::kMicrosecond);
BENCHMARK_CAPTURE(BM_FullHandshake, ecdsa_leaf_rsa_ca, false, true)->Unit(benchmark::kMicrosecond);
BENCHMARK_CAPTURE(BM_FullHandshake, rsa_leaf_rsa_ca, true, true)->Unit(benchmark::kMicrosecond);

// The client's share only (its CPU time inside TlsClient calls, facts and an uncached chain
// verification included): what bounds mxray's TLS probes per second on one core.
void BM_ClientSide(benchmark::State& state, bool rsa_leaf, bool rsa_ca, bool handshake_verify) {
  Setup& s = Setup::Get(rsa_ca);
  int64_t now = time(nullptr);
  for (auto _ : state) {
    std::unique_ptr<ClientContext> context = FreshContext(s, handshake_verify);
    bssl::UniquePtr<SSL> server = NewServer(s.server(rsa_leaf));
    int64_t client_ns = 0;
    int64_t t0 = ThreadCpuNs();
    auto client = TlsClient::Create(context.get(), "mx.bench.test");
    client_ns += ThreadCpuNs() - t0;
    Handshake(client.get(), server.get(), 0, &client_ns);
    t0 = ThreadCpuNs();
    TlsFacts facts = client->Facts(now, false);
    client.reset();
    client_ns += ThreadCpuNs() - t0;
    if (!facts.verify.trusted) state.SkipWithError("chain not trusted");
    benchmark::DoNotOptimize(facts);
    state.SetIterationTime(double(client_ns) / 1e9);
  }
}
BENCHMARK_CAPTURE(BM_ClientSide, ecdsa_leaf_ecdsa_ca, false, false, true)
    ->UseManualTime()
    ->Unit(benchmark::kMicrosecond);
BENCHMARK_CAPTURE(BM_ClientSide, rsa_leaf_ecdsa_ca, true, false, true)
    ->UseManualTime()
    ->Unit(benchmark::kMicrosecond);
BENCHMARK_CAPTURE(BM_ClientSide, ecdsa_leaf_rsa_ca, false, true, true)
    ->UseManualTime()
    ->Unit(benchmark::kMicrosecond);
BENCHMARK_CAPTURE(BM_ClientSide, rsa_leaf_rsa_ca, true, true, true)
    ->UseManualTime()
    ->Unit(benchmark::kMicrosecond);
BENCHMARK_CAPTURE(BM_ClientSide, ecdsa_leaf_ecdsa_ca_no_handshake_verify, false, false, false)
    ->UseManualTime()
    ->Unit(benchmark::kMicrosecond);
BENCHMARK_CAPTURE(BM_ClientSide, ecdsa_leaf_rsa_ca_no_handshake_verify, false, true, false)
    ->UseManualTime()
    ->Unit(benchmark::kMicrosecond);

// The client's share: its heap at the peak of a handshake (with facts still to extract).
void BM_ClientHeapInHandshake(benchmark::State& state) {
  Setup& s = Setup::Get(false);
  size_t peak = 0;
  for (auto _ : state) {
    bssl::UniquePtr<SSL> server = NewServer(s.rsa_server.get());
    size_t before = mallinfo2().uordblks;
    auto client = TlsClient::Create(s.client.get(), "mx.bench.test");
    // The server's own allocations happen inside the loop too: subtract them by measuring the
    // server alone on a second pass would need a second heap; instead count only while the
    // client holds memory and the server's buffers are already sized (it is created before).
    peak = std::max(peak, Handshake(client.get(), server.get(), before));
  }
  state.counters["peak_heap_bytes_client_and_server"] = double(peak);
}
BENCHMARK(BM_ClientHeapInHandshake)->Iterations(200);

// Facts after a handshake, the chain's verdict from the context's cache (a chain seen before in
// the run), then the uncached verification alone with each CA's keys.
void BM_FactsAfterHandshake(benchmark::State& state) {
  Setup& s = Setup::Get(false);
  auto client = TlsClient::Create(s.client.get(), "mx.bench.test");
  bssl::UniquePtr<SSL> server = NewServer(s.rsa_server.get());
  Handshake(client.get(), server.get(), 0);
  int64_t now = time(nullptr);
  for (auto _ : state) benchmark::DoNotOptimize(client->Facts(now, false));
}
BENCHMARK(BM_FactsAfterHandshake)->Unit(benchmark::kMicrosecond);

void BM_VerifyChainUncached(benchmark::State& state, bool rsa_ca) {
  Setup& s = Setup::Get(rsa_ca);
  // The chain an ECDSA-leaf server sends (leaf, intermediate), as fresh copies, verified by
  // mxray's verifier directly: no cache.
  bssl::UniquePtr<STACK_OF(X509)> chain(sk_X509_new_null());
  sk_X509_push(chain.get(), X509_dup(SSL_CTX_get0_certificate(s.ec_server.get())));
  STACK_OF(X509)* intermediates = nullptr;
  SSL_CTX_get0_chain_certs(s.ec_server.get(), &intermediates);
  for (size_t i = 0; i < sk_X509_num(intermediates); ++i) {
    sk_X509_push(chain.get(), X509_dup(sk_X509_value(intermediates, i)));
  }
  int64_t now = time(nullptr);
  for (auto _ : state) {
    VerifyFacts facts = VerifyChain(s.client->store(), chain.get(), now);
    if (!facts.trusted) state.SkipWithError("chain not trusted");
    benchmark::DoNotOptimize(facts);
  }
  sk_X509_pop_free(chain.release(), X509_free);
}
BENCHMARK_CAPTURE(BM_VerifyChainUncached, ecdsa_ca, false)->Unit(benchmark::kMicrosecond);
BENCHMARK_CAPTURE(BM_VerifyChainUncached, rsa_ca, true)->Unit(benchmark::kMicrosecond);

}  // namespace
}  // namespace mxray::tls

BENCHMARK_MAIN();
