// Cost of one TLS probe's cryptography without sockets: a full client handshake against a
// BoringSSL server in memory (both sides' CPU; the server is the fleet's), the facts extracted
// after it and the chain verification alone, plus the client's heap at the peak of a handshake
// (the budget is 48 KiB per probe in handshake).
#include <benchmark/benchmark.h>
#include <malloc.h>
#include <openssl/bio.h>
#include <openssl/ssl.h>
#include <unistd.h>

#include <cstdio>
#include <ctime>
#include <memory>
#include <string>

#include "tls/chain_verifier.h"
#include "tls/client_context.h"
#include "tls/tls_client.h"
#include "tools/fleet/test_ca.h"

namespace mxray::tls {
namespace {

struct Setup {
  std::unique_ptr<fleet::TestCa> ca;
  std::unique_ptr<ClientContext> client;
  bssl::UniquePtr<SSL_CTX> rsa_server, ec_server;
  std::string ca_file;

  static Setup& Get() {
    static Setup* s = [] {
      auto* s = new Setup;
      s->ca = std::move(*fleet::TestCa::Create());
      s->ca_file = "/tmp/mxray_tls_bench_root_" + std::to_string(getpid()) + ".pem";
      (void)s->ca->WriteRootPem(s->ca_file);
      s->client = std::move(*ClientContext::Create(s->ca_file));
      std::remove(s->ca_file.c_str());
      for (auto [key, ctx] : {std::pair{fleet::TestKeyType::kRsa2048, &s->rsa_server},
                              std::pair{fleet::TestKeyType::kEcdsaP256, &s->ec_server}}) {
        fleet::CertSpec spec;
        spec.dns_names = {"mx.bench.test"};
        spec.key = key;
        *ctx =
            std::move(*fleet::NewServerContext(*s->ca->Issue(spec), TLS1_VERSION, TLS1_3_VERSION));
      }
      return s;
    }();
    return *s;
  }
};

bssl::UniquePtr<SSL> NewServer(SSL_CTX* ctx) {
  bssl::UniquePtr<SSL> ssl(SSL_new(ctx));
  SSL_set_bio(ssl.get(), BIO_new(BIO_s_mem()), BIO_new(BIO_s_mem()));
  BIO_set_mem_eof_return(SSL_get_rbio(ssl.get()), -1);
  SSL_set_accept_state(ssl.get());
  return ssl;
}

// Runs the handshake; returns the client's peak extra heap (bytes) seen between flights.
size_t Handshake(TlsClient* client, SSL* server, size_t heap_before) {
  size_t peak = 0;
  std::string wire;
  for (int round = 0; round < 10 && !client->handshake_done(); ++round) {
    client->Handshake();
    wire.clear();
    client->TakeOutput(&wire);
    BIO_write(SSL_get_rbio(server), wire.data(), int(wire.size()));
    SSL_do_handshake(server);
    const uint8_t* data;
    size_t len;
    BIO_mem_contents(SSL_get_wbio(server), &data, &len);
    client->Feed(std::string_view(reinterpret_cast<const char*>(data), len));
    BIO_reset(SSL_get_wbio(server));
    if (heap_before) peak = std::max(peak, size_t(mallinfo2().uordblks));
  }
  client->Handshake();
  return peak > heap_before ? peak - heap_before : 0;
}

void BM_FullHandshake(benchmark::State& state, bool rsa) {
  Setup& s = Setup::Get();
  SSL_CTX* server_ctx = rsa ? s.rsa_server.get() : s.ec_server.get();
  int64_t now = time(nullptr);
  for (auto _ : state) {
    auto client = TlsClient::Create(s.client.get(), "mx.bench.test");
    bssl::UniquePtr<SSL> server = NewServer(server_ctx);
    Handshake(client.get(), server.get(), 0);
    TlsFacts facts = client->Facts(now, false);
    if (!facts.verify.trusted) state.SkipWithError("chain not trusted");
    benchmark::DoNotOptimize(facts);
  }
}
BENCHMARK_CAPTURE(BM_FullHandshake, ecdsa_tls13, false)->Unit(benchmark::kMicrosecond);
BENCHMARK_CAPTURE(BM_FullHandshake, rsa2048_tls13, true)->Unit(benchmark::kMicrosecond);

// The client's share: its heap at the peak of a handshake (with facts still to extract).
void BM_ClientHeapInHandshake(benchmark::State& state) {
  Setup& s = Setup::Get();
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

void BM_FactsAfterHandshake(benchmark::State& state) {
  Setup& s = Setup::Get();
  auto client = TlsClient::Create(s.client.get(), "mx.bench.test");
  bssl::UniquePtr<SSL> server = NewServer(s.rsa_server.get());
  Handshake(client.get(), server.get(), 0);
  int64_t now = time(nullptr);
  for (auto _ : state) benchmark::DoNotOptimize(client->Facts(now, false));
}
BENCHMARK(BM_FactsAfterHandshake)->Unit(benchmark::kMicrosecond);

}  // namespace
}  // namespace mxray::tls

BENCHMARK_MAIN();
