// What the sink writes about accepted messages, off the loop (libuv's thread pool): a JSON line
// per message, and optionally each message as a file for tests to parse.
#pragma once

#include <uv.h>

#include <cstdint>
#include <functional>
#include <string>

#include "lbmail/core/done_callbacks.h"
#include "lbmail/smtp/smtp_server_protocol.h"

namespace lbmail {

// How an accepted message came: from which address and, after STARTTLS, over which TLS.
struct SinkMessageOrigin {
  std::string_view client;
  std::string_view tls_version;  // "TLSv1.3"; empty for a message received in plaintext
  std::string_view tls_cipher;   // "TLS_AES_256_GCM_SHA384"
};

class SinkMessageLog {
 public:
  // file_written(bytes) runs when a message file's copy of a body is freed. hostname is the
  // sink's, for the Received header of message files.
  SinkMessageLog(uv_loop_t* loop, std::string log_path, std::string dir, std::string hostname,
                 std::function<void(size_t bytes)> file_written = [](size_t) {});
  SinkMessageLog(const SinkMessageLog&) = delete;
  SinkMessageLog& operator=(const SinkMessageLog&) = delete;

  // Opens the log file for appending (at start-up); "" when fine, else why not.
  std::string open();
  bool keepsBodies() const { return !dir_.empty(); }
  // Queues the record of one accepted message; number names its file in the directory, which
  // holds a copy of the body until written. The log line names the TLS version ("tls", empty
  // in plaintext); a message received over TLS gets a Received header in its file that says so
  // (one received in plaintext is stored exactly as sent, for tests that compare bytes).
  void record(const smtp::ReceivedMessage& message, const SinkMessageOrigin& origin, uint64_t number);
  // Writes what is queued, closes the file; done runs when nothing is in flight.
  void close(std::function<void()> done);

  uint64_t linesDropped() const { return dropped_; }

 private:
  struct FileWrite;
  static void onLogWritten(uv_fs_t* req);
  void writeLog();
  void maybeFinishClose();

  uv_loop_t* loop_;
  std::string log_path_;
  std::string dir_;
  std::string hostname_;
  std::function<void(size_t)> file_written_;
  uv_file fd_ = -1;
  std::string pending_;   // lines not yet handed to the thread pool
  std::string writing_;   // lines being written
  uv_fs_t log_req_;
  bool log_write_in_flight_ = false;
  size_t files_in_flight_ = 0;
  uint64_t dropped_ = 0;
  bool closing_ = false;
  DoneCallbacks closed_;
};

}  // namespace lbmail
