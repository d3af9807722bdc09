// Turns one engine::DomainRecord into one line of JSON: the whole output contract of a run
// (docs/output.md, docs/output.schema.json). Field names and order are fixed here.
#ifndef MXRAY_REPORT_JSONL_WRITER_H_
#define MXRAY_REPORT_JSONL_WRITER_H_

#include <string>
#include <string_view>

#include "engine/domain_record.h"
#include "rapidjson/stringbuffer.h"
#include "report/safe_json_writer.h"

namespace mxray::report {

// Serializes records into a buffer it keeps between calls, so a steady stream of records causes
// no allocation once the buffer has grown to the largest line. One per thread: not thread-safe.
class JsonlWriter {
 public:
  JsonlWriter();
  JsonlWriter(const JsonlWriter&) = delete;
  JsonlWriter& operator=(const JsonlWriter&) = delete;

  // The record as one line of JSON ending in '\n' (the only '\n' in it). The view stays valid
  // until the next call on this writer.
  std::string_view Format(const engine::DomainRecord& record);

  // Appends the same line to *out.
  void Append(const engine::DomainRecord& record, std::string* out);

 private:
  rapidjson::StringBuffer buffer_;
  SafeJsonWriter writer_;
};

// Appends the line for `record` to *out through a JsonlWriter kept per thread.
void AppendDomainJson(const engine::DomainRecord& record, std::string* out);

}  // namespace mxray::report

#endif  // MXRAY_REPORT_JSONL_WRITER_H_
