// Checks output lines against docs/output.schema.json, so tests (unit, integration, the simulated
// fleet) hold every line the engine writes to the documented contract and any drift between the
// writer, the schema and the docs fails loudly with the rule and the place that broke.
#ifndef MXRAY_REPORT_SCHEMA_VALIDATOR_H_
#define MXRAY_REPORT_SCHEMA_VALIDATOR_H_

#include <memory>
#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace mxray::report {

// A compiled JSON Schema (draft-04, the dialect RapidJSON implements). Reuses its validator
// between lines: one per thread, not thread-safe.
class SchemaValidator {
 public:
  // Reads and compiles a schema file; fails on unreadable files, invalid JSON, and "$ref"s that
  // point nowhere (RapidJSON would silently ignore those).
  static absl::StatusOr<std::unique_ptr<SchemaValidator>> LoadFile(const std::string& path);
  static absl::StatusOr<std::unique_ptr<SchemaValidator>> FromJson(std::string_view schema_json);

  SchemaValidator(const SchemaValidator&) = delete;
  SchemaValidator& operator=(const SchemaValidator&) = delete;
  ~SchemaValidator();

  // Checks one output line; one trailing '\n' is allowed. The line must hold no other CR or LF,
  // be valid UTF-8 JSON, repeat no key within an object, and satisfy the schema. On failure the
  // InvalidArgument message names the failing keyword, the JSON pointer (URI fragment form,
  // "#/mx/0/status") of the offending value and of the schema rule, and what was wrong: the
  // missing or unexpected property, the value against the allowed enum, or the description of
  // the conditional rule that failed.
  absl::Status ValidateLine(std::string_view line);

 private:
  struct Impl;
  explicit SchemaValidator(std::unique_ptr<Impl> impl);

  std::unique_ptr<Impl> impl_;  // keeps rapidjson/schema.h out of every includer
};

}  // namespace mxray::report

#endif  // MXRAY_REPORT_SCHEMA_VALIDATOR_H_
