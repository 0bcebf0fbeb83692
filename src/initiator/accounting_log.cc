// CSV lines for the accounting file.
#include "accounting_log.h"

#include <cerrno>
#include <cstring>
#include <ctime>

namespace lbmail {
namespace {

// RFC 4180: a field with a comma, quote or line break is quoted, its quotes doubled.
void appendField(std::string& out, std::string_view s) {
  if (s.find_first_of(",\"\r\n") == std::string_view::npos) {
    out.append(s);
    return;
  }
  out.push_back('"');
  for (char c : s) {
    if (c == '"') out.push_back('"');
    out.push_back(c);
  }
  out.push_back('"');
}

// ISO 8601 in UTC with milliseconds.
void appendTime(std::string& out, double unix_seconds) {
  auto whole = static_cast<time_t>(unix_seconds);
  int ms = static_cast<int>((unix_seconds - static_cast<double>(whole)) * 1000);
  std::tm tm{};
  gmtime_r(&whole, &tm);
  char buf[40];
  size_t n = std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%S", &tm);
  std::snprintf(buf + n, sizeof buf - n, ".%03dZ", ms < 0 ? 0 : ms > 999 ? 999 : ms);
  out.append(buf);
}

}  // namespace

Expected<std::unique_ptr<AccountingLog>, std::string> AccountingLog::open(const std::string& path) {
  std::FILE* f = std::fopen(path.c_str(), "a+");
  if (!f) return unexpected(path + ": " + std::strerror(errno));
  std::unique_ptr<AccountingLog> log(new AccountingLog(f));
  if (std::fseek(f, 0, SEEK_END) != 0) return unexpected(path + ": " + std::strerror(errno));
  if (std::ftell(f) == 0) {
    if (std::fputs(kHeader, f) < 0 || std::fflush(f) != 0) return unexpected(path + ": " + std::strerror(errno));
    return log;
  }
  // A file begun by another version has other columns (issue 19 added tls and tls_verified):
  // lines appended under its header would not match it.
  char first[512] = "";
  std::rewind(f);
  if (!std::fgets(first, sizeof first, f) || std::strcmp(first, kHeader) != 0) {
    return unexpected(path + ": its header is not this version's columns (" +
                      std::string(kHeader, std::strlen(kHeader) - 1) +
                      "); move the file aside or name another accounting_file");
  }
  if (std::fseek(f, 0, SEEK_END) != 0) return unexpected(path + ": " + std::strerror(errno));
  return log;
}

AccountingLog::~AccountingLog() { std::fclose(file_); }

void AccountingLog::formatLine(const StateChange& c, std::string& out) {
  appendTime(out, c.at);
  out.push_back(',');
  appendField(out, c.email);
  out.push_back(',');
  appendField(out, c.domain);
  out.push_back(',');
  appendField(out, c.material);
  out.push_back(',');
  appendField(out, c.gateway);
  out.push_back(',');
  out.append(c.repeat ? std::string_view("repeat") : recipientStateName(c.state));
  out.push_back(',');
  if (c.smtp_code) out.append(std::to_string(c.smtp_code));
  out.push_back(',');
  appendField(out, c.enhanced_code);
  out.push_back(',');
  char ms[32];
  std::snprintf(ms, sizeof ms, "%.1f", c.delivery_ms);
  out.append(ms);
  out.push_back(',');
  out.append(std::to_string(c.attempts));
  out.push_back(',');
  appendField(out, c.tls);
  out.push_back(',');
  if (!c.tls.empty()) out.append(c.tls_verified ? "true" : "false");
  out.push_back('\n');
}

bool AccountingLog::append(const std::vector<StateChange>& changes) {
  buffer_.clear();
  for (const StateChange& c : changes) formatLine(c, buffer_);
  return std::fwrite(buffer_.data(), 1, buffer_.size(), file_) == buffer_.size() && std::fflush(file_) == 0;
}

}  // namespace lbmail
