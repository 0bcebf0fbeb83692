// CSV rows to recipients: header, normalisation, attributes as JSON, batched transactions.
#include "recipient_import.h"

#include <fcntl.h>
#include <idn2.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <vector>

#include "lbmail/core/ascii_case.h"
#include "csv_reader.h"
#include "lbmail/core/json_writer.h"
#include "lbmail/core/mailbox.h"
#include "lbmail/media/mime_header.h"

namespace lbmail {
namespace {

constexpr uint64_t kBatchRows = 10000;

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

}  // namespace

Expected<std::string, std::string> normaliseAddress(std::string_view text) {
  text = trim(text);
  size_t at = text.rfind('@');
  if (at == std::string_view::npos) return unexpected(std::string("no '@'"));
  std::string domain = asciiLowercase(text.substr(at + 1));
  if (std::any_of(domain.begin(), domain.end(), [](char c) { return static_cast<unsigned char>(c) >= 0x80; })) {
    char* ascii = nullptr;
    int rc = idn2_to_ascii_8z(domain.c_str(), &ascii, IDN2_NONTRANSITIONAL | IDN2_NFC_INPUT);
    if (rc != IDN2_OK)
      return unexpected("domain is not a valid internationalised name (" + std::string(idn2_strerror(rc)) + ")");
    domain = ascii;
    idn2_free(ascii);
  }
  std::string email = std::string(text.substr(0, at)) + "@" + domain;
  if (const char* err = mailboxError(email)) return unexpected(std::string(err));
  return email;
}

Expected<ImportReport, std::string> importRecipients(const std::string& csv_path, RecipientStore& store,
                                                     const std::function<void(uint64_t, std::string_view)>& reject) {
  int fd = ::open(csv_path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return unexpected(csv_path + ": " + std::strerror(errno));

  ImportReport report;
  std::vector<std::string> header;
  int email_column = -1;
  std::string fatal;
  std::string json;
  bool in_batch = false;
  uint64_t batch_rows = 0;

  auto onRecord = [&](uint64_t line, const std::vector<std::string_view>& fields) {
    if (!fatal.empty()) return;
    if (header.empty()) {
      for (std::string_view f : fields) {
        std::string name(trim(f));
        if (name.empty()) fatal = "line " + std::to_string(line) + ": an empty column name in the header";
        if (std::find(header.begin(), header.end(), name) != header.end()) {
          fatal = "line " + std::to_string(line) + ": column '" + name + "' appears twice in the header";
        }
        if (asciiLowercase(name) == "email") email_column = static_cast<int>(header.size());
        header.push_back(std::move(name));
      }
      if (fatal.empty() && email_column < 0) fatal = "the header has no 'email' column";
      return;
    }
    ++report.rows;
    if (fields.size() != header.size()) {
      ++report.rejected;
      reject(line, std::to_string(fields.size()) + " fields, the header has " + std::to_string(header.size()));
      return;
    }
    auto email = normaliseAddress(fields[static_cast<size_t>(email_column)]);
    if (!email) {
      ++report.rejected;
      reject(line, "email: " + email.error());
      return;
    }
    for (size_t i = 0; i < fields.size(); ++i) {
      if (!media::validUtf8(fields[i])) {
        ++report.rejected;
        reject(line, "column '" + header[i] + "' is not valid UTF-8");
        return;
      }
    }
    json.clear();
    JsonWriter w(json);
    w.beginObject();
    for (size_t i = 0; i < fields.size(); ++i) {
      if (static_cast<int>(i) != email_column) w.field(header[i], fields[i]);
    }
    w.endObject();
    if (!in_batch) in_batch = store.beginBatch();
    std::string_view domain = std::string_view(*email).substr(email->rfind('@') + 1);
    switch (store.upsert(*email, domain, json)) {
      case RecipientStore::Upsert::kInserted: ++report.inserted; break;
      case RecipientStore::Upsert::kUpdated: ++report.updated; break;
      case RecipientStore::Upsert::kFailed: fatal = "database: " + store.lastError(); return;
    }
    if (++batch_rows >= kBatchRows) {
      if (!store.commitBatch()) fatal = "database: " + store.lastError();
      in_batch = false;
      batch_rows = 0;
    }
  };
  auto onError = [&](uint64_t line, std::string_view reason) {
    if (header.empty()) {
      fatal = "line " + std::to_string(line) + ": the header row is not valid CSV (" + std::string(reason) + ")";
      return;
    }
    ++report.rows;
    ++report.rejected;
    reject(line, reason);
  };

  CsvReader reader(onRecord, onError);
  char block[1 << 16];
  for (;;) {
    ssize_t n = ::read(fd, block, sizeof block);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      fatal = csv_path + ": " + std::strerror(errno);
      break;
    }
    if (n == 0) break;
    reader.feed(std::string_view(block, static_cast<size_t>(n)));
    if (!fatal.empty()) break;
  }
  if (fatal.empty()) reader.finish();
  ::close(fd);
  if (in_batch && !store.commitBatch() && fatal.empty()) fatal = "database: " + store.lastError();
  if (fatal.empty() && header.empty()) fatal = csv_path + ": empty file (a header row with 'email' is needed)";
  if (!fatal.empty()) return unexpected(fatal);
  return report;
}

}  // namespace lbmail
