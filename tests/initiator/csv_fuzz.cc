// libFuzzer target for the CSV reader: any bytes, fed in two pieces split by the first byte's
// value; never a crash, every field within the record limit, every line number moving forward.
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "csv_reader.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view input(reinterpret_cast<const char*>(data), size);
  size_t cut = size ? data[0] % (size + 1) : 0;
  uint64_t last_line = 0;
  auto check_line = [&](uint64_t line) {
    if (line < last_line || line == 0) std::abort();
    last_line = line;
  };
  lbmail::CsvReader reader(
      [&](uint64_t line, const std::vector<std::string_view>& fields) {
        check_line(line);
        size_t total = 0;
        for (std::string_view f : fields) total += f.size();
        if (fields.empty() || total > lbmail::CsvReader::kMaxRecordOctets) std::abort();
      },
      [&](uint64_t line, std::string_view reason) {
        check_line(line);
        if (reason.empty()) std::abort();
      });
  reader.feed(input.substr(0, cut));
  reader.feed(input.substr(cut));
  reader.finish();
  return 0;
}
