// Typed, validated access to a TOML configuration file.
#include "lbmail/core/config_document.h"

#include <algorithm>
#include <charconv>
#include <fstream>
#include <sys/stat.h>

#include <cerrno>
#include <cstring>

namespace lbmail {
namespace {

// Control characters in a message would reach the user's terminal: show them as '?'.
std::string printable(std::string text) {
  for (char& c : text) {
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) c = '?';
  }
  return text;
}


std::string quoted(std::string_view s) {
  std::string out = "\"";
  for (char c : s) {
    if (c == '"' || c == '\\') out.push_back('\\');
    if (static_cast<unsigned char>(c) < 0x20) {
      out.append("?");
      continue;
    }
    out.push_back(c);
  }
  out.push_back('"');
  return out;
}

// What a user wrote, for "got ..." in messages.
std::string describe(const toml::node& node) {
  if (auto s = node.as_string()) return "string " + quoted(s->get());
  if (auto i = node.as_integer()) return "integer " + std::to_string(i->get());
  if (auto f = node.as_floating_point()) return "float " + std::to_string(f->get());
  if (auto b = node.as_boolean()) return std::string("boolean ") + (b->get() ? "true" : "false");
  if (node.is_table()) return "a table";
  if (node.is_array()) return "an array";
  return "a date/time";
}

// The shortest text that reads back as v ("0.5", "1e+300"): std::to_string writes 1e300 as
// 301 digits and six decimals.
std::string shortNumber(double v) {
  char buf[32];
  auto [end, ec] = std::to_chars(buf, buf + sizeof buf, v);
  return ec == std::errc() ? std::string(buf, end) : std::to_string(v);
}

size_t editDistance(std::string_view a, std::string_view b) {
  std::vector<size_t> row(b.size() + 1);
  for (size_t j = 0; j <= b.size(); ++j) row[j] = j;
  for (size_t i = 1; i <= a.size(); ++i) {
    size_t diag = row[0];
    row[0] = i;
    for (size_t j = 1; j <= b.size(); ++j) {
      size_t up = row[j];
      row[j] = std::min({row[j] + 1, row[j - 1] + 1, diag + (a[i - 1] == b[j - 1] ? 0 : 1)});
      diag = up;
    }
  }
  return row[b.size()];
}

}  // namespace

ConfigTable::ConfigTable(ConfigDocument& doc, const toml::table* table, std::string path)
    : doc_(doc), table_(table), path_(std::move(path)) {}

std::string ConfigTable::keyPath(std::string_view key) const {
  return path_.empty() ? std::string(key) : path_ + "." + std::string(key);
}

bool ConfigTable::has(std::string_view key) const { return table_ && table_->get(key) != nullptr; }

std::vector<std::string> ConfigTable::keys() const {
  std::vector<std::string> out;
  if (!table_) return out;
  for (const auto& [k, v] : *table_) out.emplace_back(k.str());
  return out;
}

const toml::node* ConfigTable::use(std::string_view key) {
  doc_.markAsked(path_, key);
  if (!table_) return nullptr;
  const toml::node* node = table_->get(key);
  if (node) doc_.markUsed(node);
  return node;
}

void ConfigTable::fail(std::string_view key, std::string_view expected) const {
  const toml::node* node = table_ ? table_->get(key) : nullptr;
  std::string msg = doc_.location(node ? node : table_) + ": " + keyPath(key) + ": expected " +
                    std::string(expected);
  if (node) msg += ", got " + describe(*node);
  throw ConfigError(printable(msg));
}

template <typename T>
std::optional<T> ConfigTable::typed(std::string_view key, std::string_view expected) {
  const toml::node* node = use(key);
  if (!node) return std::nullopt;
  std::optional<T> v = node->value_exact<T>();
  if (!v) fail(key, expected);
  return v;
}

std::string ConfigTable::string(std::string_view key, std::string_view fallback) {
  return typed<std::string>(key, "a string").value_or(std::string(fallback));
}

std::optional<std::string> ConfigTable::optionalString(std::string_view key) {
  return typed<std::string>(key, "a string");
}

int64_t ConfigTable::integer(std::string_view key, int64_t fallback, int64_t min, int64_t max) {
  std::string expected = "an integer from " + std::to_string(min) + " to " + std::to_string(max);
  std::optional<int64_t> v = typed<int64_t>(key, expected);
  if (!v) return fallback;
  if (*v < min || *v > max) fail(key, expected);
  return *v;
}

bool ConfigTable::boolean(std::string_view key, bool fallback) {
  return typed<bool>(key, "true or false").value_or(fallback);
}

Duration ConfigTable::duration(std::string_view key, Duration fallback, Duration min, Duration max) {
  std::string expected = "a duration with a unit (ns, us, ms, s, m, h, d) from " + formatDuration(min) +
                         " to " + formatDuration(max) + ", like \"250ms\" or \"5s\"";
  std::optional<std::string> text = typed<std::string>(key, expected);
  if (!text) return fallback;
  std::optional<Duration> d = parseDuration(*text);
  if (!d || *d < min || *d > max) fail(key, expected);
  return *d;
}

uint64_t ConfigTable::size(std::string_view key, uint64_t fallback, uint64_t min, uint64_t max) {
  std::string expected = "a size in bytes from " + std::to_string(min) + " to " + std::to_string(max) +
                         ", like \"16KiB\", \"10MiB\" or 4096";
  const toml::node* node = use(key);
  if (!node) return fallback;
  std::optional<uint64_t> bytes;
  if (auto i = node->value_exact<int64_t>(); i && *i >= 0) {
    bytes = static_cast<uint64_t>(*i);
  } else if (auto s = node->value_exact<std::string>()) {
    bytes = parseSize(*s);
  }
  if (!bytes || *bytes < min || *bytes > max) fail(key, expected);
  return *bytes;
}

SocketAddress ConfigTable::address(std::string_view key, const SocketAddress& fallback) {
  static constexpr std::string_view kExpected =
      "an IP address and port like \"127.0.0.1:9101\" or \"[::1]:9101\"";
  std::optional<std::string> text = typed<std::string>(key, kExpected);
  if (!text) return fallback;
  std::optional<SocketAddress> addr = SocketAddress::parse(*text);
  if (!addr) fail(key, kExpected);
  return *addr;
}

size_t ConfigTable::choice(std::string_view key, std::initializer_list<std::string_view> choices,
                           size_t fallback) {
  std::string expected = "one of";
  for (std::string_view c : choices) expected += " " + quoted(c);
  std::optional<std::string> text = typed<std::string>(key, expected);
  if (!text) return fallback;
  auto it = std::find(choices.begin(), choices.end(), *text);
  if (it == choices.end()) fail(key, expected);
  return static_cast<size_t>(it - choices.begin());
}

std::vector<std::string> ConfigTable::stringArray(std::string_view key) {
  const toml::node* node = use(key);
  std::vector<std::string> out;
  if (!node) return out;
  const toml::array* arr = node->as_array();
  if (!arr) fail(key, "an array of strings");
  for (const toml::node& el : *arr) {
    std::optional<std::string> s = el.value_exact<std::string>();
    if (!s) fail(key, "an array of strings");
    out.push_back(*s);
  }
  return out;
}

std::vector<int64_t> ConfigTable::integerArray(std::string_view key, int64_t min, int64_t max) {
  std::string expected = "an array of integers from " + std::to_string(min) + " to " + std::to_string(max);
  const toml::node* node = use(key);
  std::vector<int64_t> out;
  if (!node) return out;
  const toml::array* arr = node->as_array();
  if (!arr) fail(key, expected);
  for (const toml::node& el : *arr) {
    std::optional<int64_t> v = el.value_exact<int64_t>();
    if (!v || *v < min || *v > max) fail(key, expected);
    out.push_back(*v);
  }
  return out;
}

double ConfigTable::real(std::string_view key, double fallback, double min, double max) {
  std::string expected = "a number from " + shortNumber(min) + " to " + shortNumber(max);
  const toml::node* node = use(key);
  if (!node) return fallback;
  std::optional<double> v;
  if (auto f = node->value_exact<double>()) v = *f;
  if (auto i = node->value_exact<int64_t>()) v = static_cast<double>(*i);
  if (!v || !(*v >= min && *v <= max)) fail(key, expected);
  return *v;
}

std::vector<SocketAddress> ConfigTable::addressList(std::string_view key, const std::vector<SocketAddress>& fallback) {
  static constexpr std::string_view kExpected =
      "an IP address and port like \"127.0.0.1:2525\", or an array of them";
  const toml::node* node = use(key);
  if (!node) return fallback;
  std::vector<std::string> texts;
  if (auto s = node->value_exact<std::string>()) {
    texts.push_back(*s);
  } else if (const toml::array* arr = node->as_array()) {
    for (const toml::node& el : *arr) {
      auto s = el.value_exact<std::string>();
      if (!s) fail(key, kExpected);
      texts.push_back(*s);
    }
  }
  if (texts.empty()) fail(key, kExpected);
  std::vector<SocketAddress> out;
  for (const std::string& t : texts) {
    auto a = SocketAddress::parse(t);
    if (!a) fail(key, kExpected);
    out.push_back(*a);
  }
  return out;
}

std::vector<ConfigTable> ConfigTable::tableArray(std::string_view key) {
  const toml::node* node = use(key);
  std::vector<ConfigTable> out;
  if (!node) return out;
  const toml::array* arr = node->as_array();
  if (!arr) fail(key, "an array of tables ([[" + keyPath(key) + "]] sections)");
  for (const toml::node& el : *arr) {
    const toml::table* t = el.as_table();
    if (!t) fail(key, "an array of tables ([[" + keyPath(key) + "]] sections)");
    doc_.markUsed(t);
    // Every element shares the array's path, so line numbers tell them apart in messages
    // and a typo in any of them gets a suggestion.
    out.emplace_back(doc_, t, keyPath(key));
  }
  return out;
}

ConfigTable ConfigTable::table(std::string_view key) {
  const toml::node* node = use(key);
  if (!node) return ConfigTable(doc_, nullptr, keyPath(key));
  const toml::table* t = node->as_table();
  if (!t) fail(key, "a table");
  return ConfigTable(doc_, t, keyPath(key));
}

// toml++ parses nested arrays, inline tables and dotted keys recursively, so a hostile file of
// a few hundred kilobytes could exhaust the stack. Real configuration nests a few levels: refuse
// more than kMaxNesting before parsing. Strings and comments are skipped; the count is
// conservative (it may refuse a weird but valid file, never crash on one).
namespace {

constexpr int kMaxNesting = 32;
constexpr size_t kMaxConfigBytes = 1024 * 1024;

bool nestingWithinLimit(std::string_view text, size_t& line_out) {
  int depth = 0;
  int dots = 0;
  size_t line = 1;
  char quote = 0;
  for (size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    if (c == '\n') {
      ++line;
      dots = 0;
    }
    if (quote) {
      if (c == '\\' && quote == '"') ++i;
      else if (c == quote) quote = 0;
      continue;
    }
    switch (c) {
      case '"':
      case '\'':
        quote = c;
        break;
      case '#':
        while (i + 1 < text.size() && text[i + 1] != '\n') ++i;
        break;
      case '[':
      case '{':
        ++depth;
        break;
      case ']':
      case '}':
        --depth;
        break;
      case '.':
        ++dots;
        break;
      default:
        break;
    }
    if (depth > kMaxNesting || dots > kMaxNesting) {
      line_out = line;
      return false;
    }
  }
  return true;
}

}  // namespace

Expected<ConfigDocument, std::string> ConfigDocument::parseString(std::string_view text, std::string name) {
  size_t line = 0;
  if (!nestingWithinLimit(text, line)) {
    return unexpected(printable(name + ":" + std::to_string(line) + ": nesting deeper than " +
                                std::to_string(kMaxNesting) + " levels"));
  }
  try {
    toml::table table = toml::parse(text, name);
    return ConfigDocument(std::move(table), std::move(name));
  } catch (const toml::parse_error& e) {
    const auto& where = e.source().begin;
    return unexpected(printable(name + ":" + std::to_string(where.line) + ":" + std::to_string(where.column) +
                                ": invalid TOML: " + std::string(e.description())));
  }
}

Expected<ConfigDocument, std::string> ConfigDocument::parseFile(const std::string& file) {
  struct stat st {};
  if (stat(file.c_str(), &st) != 0) return unexpected("cannot read config file " + file + ": " + std::strerror(errno));
  if (!S_ISREG(st.st_mode)) return unexpected("config file " + file + " is not a regular file");
  if (static_cast<uint64_t>(st.st_size) > kMaxConfigBytes) {
    return unexpected("config file " + file + " is larger than 1 MiB");
  }
  std::ifstream in(file, std::ios::binary);
  std::string text(static_cast<size_t>(st.st_size), '\0');
  if (!in || !in.read(text.data(), static_cast<std::streamsize>(text.size()))) {
    return unexpected("cannot read config file " + file);
  }
  return parseString(text, file);
}

ConfigTable ConfigDocument::root() { return ConfigTable(*this, &table_, ""); }

std::string ConfigDocument::location(const toml::node* node) const {
  if (!node || node == &table_ || node->source().begin.line == 0) return file_;
  const auto& where = node->source().begin;
  return file_ + ":" + std::to_string(where.line) + ":" + std::to_string(where.column);
}

void ConfigDocument::collectUnknown(const toml::table& t, const std::string& prefix,
                                    std::vector<std::pair<const toml::node*, std::string>>& unknown) const {
  for (const auto& [key, node] : t) {
    std::string path = prefix.empty() ? std::string(key.str()) : prefix + "." + std::string(key.str());
    if (!used_.count(&node)) {
      unknown.emplace_back(&node, path);
    } else if (const toml::table* sub = node.as_table()) {
      collectUnknown(*sub, path, unknown);
    } else if (const toml::array* arr = node.as_array()) {
      for (const toml::node& el : *arr) {
        if (const toml::table* sub = el.as_table()) collectUnknown(*sub, path, unknown);
      }
    }
  }
}

void ConfigDocument::rejectUnknownKeys() const {
  std::vector<std::pair<const toml::node*, std::string>> unknown;
  collectUnknown(table_, "", unknown);
  if (unknown.empty()) return;
  auto first = std::min_element(unknown.begin(), unknown.end(), [](const auto& a, const auto& b) {
    return a.first->source().begin < b.first->source().begin;
  });
  // Suggest the closest key the program does know in the same table.
  std::string_view path = first->second;
  size_t dot = path.rfind('.');
  std::string_view leaf = dot == std::string_view::npos ? path : path.substr(dot + 1);
  std::string_view parent = dot == std::string_view::npos ? std::string_view() : path.substr(0, dot);
  std::string best;
  size_t best_distance = 3;
  if (auto asked = asked_.find(parent); asked != asked_.end()) {
    for (const std::string& known : asked->second) {
      size_t d = editDistance(leaf, known);
      if (d < best_distance) {
        best_distance = d;
        best = known;
      }
    }
  }
  std::string msg = location(first->first) + ": " + first->second + ": unknown key";
  if (!best.empty()) msg += " (did you mean '" + best + "'?)";
  if (unknown.size() > 1) msg += " (and " + std::to_string(unknown.size() - 1) + " more unknown keys)";
  throw ConfigError(printable(msg));
}

}  // namespace lbmail
