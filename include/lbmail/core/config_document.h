// A TOML configuration file read into typed values, with errors that name file, line, key and
// what was expected, and with every key the program did not ask for reported as unknown.
#pragma once

#include <toml++/toml.h>

#include <cstdint>
#include <functional>
#include <initializer_list>
#include <map>
#include <optional>
#include <set>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "lbmail/core/expected.h"
#include "lbmail/core/socket_address.h"
#include "lbmail/core/units.h"

namespace lbmail {

// Thrown inside configuration loading only (never on the data path); the loader turns it
// into an Expected error. what() is the whole message, location included.
class ConfigError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

class ConfigDocument;

// A view of one table in the document. Getters mark the key as used and validate its value.
class ConfigTable {
 public:
  ConfigTable(ConfigDocument& doc, const toml::table* table, std::string path);

  std::string string(std::string_view key, std::string_view fallback);
  std::optional<std::string> optionalString(std::string_view key);
  int64_t integer(std::string_view key, int64_t fallback, int64_t min, int64_t max);
  bool boolean(std::string_view key, bool fallback);
  Duration duration(std::string_view key, Duration fallback, Duration min, Duration max);
  uint64_t size(std::string_view key, uint64_t fallback, uint64_t min, uint64_t max);
  SocketAddress address(std::string_view key, const SocketAddress& fallback);
  // One of a fixed set of words; returns its index in choices.
  size_t choice(std::string_view key, std::initializer_list<std::string_view> choices, size_t fallback);
  std::vector<std::string> stringArray(std::string_view key);
  // An array of integers, each within [min, max]; empty when absent.
  std::vector<int64_t> integerArray(std::string_view key, int64_t min, int64_t max);
  // A number (integer or float) within [min, max].
  double real(std::string_view key, double fallback, double min, double max);
  // One address or an array of them; fallback when absent.
  std::vector<SocketAddress> addressList(std::string_view key, const std::vector<SocketAddress>& fallback);
  // An array of tables ([[name]] sections); empty when absent.
  std::vector<ConfigTable> tableArray(std::string_view key);

  // A sub-table; absent gives an empty view (every getter returns its fallback).
  ConfigTable table(std::string_view key);
  bool has(std::string_view key) const;
  // The keys this table holds, for tables whose keys are the user's own names (a mapping);
  // each key still counts as unknown until a getter reads it.
  std::vector<std::string> keys() const;

  // Reports a problem with key's value; never returns.
  [[noreturn]] void fail(std::string_view key, std::string_view expected) const;

 private:
  const toml::node* use(std::string_view key);
  std::string keyPath(std::string_view key) const;
  template <typename T>
  std::optional<T> typed(std::string_view key, std::string_view expected);

  ConfigDocument& doc_;
  const toml::table* table_;  // null for an absent table
  std::string path_;          // dotted path of this table, empty at the root
};

class ConfigDocument {
 public:
  // Parses the file; errors carry "FILE:LINE:COL: ..." and are returned, never thrown.
  static Expected<ConfigDocument, std::string> parseFile(const std::string& file);
  static Expected<ConfigDocument, std::string> parseString(std::string_view text, std::string name);

  ConfigTable root();
  // Throws ConfigError for the first key (by position in the file) nobody asked for.
  void rejectUnknownKeys() const;

  const std::string& fileName() const { return file_; }
  std::string location(const toml::node* node) const;
  void markUsed(const toml::node* node) { used_.insert(node); }
  // Remembers every key the program asked for, present or not, to suggest one for a typo.
  void markAsked(const std::string& table_path, std::string_view key) {
    asked_[table_path].insert(std::string(key));
  }

 private:
  ConfigDocument(toml::table table, std::string file) : table_(std::move(table)), file_(std::move(file)) {}
  void collectUnknown(const toml::table& t, const std::string& prefix,
                      std::vector<std::pair<const toml::node*, std::string>>& unknown) const;

  toml::table table_;
  std::string file_;
  std::set<const toml::node*> used_;
  std::map<std::string, std::set<std::string>, std::less<>> asked_;
};

// Parses the file, calls read(root) and rejects unknown keys; any error becomes the message.
template <typename Config>
Expected<Config, std::string> loadConfigFile(const std::string& file,
                                             const std::function<Config(ConfigTable&)>& read) {
  auto doc = ConfigDocument::parseFile(file);
  if (!doc) return unexpected(doc.error());
  try {
    ConfigTable root = doc->root();
    Config config = read(root);
    doc->rejectUnknownKeys();
    return config;
  } catch (const ConfigError& e) {
    return unexpected(std::string(e.what()));
  } catch (const std::exception& e) {
    return unexpected(file + ": cannot load: " + e.what());
  }
}

}  // namespace lbmail
