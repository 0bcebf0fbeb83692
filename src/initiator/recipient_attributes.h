// A recipient's attributes as the database keeps them: one flat JSON object of names to
// values (`lbmail import` writes strings; numbers, true, false and null are kept as their text).
// The bytes are the database's, which anyone with the sqlite3 shell can change, so the parser
// treats them as untrusted: a clear error, never a crash, and nested values are refused.
#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "lbmail/core/expected.h"

namespace lbmail {

class RecipientAttributes {
 public:
  static Expected<RecipientAttributes, std::string> parse(std::string_view json);

  // The value of name, or null when the recipient has no such attribute.
  const std::string* find(std::string_view name) const;
  size_t size() const { return items_.size(); }

 private:
  std::vector<std::pair<std::string, std::string>> items_;
};

}  // namespace lbmail
