// Writing the refusal log.
#include "sink_refusal_log.h"

#include <cerrno>
#include <cstring>

#include "lbmail/core/json_writer.h"
#include "sink_rules.h"

namespace lbmail {

std::string SinkRefusalLog::open(const std::string& path) {
  if (path.empty()) return "";
  file_ = std::fopen(path.c_str(), "a");
  return file_ ? "" : path + ": " + std::strerror(errno);
}

void SinkRefusalLog::record(double unix_time, const std::string& client, std::string_view recipient,
                            const SinkReply& reply) {
  if (!file_) return;
  std::string line;
  JsonWriter w(line);
  w.beginObject().field("time", unix_time).field("client", client).field("rcpt", recipient);
  w.field("code", static_cast<int64_t>(reply.code)).field("enhanced", reply.enhanced).endObject();
  line.push_back('\n');
  std::fwrite(line.data(), 1, line.size(), file_);
}

void SinkRefusalLog::close() {
  if (file_) std::fclose(file_);
  file_ = nullptr;
}

}  // namespace lbmail
