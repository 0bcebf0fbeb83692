// Asynchronous message records for the sink.
#include "sink_message_log.h"

#include <fcntl.h>

#include <chrono>
#include <cinttypes>
#include <cstdio>
#include <ctime>

#include "lbmail/core/json_writer.h"
#include "lbmail/core/log.h"

namespace lbmail {
namespace {

// Beyond this much unwritten log, lines are dropped (and counted) rather than memory grown.
constexpr size_t kMaxPendingLog = 64 * 1024 * 1024;

// The trace header of RFC 5321 section 4.4 for a message received over TLS: "with ESMTPS"
// (RFC 3848) and, as Postfix writes it, a comment naming the TLS version and cipher.
std::string receivedHeader(const smtp::ReceivedMessage& m, const SinkMessageOrigin& origin,
                           const std::string& hostname, uint64_t number) {
  std::time_t now = std::time(nullptr);
  std::tm tm{};
  gmtime_r(&now, &tm);
  char date[64];
  std::strftime(date, sizeof date, "%a, %d %b %Y %H:%M:%S +0000", &tm);
  std::string literal = origin.client.find(':') == std::string_view::npos ? std::string(origin.client)
                                                                          : "IPv6:" + std::string(origin.client);
  return "Received: from " + std::string(m.helo) + " ([" + literal + "])\r\n\t(using " +
         std::string(origin.tls_version) + " with cipher " + std::string(origin.tls_cipher) + ")\r\n\tby " + hostname +
         " (lbmail sink) with ESMTPS id " + std::to_string(number) + ";\r\n\t" + date + "\r\n";
}

}  // namespace

// One message file: open, write, close, each step on the thread pool.
struct SinkMessageLog::FileWrite {
  SinkMessageLog* log;
  uv_fs_t req;
  std::string path;
  std::string trace;  // the Received header written before the body, or empty
  std::string body;
  uv_file fd = -1;

  void start() {
    req.data = this;
    uv_fs_open(log->loop_, &req, path.c_str(), O_CREAT | O_EXCL | O_WRONLY | O_CLOEXEC, 0644, onOpened);
  }
  static void onOpened(uv_fs_t* req) {
    auto* w = static_cast<FileWrite*>(req->data);
    ssize_t result = req->result;
    uv_fs_req_cleanup(req);
    if (result < 0) return w->finish(static_cast<int>(result));
    w->fd = static_cast<uv_file>(result);
    uv_buf_t bufs[] = {uv_buf_init(w->trace.data(), static_cast<unsigned>(w->trace.size())),
                       uv_buf_init(w->body.data(), static_cast<unsigned>(w->body.size()))};
    uv_fs_write(w->log->loop_, req, w->fd, bufs, 2, 0, onWritten);
  }
  static void onWritten(uv_fs_t* req) {
    auto* w = static_cast<FileWrite*>(req->data);
    ssize_t result = req->result;
    uv_fs_req_cleanup(req);
    int error = result < 0 ? static_cast<int>(result) : 0;
    uv_fs_close(w->log->loop_, req, w->fd, nullptr);  // synchronous form: fd close is not disk I/O
    uv_fs_req_cleanup(req);
    w->finish(error);
  }
  void finish(int error) {
    if (error < 0) logWarn("sink.message_file_failed", {{"path", path}, {"error", uv_strerror(error)}});
    SinkMessageLog* owner = log;
    --owner->files_in_flight_;
    size_t bytes = body.size();
    delete this;
    owner->file_written_(bytes);
    owner->maybeFinishClose();
  }
};

SinkMessageLog::SinkMessageLog(uv_loop_t* loop, std::string log_path, std::string dir, std::string hostname,
                               std::function<void(size_t)> file_written)
    : loop_(loop),
      log_path_(std::move(log_path)),
      dir_(std::move(dir)),
      hostname_(std::move(hostname)),
      file_written_(std::move(file_written)) {}

std::string SinkMessageLog::open() {
  if (log_path_.empty()) return "";
  uv_fs_t req;
  // At start-up, before the loop serves anyone: a synchronous open is fine here.
  int fd = uv_fs_open(nullptr, &req, log_path_.c_str(), O_CREAT | O_APPEND | O_WRONLY | O_CLOEXEC, 0644, nullptr);
  uv_fs_req_cleanup(&req);
  if (fd < 0) return "cannot open message_log " + log_path_ + ": " + uv_strerror(fd);
  fd_ = fd;
  return "";
}

void SinkMessageLog::record(const smtp::ReceivedMessage& m, const SinkMessageOrigin& origin, uint64_t number) {
  if (fd_ >= 0) {
    if (pending_.size() > kMaxPendingLog) {
      ++dropped_;
    } else {
      auto now = std::chrono::system_clock::now().time_since_epoch();
      char hash[17];
      std::snprintf(hash, sizeof hash, "%016" PRIx64, m.body_hash);
      JsonWriter w(pending_);
      w.beginObject();
      w.field("time", std::chrono::duration<double>(now).count());
      w.field("client", origin.client);
      w.field("helo", m.helo);
      w.field("sender", m.sender);
      w.key("recipients").beginArray();
      for (const std::string& r : *m.recipients) w.value(r);
      w.endArray();
      w.field("size", m.size);
      w.field("xxh3", std::string_view(hash));
      w.field("message_id", m.message_id);
      w.field("lbmail_id", m.lbmail_id);
      w.field("number", number);
      w.field("tls", origin.tls_version);
      w.endObject();
      pending_.push_back('\n');
      writeLog();
    }
  }
  if (!dir_.empty()) {
    std::string trace = origin.tls_version.empty() ? std::string() : receivedHeader(m, origin, hostname_, number);
    auto* f = new FileWrite{this, {}, dir_ + "/" + std::to_string(number) + ".eml", std::move(trace), std::string(m.body)};
    ++files_in_flight_;
    f->start();
  }
}

void SinkMessageLog::writeLog() {
  if (log_write_in_flight_ || pending_.empty() || fd_ < 0) return;
  writing_.swap(pending_);
  pending_.clear();
  log_write_in_flight_ = true;
  log_req_.data = this;
  uv_buf_t buf = uv_buf_init(writing_.data(), static_cast<unsigned>(writing_.size()));
  uv_fs_write(loop_, &log_req_, fd_, &buf, 1, -1, onLogWritten);
}

void SinkMessageLog::onLogWritten(uv_fs_t* req) {
  auto* self = static_cast<SinkMessageLog*>(req->data);
  if (req->result < 0) {
    logWarn("sink.message_log_failed", {{"path", self->log_path_}, {"error", uv_strerror(static_cast<int>(req->result))}});
  }
  uv_fs_req_cleanup(req);
  self->log_write_in_flight_ = false;
  self->writing_.clear();
  self->writeLog();
  self->maybeFinishClose();
}

void SinkMessageLog::close(std::function<void()> done) {
  closed_.add(std::move(done));
  closing_ = true;
  writeLog();
  maybeFinishClose();
}

void SinkMessageLog::maybeFinishClose() {
  if (!closing_ || log_write_in_flight_ || !pending_.empty() || files_in_flight_ > 0) return;
  if (fd_ >= 0) {
    uv_fs_t req;
    uv_fs_close(nullptr, &req, fd_, nullptr);
    uv_fs_req_cleanup(&req);
    fd_ = -1;
  }
  closed_.runAll();
}

}  // namespace lbmail
