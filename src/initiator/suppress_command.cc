// The suppress command: arguments, the four actions, their reports.
#include "suppress_command.h"

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <optional>
#include <string>

#include "suppression_import.h"
#include "suppression_store.h"

namespace lbmail {
namespace {

constexpr const char* kUsage =
    "usage: lbmail suppress add ADDRESS... --db FILE [--reason REASON] [--source TEXT]\n"
    "       lbmail suppress remove ADDRESS... --db FILE\n"
    "       lbmail suppress import FILE --db FILE [--reason REASON] [--source TEXT]\n"
    "       lbmail suppress list --db FILE [--reason REASON]\n\n"
    "The suppression list in the recipient database: no campaign sends to a listed address (its\n"
    "outcome is 'suppressed'). REASON: hard_bounce, complaint, unsubscribe, soft_bounce or manual\n"
    "(the default). Addresses are lower-cased. import reads one address per line, or CSV whose\n"
    "first column is the address; '#' lines are comments; bad lines are reported as FILE:LINE.\n"
    "list writes CSV (address,reason,source,campaign,detail,created) to stdout.\n";

struct Arguments {
  std::string action;
  std::vector<std::string> operands;
  std::string db;
  std::optional<std::string> reason;
  std::string source = "cli";
};

int usageError(const std::string& why) {
  std::fprintf(stderr, "lbmail suppress: %s\n%s", why.c_str(), kUsage);
  return 2;
}

// 0 parsed, -1 help shown, else the exit status of a usage error.
int parse(const std::vector<std::string_view>& args, Arguments& out) {
  for (size_t i = 0; i < args.size(); ++i) {
    std::string_view a = args[i];
    if (a == "-h" || a == "--help") {
      std::printf("%s", kUsage);
      return -1;
    }
    if (a == "--db" || a == "--reason" || a == "--source") {
      if (i + 1 >= args.size()) return usageError(std::string(a) + " needs a value");
      std::string value(args[++i]);
      if (a == "--db") out.db = value;
      if (a == "--reason") out.reason = value;
      if (a == "--source") out.source = value;
    } else if (!a.empty() && a.front() == '-') {
      return usageError("unknown option '" + std::string(a) + "'");
    } else if (out.action.empty()) {
      out.action = a;
    } else {
      out.operands.emplace_back(a);
    }
  }
  if (out.action != "add" && out.action != "remove" && out.action != "import" && out.action != "list") {
    return usageError(out.action.empty() ? "an action is needed" : "unknown action '" + out.action + "'");
  }
  if (out.db.empty()) return usageError("--db FILE is required");
  if (out.reason && !validSuppressionReason(*out.reason)) return usageError("unknown reason '" + *out.reason + "'");
  bool wants_operands = out.action != "list";
  if (wants_operands && out.operands.empty()) return usageError(out.action + " needs an operand");
  if (!wants_operands && !out.operands.empty()) return usageError("list takes no operand");
  if (out.action == "import" && out.operands.size() > 1) return usageError("import reads one file");
  return 0;
}

double now() {
  return std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
}

int addOrRemove(const Arguments& a, SuppressionStore& store) {
  uint64_t changed = 0, bad = 0;
  for (const std::string& operand : a.operands) {
    auto address = suppressionAddress(operand);
    if (!address) {
      ++bad;
      std::fprintf(stderr, "lbmail suppress: '%s': %s\n", operand.c_str(), address.error().c_str());
      continue;
    }
    bool done = a.action == "add" ? store.add({*address, a.reason.value_or("manual"), a.source, "", "", now()})
                                  : store.remove(*address);
    if (!store.lastError().empty()) {
      std::fprintf(stderr, "lbmail suppress: %s\n", store.lastError().c_str());
      return 1;
    }
    changed += done;
  }
  std::printf("suppress %s: %llu %s, %llu unchanged, %llu bad\n", a.action.c_str(),
              static_cast<unsigned long long>(changed), a.action == "add" ? "added" : "removed",
              static_cast<unsigned long long>(a.operands.size() - changed - bad), static_cast<unsigned long long>(bad));
  return 0;
}

int import(const Arguments& a, SuppressionStore& store) {
  const std::string& file = a.operands.front();
  std::error_code ec;
  std::ifstream in(file, std::ios::binary);
  if (!std::filesystem::is_regular_file(file, ec) || !in) {
    std::fprintf(stderr, "lbmail suppress: %s: not a readable file\n", file.c_str());
    return 1;
  }
  auto report = importSuppressions(in, store, {"", a.reason.value_or("manual"), a.source, "", "", now()},
                                   [&](uint64_t line, std::string_view reason) {
                                     std::fprintf(stderr, "%s:%llu: %.*s\n", file.c_str(),
                                                  static_cast<unsigned long long>(line),
                                                  static_cast<int>(reason.size()), reason.data());
                                   });
  if (!report) {
    std::fprintf(stderr, "lbmail suppress: %s\n", report.error().c_str());
    return 1;
  }
  std::printf("suppress import: %llu added, %llu already listed, %llu rejected\n",
              static_cast<unsigned long long>(report->added), static_cast<unsigned long long>(report->already),
              static_cast<unsigned long long>(report->rejected));
  return 0;
}

// RFC 4180: a field with a comma, quote or line break is quoted, its quotes doubled.
void csvField(const std::string& s, bool last) {
  if (s.find_first_of(",\"\r\n") == std::string::npos) {
    std::fputs(s.c_str(), stdout);
  } else {
    std::string quoted = "\"";
    for (char c : s) quoted += c == '"' ? std::string("\"\"") : std::string(1, c);
    std::fputs((quoted + "\"").c_str(), stdout);
  }
  std::fputc(last ? '\n' : ',', stdout);
}

int list(const Arguments& a, SuppressionStore& store) {
  std::printf("address,reason,source,campaign,detail,created\n");
  bool ok = store.list(a.reason, [](const Suppression& s) {
    for (const std::string* f : {&s.address, &s.reason, &s.source, &s.campaign, &s.detail}) csvField(*f, false);
    std::printf("%.3f\n", s.created);
  });
  if (ok) return 0;
  std::fprintf(stderr, "lbmail suppress: %s\n", store.lastError().c_str());
  return 1;
}

}  // namespace

int runSuppressCommand(const std::vector<std::string_view>& args) {
  Arguments a;
  if (int rc = parse(args, a); rc != 0) return rc < 0 ? 0 : rc;
  auto store = SuppressionStore::open(a.db);
  if (!store) {
    std::fprintf(stderr, "lbmail suppress: %s\n", store.error().c_str());
    return 1;
  }
  if (a.action == "import") return import(a, **store);
  if (a.action == "list") return list(a, **store);
  return addOrRemove(a, **store);
}

}  // namespace lbmail
