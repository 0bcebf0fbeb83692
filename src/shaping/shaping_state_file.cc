// Reading and writing the shaping state file (TOML, written with toml++).
#include "shaping_state_file.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <toml++/toml.h>

#include <cerrno>
#include <cmath>
#include <cstring>
#include <fstream>
#include <limits>
#include <optional>
#include <sstream>

namespace lbmail::shaping {
namespace {

constexpr int64_t kVersion = 1;
// Far above any real table (a few hundred octets per shaped site), low enough that a wrong
// path (a disk image) is refused instead of read into memory.
constexpr uint64_t kMaxStateBytes = 64ull << 20;

std::string errnoText(const std::string& what, const std::string& file) {
  return what + " " + file + ": " + std::strerror(errno);
}

toml::table siteTable(const SavedSite& s) {
  const SiteShaper::State& st = s.shaper;
  auto i64 = [](uint64_t v) { return static_cast<int64_t>(std::min<uint64_t>(v, std::numeric_limits<int64_t>::max())); };
  return toml::table{{"source", s.source},
                     {"site", s.site},
                     {"suspended_until", i64(st.suspended_until)},
                     {"reason", st.reason},
                     {"rate", st.rate},
                     {"connection_share", st.connection_share},
                     {"last_cut", i64(st.last_cut)},
                     {"cut_base", st.cut_base},
                     {"peak_rate", st.peak_rate},
                     {"throttles", i64(st.throttles)},
                     {"blocks", i64(st.blocks)},
                     {"day", s.day},
                     {"warmup_used", i64(s.warmup_used)}};
}

// Writes all of text to a new file and flushes it to disk before the rename makes it the state.
std::string writeDurably(const std::string& file, const std::string& text) {
  int fd = ::open(file.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) return errnoText("cannot create", file);
  for (size_t done = 0; done < text.size();) {
    ssize_t n = ::write(fd, text.data() + done, text.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      std::string err = errnoText("cannot write", file);
      ::close(fd);
      return err;
    }
    done += static_cast<size_t>(n);
  }
  if (::fsync(fd) != 0) {
    std::string err = errnoText("cannot flush", file);
    ::close(fd);
    return err;
  }
  if (::close(fd) != 0) return errnoText("cannot close", file);
  return "";
}

// Reads one [[site]] table; the first problem becomes error_ and every later read is skipped.
class SiteReader {
 public:
  SiteReader(const toml::table& t, std::string where) : t_(t), where_(std::move(where)) {}

  std::string text(const char* key) {
    std::optional<std::string> v = t_[key].value_exact<std::string>();
    if (!v) fail(key, "a string");
    return v.value_or("");
  }
  uint64_t count(const char* key) {
    std::optional<int64_t> v = t_[key].value_exact<int64_t>();
    if (!v || *v < 0) fail(key, "an integer of at least 0");
    return v && *v >= 0 ? static_cast<uint64_t>(*v) : 0;
  }
  int64_t integer(const char* key) {
    std::optional<int64_t> v = t_[key].value_exact<int64_t>();
    if (!v) fail(key, "an integer");
    return v.value_or(0);
  }
  double number(const char* key, double max) {
    std::optional<double> v = t_[key].value_exact<double>();
    if (!v) {
      if (auto i = t_[key].value_exact<int64_t>()) v = static_cast<double>(*i);
    }
    if (!v || !std::isfinite(*v) || *v < 0 || *v > max) fail(key, "a number from 0 to " + std::to_string(max));
    return v && std::isfinite(*v) ? *v : 0;
  }
  const std::string& error() const { return error_; }

 private:
  void fail(const char* key, const std::string& expected) {
    if (error_.empty()) error_ = where_ + ": " + key + ": expected " + expected;
  }

  const toml::table& t_;
  std::string where_;
  std::string error_;
};

Expected<SavedSite, std::string> readSite(const toml::node& node, const std::string& where) {
  const toml::table* t = node.as_table();
  if (!t) return unexpected(where + ": expected a [[site]] table");
  SiteReader r(*t, where);
  SavedSite s;
  s.source = r.text("source");
  s.site = r.text("site");
  SiteShaper::State& st = s.shaper;
  st.suspended_until = r.count("suspended_until");
  st.reason = r.text("reason");
  st.rate = r.number("rate", 1e12);
  st.connection_share = r.number("connection_share", 1);
  st.last_cut = r.count("last_cut");
  st.cut_base = r.number("cut_base", 1e12);
  st.peak_rate = r.number("peak_rate", 1e12);
  st.throttles = r.count("throttles");
  st.blocks = r.count("blocks");
  s.day = r.integer("day");
  s.warmup_used = r.count("warmup_used");
  if (r.error().empty() && st.connection_share <= 0) return unexpected(where + ": connection_share: expected a number above 0");
  if (!r.error().empty()) return unexpected(r.error());
  return s;
}

Expected<std::string, std::string> readSmallFile(const std::string& file) {
  struct stat st {};
  if (::stat(file.c_str(), &st) != 0) return unexpected(errnoText("cannot read shaping state file", file));
  if (!S_ISREG(st.st_mode)) return unexpected("shaping state file " + file + " is not a regular file");
  if (static_cast<uint64_t>(st.st_size) > kMaxStateBytes) {
    return unexpected("shaping state file " + file + " is larger than 64 MiB");
  }
  std::ifstream in(file, std::ios::binary);
  std::string text(static_cast<size_t>(st.st_size), '\0');
  if (!in || !in.read(text.data(), static_cast<std::streamsize>(text.size()))) {
    return unexpected("cannot read shaping state file " + file);
  }
  return text;
}

}  // namespace

std::string writeShapingState(const std::string& file, const std::vector<SavedSite>& sites) {
  toml::array list;
  for (const SavedSite& s : sites) list.push_back(siteTable(s));
  toml::table root{{"version", kVersion}, {"site", std::move(list)}};
  std::ostringstream out;
  out << "# lbmail shaping state (docs/shaping.md): times are Unix milliseconds, day is days since "
         "1970-01-01 (UTC).\n"
      << root << "\n"
      // Last, so that a file cut short anywhere (a full disk, a copy interrupted) is refused
      // instead of read as fewer sites.
      << "\n[complete]\nsites = " << sites.size() << "\n";
  std::string tmp = file + ".tmp";
  if (std::string err = writeDurably(tmp, out.str()); !err.empty()) {
    ::unlink(tmp.c_str());
    return err;
  }
  if (::rename(tmp.c_str(), file.c_str()) != 0) {
    std::string err = errnoText("cannot rename " + tmp + " to", file);
    ::unlink(tmp.c_str());
    return err;
  }
  return "";
}

Expected<std::vector<SavedSite>, std::string> readShapingState(const std::string& file) {
  std::vector<SavedSite> sites;
  if (::access(file.c_str(), F_OK) != 0 && errno == ENOENT) return sites;
  auto text = readSmallFile(file);
  if (!text) return unexpected(text.error());
  toml::table root;
  try {
    root = toml::parse(*text, file);
  } catch (const toml::parse_error& e) {
    const auto& at = e.source().begin;
    return unexpected("shaping state file " + file + ":" + std::to_string(at.line) + ":" + std::to_string(at.column) +
                      ": invalid TOML: " + std::string(e.description()));
  }
  if (root["version"].value_exact<int64_t>() != kVersion) {
    return unexpected("shaping state file " + file + ": version: expected 1 (a file this lbmail wrote)");
  }
  toml::array none;
  const toml::node* list = root.get("site");
  const toml::array* arr = list ? list->as_array() : &none;
  if (!arr) return unexpected("shaping state file " + file + ": site: expected [[site]] tables");
  if (root["complete"]["sites"].value_exact<int64_t>() != static_cast<int64_t>(arr->size())) {
    return unexpected("shaping state file " + file + ": cut short: expected [complete] with the count of sites at its end");
  }
  for (size_t i = 0; i < arr->size(); ++i) {
    auto s = readSite(*arr->get(i), "shaping state file " + file + ": site " + std::to_string(i + 1));
    if (!s) return unexpected(s.error());
    sites.push_back(std::move(*s));
  }
  return sites;
}

}  // namespace lbmail::shaping
