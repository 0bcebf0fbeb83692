// A flat JSON object reader: strings with every escape (surrogate pairs included), and scalar
// literals kept as their text.
#include "recipient_attributes.h"

#include <cctype>
#include <cstdint>

namespace lbmail {
namespace {

constexpr size_t kMaxAttributes = 1024;

class Reader {
 public:
  explicit Reader(std::string_view s) : s_(s) {}

  void blanks() {
    while (at_ < s_.size() && (s_[at_] == ' ' || s_[at_] == '\t' || s_[at_] == '\n' || s_[at_] == '\r')) ++at_;
  }
  bool eat(char c) {
    blanks();
    if (at_ < s_.size() && s_[at_] == c) {
      ++at_;
      return true;
    }
    return false;
  }
  bool atEnd() {
    blanks();
    return at_ == s_.size();
  }
  char peek() {
    blanks();
    return at_ < s_.size() ? s_[at_] : '\0';
  }
  size_t offset() const { return at_; }

  // A JSON string after its opening quote has been seen; false on any defect.
  bool string(std::string& out) {
    out.clear();
    if (!eat('"')) return false;
    while (at_ < s_.size()) {
      char c = s_[at_++];
      if (c == '"') return true;
      if (static_cast<unsigned char>(c) < 0x20) return false;
      if (c != '\\') {
        out.push_back(c);
        continue;
      }
      if (at_ >= s_.size()) return false;
      char e = s_[at_++];
      switch (e) {
        case '"':
        case '\\':
        case '/': out.push_back(e); break;
        case 'b': out.push_back('\b'); break;
        case 'f': out.push_back('\f'); break;
        case 'n': out.push_back('\n'); break;
        case 'r': out.push_back('\r'); break;
        case 't': out.push_back('\t'); break;
        case 'u':
          if (!unicodeEscape(out)) return false;
          break;
        default: return false;
      }
    }
    return false;
  }

  // true, false, null or a number, kept as written.
  bool literal(std::string& out) {
    blanks();
    size_t start = at_;
    while (at_ < s_.size() &&
           (std::isalnum(static_cast<unsigned char>(s_[at_])) || s_[at_] == '-' || s_[at_] == '+' || s_[at_] == '.')) {
      ++at_;
    }
    out.assign(s_.substr(start, at_ - start));
    return !out.empty();
  }

 private:
  bool hex4(uint32_t& v) {
    if (s_.size() - at_ < 4) return false;
    v = 0;
    for (int i = 0; i < 4; ++i) {
      char c = s_[at_++];
      v <<= 4;
      if (c >= '0' && c <= '9')
        v |= static_cast<uint32_t>(c - '0');
      else if (c >= 'a' && c <= 'f')
        v |= static_cast<uint32_t>(c - 'a' + 10);
      else if (c >= 'A' && c <= 'F')
        v |= static_cast<uint32_t>(c - 'A' + 10);
      else
        return false;
    }
    return true;
  }

  bool unicodeEscape(std::string& out) {
    uint32_t cp = 0;
    if (!hex4(cp)) return false;
    if (cp >= 0xDC00 && cp <= 0xDFFF) return false;
    if (cp >= 0xD800 && cp <= 0xDBFF) {
      uint32_t low = 0;
      if (s_.substr(at_, 2) != "\\u") return false;
      at_ += 2;
      if (!hex4(low) || low < 0xDC00 || low > 0xDFFF) return false;
      cp = 0x10000 + ((cp - 0xD800) << 10) + (low - 0xDC00);
    }
    if (cp < 0x80) {
      out.push_back(static_cast<char>(cp));
    } else if (cp < 0x800) {
      out.push_back(static_cast<char>(0xC0 | (cp >> 6)));
      out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
    } else if (cp < 0x10000) {
      out.push_back(static_cast<char>(0xE0 | (cp >> 12)));
      out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
      out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
    } else {
      out.push_back(static_cast<char>(0xF0 | (cp >> 18)));
      out.push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3F)));
      out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
      out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
    }
    return true;
  }

  std::string_view s_;
  size_t at_ = 0;
};

std::string errorAt(size_t offset, const char* what) {
  return "attributes: " + std::string(what) + " at offset " + std::to_string(offset);
}

}  // namespace

Expected<RecipientAttributes, std::string> RecipientAttributes::parse(std::string_view json) {
  RecipientAttributes a;
  Reader r(json);
  if (!r.eat('{')) return unexpected(errorAt(r.offset(), "expected a JSON object"));
  if (r.eat('}')) {
    if (!r.atEnd()) return unexpected(errorAt(r.offset(), "text after the object"));
    return a;
  }
  std::string name;
  std::string value;
  do {
    if (a.items_.size() == kMaxAttributes) return unexpected(errorAt(r.offset(), "more than 1024 attributes"));
    if (!r.string(name)) return unexpected(errorAt(r.offset(), "expected a quoted name"));
    if (!r.eat(':')) return unexpected(errorAt(r.offset(), "expected ':'"));
    char c = r.peek();
    if (c == '{' || c == '[') return unexpected(errorAt(r.offset(), "nested values are not attributes"));
    bool ok = c == '"' ? r.string(value) : r.literal(value);
    if (!ok) return unexpected(errorAt(r.offset(), "expected a value"));
    a.items_.emplace_back(name, value);
  } while (r.eat(','));
  if (!r.eat('}')) return unexpected(errorAt(r.offset(), "expected ',' or '}'"));
  if (!r.atEnd()) return unexpected(errorAt(r.offset(), "text after the object"));
  return a;
}

const std::string* RecipientAttributes::find(std::string_view name) const {
  for (const auto& [n, v] : items_) {
    if (n == name) return &v;
  }
  return nullptr;
}

}  // namespace lbmail
