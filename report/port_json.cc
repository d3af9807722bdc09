// PortRecord → JSON: reachability, outcome, the greeting, the EHLO capabilities with typed fields
// users filter on, and AUTH mechanisms offered before TLS.
#include "report/port_json.h"

namespace mxray::report {
namespace {

void WriteLines(const std::vector<std::string>& lines, SafeJsonWriter* w) {
  w->StartArray();
  for (const std::string& l : lines) w->SafeString(l);
  w->EndArray();
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
  WriteLines(r.lines, w);
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

}  // namespace

void WritePort(const engine::PortRecord& p, SafeJsonWriter* w) {
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
  if (p.capabilities) {
    w->KeyLiteral("auth");
    w->StartObject();
    w->KeyLiteral("before_tls");
    WriteLines(p.capabilities->auth, w);
    w->EndObject();
  }
  if (!p.unsolicited.empty()) {
    w->KeyLiteral("unsolicited");
    w->SafeString(p.unsolicited);
  }
  if (p.state != engine::PortState::kBlocked) {
    w->KeyLiteral("bytes_read");
    w->Uint(p.bytes_read);
    w->KeyLiteral("elapsed_ms");
    w->Uint(p.elapsed_ms);
  }
  w->EndObject();
}

}  // namespace mxray::report
