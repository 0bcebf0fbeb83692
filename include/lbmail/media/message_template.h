// A template with {{field}}, {{field|default}}, {{field|url}} and {{field|url|default}} merge
// fields, compiled once into a list of literal and field segments; names are resolved to indices
// when it is compiled, so an unknown field is an error when the material is defined, never when a
// message is built.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "lbmail/core/expected.h"

namespace lbmail::media {

constexpr size_t kMaxFieldNameOctets = 64;
// As many as a SEND may carry (proto::kMaxMergeFields): a MATERIAL can declare no more.
constexpr size_t kMaxFields = 1024;

// The merge fields a material may use, in the order SEND values are bound to them.
class FieldTable {
 public:
  // The recipient's address: always available, never declared.
  static constexpr std::string_view kEmail = "email";

  // Null on success, otherwise why name cannot be declared (bad, repeated, built in, or one
  // more than kMaxFields).
  const char* declare(std::string_view name);
  // The index of a name, or -1. A hash lookup: a MATERIAL's declarations and a SEND's values
  // are bound name by name, and a linear search made that quadratic on the loop.
  int find(std::string_view name) const;
  size_t size() const { return names_.size(); }
  const std::string& name(size_t i) const { return names_[i]; }

 private:
  struct NameHash {
    using is_transparent = void;
    size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
  };
  std::vector<std::string> names_;
  std::unordered_map<std::string, int, NameHash, std::equal_to<>> index_;
};

bool validFieldName(std::string_view name);

struct TemplateSegment {
  static constexpr int kLiteral = -1;
  static constexpr int kEmail = -2;  // the built-in recipient address
  // A field index (into the material's FieldTable), kLiteral or kEmail.
  int field = kLiteral;
  // The literal's text, or the field's default.
  std::string text;
  bool has_default = false;
  // {{name|url}}: the value (or default) is percent-encoded as RFC 3986 section 2.3 says, every
  // octet but the unreserved ones, so that it is one safe piece of a URL; in HTML it is then
  // escaped as every value is.
  bool url_encode = false;
};

class MessageTemplate {
 public:
  // Errors name the offset and the problem: an unterminated "{{", an empty or invalid name,
  // "{{" inside a tag, an unknown field.
  static Expected<MessageTemplate, std::string> compile(std::string_view text, const FieldTable& fields);

  const std::vector<TemplateSegment>& segments() const { return segments_; }
  bool empty() const { return segments_.empty(); }
  bool usesFields() const;

 private:
  std::vector<TemplateSegment> segments_;
};

}  // namespace lbmail::media
