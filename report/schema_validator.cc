// SchemaValidator on RapidJSON's SAX schema validator. The fast path is a single streaming pass;
// only a failing line is parsed into a DOM to say in plain words what broke, because RapidJSON
// 1.1 reports just the keyword and two pointers (not which property was missing or extra, nor
// which branch of an allOf failed).
#include "report/schema_validator.h"

#include <fstream>
#include <sstream>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "rapidjson/document.h"
#include "rapidjson/error/en.h"
#include "rapidjson/memorystream.h"
#include "rapidjson/pointer.h"
#include "rapidjson/reader.h"
#include "rapidjson/schema.h"
#include "rapidjson/stringbuffer.h"
#include "rapidjson/writer.h"

namespace mxray::report {
namespace {

using rapidjson::SizeType;

// Values quoted in messages are cut to this many bytes.
constexpr size_t kQuotedValueBytesMax = 80;

std::string ToJson(const rapidjson::Value& value) {
  rapidjson::StringBuffer buffer;
  rapidjson::Writer<rapidjson::StringBuffer> writer(buffer);
  value.Accept(writer);
  std::string text(buffer.GetString(), buffer.GetSize());
  if (text.size() > kQuotedValueBytesMax) {
    text.resize(kQuotedValueBytesMax);
    text += "...";
  }
  return text;
}

template <typename Pointer>
std::string UriFragment(const Pointer& pointer) {
  rapidjson::StringBuffer buffer;
  pointer.StringifyUriFragment(buffer);
  return std::string(buffer.GetString(), buffer.GetSize());
}

// Forwards SAX events to the schema validator and stops at a key repeated within one object:
// JSON Schema cannot express "no duplicate keys", and DOM parsers would keep only one of them.
class DuplicateKeyFilter {
 public:
  explicit DuplicateKeyFilter(rapidjson::SchemaValidator* next) : next_(next) {}

  void Reset() {
    keys_.clear();
    object_starts_.clear();
    duplicate_key_.clear();
  }
  const std::string& duplicate_key() const { return duplicate_key_; }

  bool Null() { return next_->Null(); }
  bool Bool(bool b) { return next_->Bool(b); }
  bool Int(int i) { return next_->Int(i); }
  bool Uint(unsigned u) { return next_->Uint(u); }
  bool Int64(int64_t i) { return next_->Int64(i); }
  bool Uint64(uint64_t u) { return next_->Uint64(u); }
  bool Double(double d) { return next_->Double(d); }
  bool RawNumber(const char* s, SizeType n, bool copy) { return next_->RawNumber(s, n, copy); }
  bool String(const char* s, SizeType n, bool copy) { return next_->String(s, n, copy); }
  bool StartObject() {
    object_starts_.push_back(keys_.size());
    return next_->StartObject();
  }
  bool Key(const char* s, SizeType n, bool copy) {
    const std::string_view key(s, n);
    // Objects in a line have a handful of members: a linear scan beats a set.
    for (size_t i = object_starts_.back(); i < keys_.size(); ++i) {
      if (keys_[i] == key) {
        duplicate_key_ = std::string(key);
        return false;
      }
    }
    keys_.emplace_back(key);
    return next_->Key(s, n, copy);
  }
  bool EndObject(SizeType members) {
    keys_.resize(object_starts_.back());
    object_starts_.pop_back();
    return next_->EndObject(members);
  }
  bool StartArray() { return next_->StartArray(); }
  bool EndArray(SizeType elements) { return next_->EndArray(elements); }

 private:
  rapidjson::SchemaValidator* next_;
  std::vector<std::string> keys_;      // keys of all open objects, outermost first
  std::vector<size_t> object_starts_;  // where each open object's keys begin in keys_
  std::string duplicate_key_;
};

// Every local "$ref" must resolve; RapidJSON drops the ones that do not without a word.
absl::Status CheckRefs(const rapidjson::Value& node, const rapidjson::Document& root) {
  if (node.IsObject()) {
    for (const auto& member : node.GetObject()) {
      if (std::string_view(member.name.GetString()) == "$ref" && member.value.IsString()) {
        const absl::string_view ref(member.value.GetString(), member.value.GetStringLength());
        if (ref.empty() || ref[0] != '#') {
          return absl::InvalidArgumentError(absl::StrCat("schema: only local $ref: ", ref));
        }
        const rapidjson::Pointer pointer(ref.data(), ref.size());
        if (!pointer.IsValid() || pointer.Get(root) == nullptr) {
          return absl::InvalidArgumentError(absl::StrCat("schema: $ref resolves nowhere: ", ref));
        }
      } else if (absl::Status s = CheckRefs(member.value, root); !s.ok()) {
        return s;
      }
    }
  } else if (node.IsArray()) {
    for (const auto& item : node.GetArray()) {
      if (absl::Status s = CheckRefs(item, root); !s.ok()) return s;
    }
  }
  return absl::OkStatus();
}

std::string Description(const rapidjson::Value& schema) {
  if (schema.IsObject() && schema.HasMember("description") && schema["description"].IsString()) {
    return schema["description"].GetString();
  }
  return "";
}

}  // namespace

struct SchemaValidator::Impl {
  explicit Impl(rapidjson::Document json)
      : schema_json(std::move(json)), schema(schema_json), validator(schema), filter(&validator) {}

  // Whether `value` satisfies `schema_node` on its own, with the root's "definitions" in reach of
  // its "$ref"s. Only used to explain a failure, so it compiles the sub-schema each time.
  bool Satisfies(const rapidjson::Value& schema_node, const rapidjson::Value& value) const {
    rapidjson::Document sub;
    sub.CopyFrom(schema_node, sub.GetAllocator());
    if (!sub.IsObject()) return true;
    if (schema_json.HasMember("definitions") && !sub.HasMember("definitions")) {
      rapidjson::Value definitions(schema_json["definitions"], sub.GetAllocator());
      sub.AddMember("definitions", definitions, sub.GetAllocator());
    }
    const rapidjson::SchemaDocument sub_schema(sub);
    rapidjson::SchemaValidator sub_validator(sub_schema);
    value.Accept(sub_validator);
    return sub_validator.IsValid();
  }

  // What exactly is wrong, from the keyword RapidJSON reported and the values at both pointers.
  // `member` is the last token of the document pointer: the property name when there is one.
  std::string Explain(const std::string& keyword, const rapidjson::Value& schema_node,
                      const rapidjson::Value& value, std::string_view member) const {
    if (keyword == "required" && value.IsObject() && schema_node.HasMember("required")) {
      std::vector<std::string> missing;
      for (const auto& name : schema_node["required"].GetArray()) {
        if (!value.HasMember(name)) missing.push_back(absl::StrCat("\"", name.GetString(), "\""));
      }
      return absl::StrCat("missing required property ", absl::StrJoin(missing, ", "));
    }
    if (keyword == "additionalProperties" && !member.empty()) {
      // RapidJSON stops at the extra member itself, so the pointer already ends with its name.
      return absl::StrCat("unexpected property \"", absl::string_view(member.data(), member.size()),
                          "\"");
    }
    if (keyword == "additionalProperties" && value.IsObject()) {
      std::vector<std::string> extra;
      const rapidjson::Value* properties =
          schema_node.HasMember("properties") ? &schema_node["properties"] : nullptr;
      for (const auto& member : value.GetObject()) {
        if (properties == nullptr || !properties->HasMember(member.name)) {
          extra.push_back(absl::StrCat("\"", member.name.GetString(), "\""));
        }
      }
      return absl::StrCat("unexpected property ", absl::StrJoin(extra, ", "));
    }
    if (keyword == "enum" && schema_node.HasMember("enum")) {
      std::vector<std::string> allowed;
      for (const auto& item : schema_node["enum"].GetArray()) allowed.push_back(ToJson(item));
      return absl::StrCat("value ", ToJson(value), " is not one of ", absl::StrJoin(allowed, ", "));
    }
    if (keyword == "allOf" && schema_node.HasMember("allOf")) {
      std::vector<std::string> failed;
      const auto& branches = schema_node["allOf"];
      for (SizeType i = 0; i < branches.Size(); ++i) {
        if (Satisfies(branches[i], value)) continue;
        std::string description = Description(branches[i]);
        failed.push_back(description.empty() ? absl::StrCat("allOf[", i, "]")
                                             : absl::StrCat("\"", description, "\""));
      }
      return absl::StrCat("rule broken: ", absl::StrJoin(failed, "; "));
    }
    if (keyword == "dependencies" && schema_node.HasMember("dependencies") && value.IsObject()) {
      std::vector<std::string> failed;
      for (const auto& dependency : schema_node["dependencies"].GetObject()) {
        if (!value.HasMember(dependency.name)) continue;
        if (dependency.value.IsArray()) {
          for (const auto& needed : dependency.value.GetArray()) {
            if (!value.HasMember(needed)) {
              failed.push_back(absl::StrCat("\"", dependency.name.GetString(), "\" needs \"",
                                            needed.GetString(), "\""));
            }
          }
        } else if (!Satisfies(dependency.value, value)) {
          std::string description = Description(dependency.value);
          failed.push_back(description.empty()
                               ? absl::StrCat("\"", dependency.name.GetString(), "\"")
                               : absl::StrCat("\"", description, "\""));
        }
      }
      return absl::StrCat("rule broken: ", absl::StrJoin(failed, "; "));
    }
    if (schema_node.IsObject() && schema_node.HasMember(keyword.c_str())) {
      std::string text = absl::StrCat("value ", ToJson(value), " violates \"", keyword,
                                      "\": ", ToJson(schema_node[keyword.c_str()]));
      // Combinators carry no detail of their own: the description is the rule in words.
      const bool combinator = keyword == "anyOf" || keyword == "oneOf" || keyword == "not";
      if (std::string description = Description(schema_node); combinator && !description.empty()) {
        absl::StrAppend(&text, " (", description, ")");
      }
      return text;
    }
    return absl::StrCat("value ", ToJson(value));
  }

  absl::Status SchemaError(std::string_view json) const {
    const char* invalid_keyword = validator.GetInvalidSchemaKeyword();
    const std::string keyword = invalid_keyword != nullptr ? invalid_keyword : "?";
    const auto schema_pointer = validator.GetInvalidSchemaPointer();
    const auto document_pointer = validator.GetInvalidDocumentPointer();
    std::string message = absl::StrCat("at ", UriFragment(document_pointer), ": \"", keyword,
                                       "\" failed (schema ", UriFragment(schema_pointer), ")");
    rapidjson::Document line;
    line.Parse(json.data(), json.size());
    const rapidjson::Value* value = line.HasParseError() ? nullptr : document_pointer.Get(line);
    const rapidjson::Value* schema_node = schema_pointer.Get(schema_json);
    std::string_view member;
    if (const size_t tokens = document_pointer.GetTokenCount(); tokens > 0) {
      const auto& last = document_pointer.GetTokens()[tokens - 1];
      member = std::string_view(last.name, last.length);
    }
    if (value != nullptr && schema_node != nullptr) {
      absl::StrAppend(&message, ": ", Explain(keyword, *schema_node, *value, member));
    }
    return absl::InvalidArgumentError(message);
  }

  const rapidjson::Document schema_json;  // also read back when explaining a failure
  const rapidjson::SchemaDocument schema;
  rapidjson::SchemaValidator validator;
  DuplicateKeyFilter filter;
};

absl::StatusOr<std::unique_ptr<SchemaValidator>> SchemaValidator::LoadFile(
    const std::string& path) {
  std::ifstream file(path, std::ios::binary);
  if (!file) return absl::NotFoundError(absl::StrCat("cannot read schema ", path));
  std::ostringstream contents;
  contents << file.rdbuf();
  auto validator = FromJson(contents.str());
  if (!validator.ok()) {
    return absl::Status(validator.status().code(),
                        absl::StrCat(path, ": ", validator.status().message()));
  }
  return validator;
}

absl::StatusOr<std::unique_ptr<SchemaValidator>> SchemaValidator::FromJson(
    std::string_view schema_json) {
  rapidjson::Document json;
  json.Parse(schema_json.data(), schema_json.size());
  if (json.HasParseError()) {
    return absl::InvalidArgumentError(
        absl::StrCat("schema is not JSON: ", rapidjson::GetParseError_En(json.GetParseError()),
                     " at byte ", json.GetErrorOffset()));
  }
  if (!json.IsObject()) return absl::InvalidArgumentError("schema is not a JSON object");
  if (absl::Status s = CheckRefs(json, json); !s.ok()) return s;
  return std::unique_ptr<SchemaValidator>(
      new SchemaValidator(std::make_unique<Impl>(std::move(json))));
}

SchemaValidator::SchemaValidator(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
SchemaValidator::~SchemaValidator() = default;

absl::Status SchemaValidator::ValidateLine(std::string_view line) {
  std::string_view json = line;
  if (!json.empty() && json.back() == '\n') json.remove_suffix(1);
  // NUL too: RapidJSON's streams read it as the end of input and would accept "{...}\0junk".
  constexpr std::string_view kForbidden("\r\n\0", 3);
  if (const size_t pos = json.find_first_of(kForbidden); pos != std::string_view::npos) {
    const char* what = json[pos] == '\n' ? "LF" : json[pos] == '\r' ? "CR" : "NUL";
    return absl::InvalidArgumentError(
        absl::StrCat("raw ", what, " at byte ", pos, ": a record must be exactly one line"));
  }
  impl_->validator.Reset();
  impl_->filter.Reset();
  rapidjson::MemoryStream stream(json.data(), json.size());
  rapidjson::Reader reader;
  const rapidjson::ParseResult result =
      reader.Parse<rapidjson::kParseValidateEncodingFlag>(stream, impl_->filter);
  if (!impl_->validator.IsValid()) return impl_->SchemaError(json);
  if (!impl_->filter.duplicate_key().empty()) {
    return absl::InvalidArgumentError(absl::StrCat(
        "duplicate key \"", impl_->filter.duplicate_key(), "\" near byte ", result.Offset()));
  }
  if (result.IsError()) {
    return absl::InvalidArgumentError(absl::StrCat(
        "not JSON: ", rapidjson::GetParseError_En(result.Code()), " at byte ", result.Offset()));
  }
  return absl::OkStatus();
}

}  // namespace mxray::report
