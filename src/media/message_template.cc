// Template compilation: one pass over the text, literals merged, field names resolved.
#include "lbmail/media/message_template.h"

#include <algorithm>

namespace lbmail::media {
namespace {

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

std::string at(size_t offset, const std::string& what) { return "at offset " + std::to_string(offset) + ": " + what; }

// Shows a name from untrusted text safely in an error message.
std::string printable(std::string_view s) {
  std::string out;
  for (char c : s.substr(0, kMaxFieldNameOctets)) out.push_back(c >= 32 && c < 127 ? c : '?');
  return out;
}

// What follows the name's '|': "url" (the filter), "url|default", or the default alone. A
// default that is exactly "url" is thus written {{name|url|url}}.
void readFilterAndDefault(std::string_view rest, TemplateSegment& seg) {
  size_t bar = rest.find('|');
  if (trim(rest.substr(0, bar)) == "url") {
    seg.url_encode = true;
    if (bar == std::string_view::npos) return;
    rest = rest.substr(bar + 1);
  }
  seg.has_default = true;
  seg.text = std::string(rest);
}

}  // namespace

bool validFieldName(std::string_view name) {
  if (name.empty() || name.size() > kMaxFieldNameOctets) return false;
  return std::all_of(name.begin(), name.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '-' ||
           c == '.';
  });
}

const char* FieldTable::declare(std::string_view name) {
  if (!validFieldName(name)) return "a field name is 1 to 64 of A-Z a-z 0-9 _ - .";
  if (find(name) >= 0) return "field declared twice";
  if (name == kEmail) return "'email' is built in (the recipient's address) and is not declared";
  if (names_.size() >= kMaxFields) return "more than 1024 merge fields";
  index_.emplace(std::string(name), static_cast<int>(names_.size()));
  names_.emplace_back(name);
  return nullptr;
}

int FieldTable::find(std::string_view name) const {
  auto it = index_.find(name);
  return it == index_.end() ? -1 : it->second;
}

bool MessageTemplate::usesFields() const {
  return std::any_of(segments_.begin(), segments_.end(),
                     [](const TemplateSegment& s) { return s.field != TemplateSegment::kLiteral; });
}

Expected<MessageTemplate, std::string> MessageTemplate::compile(std::string_view text, const FieldTable& fields) {
  MessageTemplate t;
  auto literal = [&](std::string_view s) {
    if (s.empty()) return;
    if (!t.segments_.empty() && t.segments_.back().field == TemplateSegment::kLiteral) {
      t.segments_.back().text.append(s);
    } else {
      t.segments_.push_back(TemplateSegment{TemplateSegment::kLiteral, std::string(s), false});
    }
  };
  size_t pos = 0;
  while (pos < text.size()) {
    size_t open = text.find("{{", pos);
    if (open == std::string_view::npos) {
      literal(text.substr(pos));
      break;
    }
    literal(text.substr(pos, open - pos));
    size_t close = text.find("}}", open + 2);
    if (close == std::string_view::npos) return unexpected(at(open, "'{{' without '}}'"));
    std::string_view tag = text.substr(open + 2, close - open - 2);
    if (tag.find("{{") != std::string_view::npos) return unexpected(at(open, "'{{' inside a merge field"));
    size_t bar = tag.find('|');
    std::string_view name = trim(tag.substr(0, bar));
    if (name.empty()) return unexpected(at(open, "empty merge field name"));
    if (!validFieldName(name)) {
      return unexpected(at(open, "bad merge field name '" + printable(name) + "' (1 to 64 of A-Z a-z 0-9 _ - .)"));
    }
    int index = name == FieldTable::kEmail ? TemplateSegment::kEmail : fields.find(name);
    if (index == TemplateSegment::kLiteral) {
      return unexpected(at(open, "unknown merge field '" + std::string(name) + "'"));
    }
    TemplateSegment seg{index, {}, false};
    if (bar != std::string_view::npos) readFilterAndDefault(tag.substr(bar + 1), seg);
    t.segments_.push_back(std::move(seg));
    pos = close + 2;
  }
  return t;
}

}  // namespace lbmail::media
