// The import command: arguments, progress, report.
#include "import_command.h"

#include <cstdio>
#include <string>

#include "recipient_import.h"

namespace lbmail {

int runImportCommand(const std::vector<std::string_view>& args) {
  std::string csv, db;
  for (size_t i = 0; i < args.size(); ++i) {
    std::string_view a = args[i];
    if (a == "-h" || a == "--help") {
      std::printf(
          "usage: lbmail import FILE.csv --db FILE\n\n"
          "Reads RFC 4180 CSV (a header row names the attributes; an 'email' column is required)\n"
          "into the recipient database, creating it if needed. An address already there gets the new\n"
          "attributes. Every rejected row is reported on stderr as FILE:LINE: reason.\n");
      return 0;
    }
    if (a == "--db") {
      if (i + 1 >= args.size()) {
        std::fprintf(stderr, "lbmail import: --db needs a file name\n");
        return 2;
      }
      db = args[++i];
    } else if (!a.empty() && a.front() == '-') {
      std::fprintf(stderr, "lbmail import: unknown option '%.*s'\n", static_cast<int>(a.size()), a.data());
      return 2;
    } else if (csv.empty()) {
      csv = a;
    } else {
      std::fprintf(stderr, "lbmail import: one CSV file at a time\n");
      return 2;
    }
  }
  if (csv.empty() || db.empty()) {
    std::fprintf(stderr, "lbmail import: usage: lbmail import FILE.csv --db FILE\n");
    return 2;
  }
  auto store = RecipientStore::open(db);
  if (!store) {
    std::fprintf(stderr, "lbmail import: %s\n", store.error().c_str());
    return 1;
  }
  auto report = importRecipients(csv, **store, [&](uint64_t line, std::string_view reason) {
    std::fprintf(stderr, "%s:%llu: %.*s\n", csv.c_str(), static_cast<unsigned long long>(line),
                 static_cast<int>(reason.size()), reason.data());
  });
  if (!report) {
    std::fprintf(stderr, "lbmail import: %s\n", report.error().c_str());
    return 1;
  }
  std::printf("import: %llu rows: %llu added, %llu updated, %llu rejected; %llu recipients in %s\n",
              static_cast<unsigned long long>(report->rows), static_cast<unsigned long long>(report->inserted),
              static_cast<unsigned long long>(report->updated), static_cast<unsigned long long>(report->rejected),
              static_cast<unsigned long long>((*store)->recipientCount()), db.c_str());
  return 0;
}

}  // namespace lbmail
