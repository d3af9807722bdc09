// PortRecord → JSON: reachability, outcome, the greeting, the EHLO capabilities with typed fields
// users filter on, STARTTLS and the TLS facts, and the AUTH mechanisms offered before and after
// TLS.
#include "report/port_json.h"

#include <time.h>

namespace mxray::report {
namespace {

// RFC 3339 in UTC, the form warehouses parse without a format string.
void WriteTime(int64_t unix_seconds, SafeJsonWriter* w) {
  time_t t = static_cast<time_t>(unix_seconds);
  struct tm tm;
  char buf[32];
  if (gmtime_r(&t, &tm) == nullptr || strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%SZ", &tm) == 0) {
    w->Null();
    return;
  }
  w->PlainString(buf);
}

// {"code":220,"text":[...]} plus the optional markers of a reply.
void WriteReplyFields(const engine::SmtpReply& r, const char* text_key, SafeJsonWriter* w) {
  w->KeyLiteral("code");
  w->Uint(r.code);
  if (!r.enhanced_status.empty()) {
    w->KeyLiteral("enhanced");
    w->SafeString(r.enhanced_status);
  }
  w->SafeString(text_key);
  w->SafeStringArray(r.lines);
  if (r.truncated) {
    w->KeyLiteral("truncated");
    w->Bool(true);
  }
}

void WriteReply(const engine::SmtpReply& r, SafeJsonWriter* w) {
  w->StartObject();
  WriteReplyFields(r, "text", w);
  w->EndObject();
}

void WriteFlag(const char* key, bool value, SafeJsonWriter* w) {
  w->SafeString(key);
  w->Bool(value);
}

void WriteEhlo(const engine::SmtpReply& r, const engine::EhloCapabilities* caps,
               SafeJsonWriter* w) {
  w->StartObject();
  WriteReplyFields(r, "raw", w);
  if (caps != nullptr) {
    w->KeyLiteral("name");
    w->SafeString(caps->greeting_name);
    w->KeyLiteral("extensions");
    w->StartObject();
    for (const auto& [keyword, params] : caps->extensions) {
      w->SafeString(keyword);
      w->SafeString(params);
    }
    w->EndObject();
    if (caps->size) {
      w->KeyLiteral("size");
      w->Uint64(*caps->size);
    }
    WriteFlag("starttls", caps->starttls, w);
    WriteFlag("pipelining", caps->pipelining, w);
    WriteFlag("8bitmime", caps->eightbitmime, w);
    WriteFlag("smtputf8", caps->smtputf8, w);
    WriteFlag("chunking", caps->chunking, w);
    WriteFlag("binarymime", caps->binarymime, w);
    WriteFlag("dsn", caps->dsn, w);
    WriteFlag("enhancedstatuscodes", caps->enhancedstatuscodes, w);
    WriteFlag("requiretls", caps->requiretls, w);
  }
  w->EndObject();
}

void WriteCertificate(const tls::CertificateFacts& c, SafeJsonWriter* w) {
  w->StartObject();
  w->KeyLiteral("subject");
  w->SafeString(c.subject);
  w->KeyLiteral("issuer");
  w->SafeString(c.issuer);
  w->KeyLiteral("serial");
  w->SafeString(c.serial);
  w->KeyLiteral("san_dns");
  w->SafeStringArray(c.san_dns);
  w->KeyLiteral("san_ip");
  w->SafeStringArray(c.san_ip);
  w->KeyLiteral("not_before");
  WriteTime(c.not_before, w);
  w->KeyLiteral("not_after");
  WriteTime(c.not_after, w);
  w->KeyLiteral("days_left");
  w->Int64(c.days_left);
  w->KeyLiteral("key_type");
  w->SafeString(c.key_type);
  w->KeyLiteral("key_bits");
  w->Uint(c.key_bits);
  if (!c.key_curve.empty()) {
    w->KeyLiteral("key_curve");
    w->SafeString(c.key_curve);
  }
  w->KeyLiteral("signature_algorithm");
  w->SafeString(c.signature_algorithm);
  w->KeyLiteral("sha256");
  w->SafeString(c.sha256);
  w->EndObject();
}

void WriteVerify(const tls::VerifyFacts& v, const engine::CertificateVerdict* verdict,
                 SafeJsonWriter* w) {
  w->StartObject();
  if (verdict != nullptr && verdict->judged) {
    w->KeyLiteral("status");
    w->PlainString(verdict->status);
    w->KeyLiteral("hostname_match");
    w->Bool(verdict->hostname_match);
  }
  w->KeyLiteral("trusted");
  w->Bool(v.trusted);
  w->KeyLiteral("expired");
  w->Bool(v.expired);
  w->KeyLiteral("not_yet_valid");
  w->Bool(v.not_yet_valid);
  w->KeyLiteral("self_signed");
  w->Bool(v.self_signed);
  if (!v.error.empty()) {
    w->KeyLiteral("error");
    w->SafeString(v.error);
  }
  w->EndObject();
}

void WriteTls(const tls::TlsFacts& t, const engine::CertificateVerdict* verdict,
              SafeJsonWriter* w) {
  w->StartObject();
  w->KeyLiteral("sni");
  w->SafeString(t.sni);
  w->KeyLiteral("handshake_ms");
  w->Uint(t.handshake_ms);
  if (!t.error.empty()) {
    w->KeyLiteral("error");
    w->SafeString(t.error);
    w->EndObject();
    return;
  }
  w->KeyLiteral("version");
  w->SafeString(t.version);
  w->KeyLiteral("cipher");
  w->SafeString(t.cipher);
  if (!t.group.empty()) {
    w->KeyLiteral("group");
    w->SafeString(t.group);
  }
  if (t.has_certificate) {
    w->KeyLiteral("certificate");
    WriteCertificate(t.leaf, w);
    w->KeyLiteral("intermediates");
    w->StartArray();
    for (const tls::TlsFacts::Intermediate& i : t.intermediates) {
      w->StartObject();
      w->KeyLiteral("subject");
      w->SafeString(i.subject);
      w->KeyLiteral("issuer");
      w->SafeString(i.issuer);
      w->EndObject();
    }
    w->EndArray();
    if (!t.chain_pem.empty()) {
      w->KeyLiteral("chain_pem");
      w->SafeString(t.chain_pem);
    }
  }
  w->KeyLiteral("verify");
  WriteVerify(t.verify, verdict, w);
  w->EndObject();
}

}  // namespace

void WritePort(const engine::PortRecord& p, const engine::CertificateVerdict* verdict,
               SafeJsonWriter* w) {
  w->StartObject();
  w->KeyLiteral("port");
  w->Uint(p.port);
  w->KeyLiteral("state");
  w->PlainString(engine::PortStateName(p.state));
  if (p.connect_ms) {
    w->KeyLiteral("connect_ms");
    w->Uint(*p.connect_ms);
  }
  w->KeyLiteral("outcome");
  w->PlainString(engine::ProbeOutcomeName(p.outcome));
  if (!p.blocked_reason.empty()) {
    w->KeyLiteral("blocked_reason");
    w->SafeString(p.blocked_reason);
  }
  if (!p.error.empty()) {
    w->KeyLiteral("error");
    w->SafeString(p.error);
  }
  if (p.banner) {
    w->KeyLiteral("banner");
    WriteReply(*p.banner, w);
  }
  if (p.ehlo) {
    w->KeyLiteral("ehlo");
    WriteEhlo(*p.ehlo, p.capabilities ? &*p.capabilities : nullptr, w);
  }
  if (p.helo) {
    w->KeyLiteral("helo");
    WriteReply(*p.helo, w);
  }
  if (p.starttls) {
    w->KeyLiteral("starttls");
    WriteReply(*p.starttls, w);
  }
  if (!p.injected.empty()) {
    w->KeyLiteral("injected");
    w->SafeString(p.injected);
  }
  if (p.tls) {
    w->KeyLiteral("tls");
    WriteTls(*p.tls, verdict, w);
  }
  if (p.ehlo_tls) {
    w->KeyLiteral("ehlo_tls");
    WriteEhlo(*p.ehlo_tls, p.capabilities_tls ? &*p.capabilities_tls : nullptr, w);
  }
  if (p.capabilities || p.capabilities_tls) {
    w->KeyLiteral("auth");
    w->StartObject();
    if (p.capabilities) {
      w->KeyLiteral("before_tls");
      w->SafeStringArray(p.capabilities->auth);
    }
    if (p.capabilities_tls) {
      w->KeyLiteral("after_tls");
      w->SafeStringArray(p.capabilities_tls->auth);
    }
    w->EndObject();
  }
  if (!p.unsolicited.empty()) {
    w->KeyLiteral("unsolicited");
    w->SafeString(p.unsolicited);
  }
  if (p.state != engine::PortState::kBlocked) {
    w->KeyLiteral("attempts");
    w->Uint(p.attempts);
    w->KeyLiteral("bytes_read");
    w->Uint(p.bytes_read);
    w->KeyLiteral("elapsed_ms");
    w->Uint(p.elapsed_ms);
  }
  w->EndObject();
}

}  // namespace mxray::report
