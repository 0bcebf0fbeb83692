// The feedback spool's file: load, append, fdatasync off the loop, rewrite.
#include "feedback_spool.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <set>

#include "feedback_spool_format.h"
#include "lbmail/core/log.h"

namespace lbmail {
namespace {

std::string errnoText(const std::string& what, const std::string& path) {
  return what + " " + path + ": " + std::strerror(errno);
}

bool writeAll(int fd, std::string_view bytes) {
  while (!bytes.empty()) {
    ssize_t n = ::write(fd, bytes.data(), bytes.size());
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    bytes.remove_prefix(static_cast<size_t>(n));
  }
  return true;
}

Expected<std::string, std::string> readAll(int fd, const std::string& path) {
  std::string bytes;
  char buf[65536];
  for (;;) {
    ssize_t n = ::read(fd, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return unexpected(errnoText("cannot read", path));
    if (n == 0) return bytes;
    bytes.append(buf, static_cast<size_t>(n));
  }
}

// After a rename the directory entry must reach the disk too (fsync(2) on the directory).
void syncDirectory(const std::string& path) {
  std::string dir = std::filesystem::path(path).parent_path().string();
  int fd = ::open(dir.empty() ? "." : dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return;
  ::fsync(fd);
  ::close(fd);
}

}  // namespace

FeedbackSpool::FeedbackSpool(uv_loop_t* loop, std::string path, Limits limits)
    : loop_(loop), path_(std::move(path)), limits_(limits) {
  if (loop_) queue_ = std::make_unique<BackgroundQueue>(loop_);
}

FeedbackSpool::~FeedbackSpool() {
  if (fd_ >= 0) ::close(fd_);
}

std::string FeedbackSpool::open(uint64_t now_ms) {
  fd_ = ::open(path_.c_str(), O_RDWR | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
  if (fd_ < 0) return errnoText("cannot open", path_);
  return load(now_ms);
}

std::string FeedbackSpool::load(uint64_t now_ms) {
  auto bytes = readAll(fd_, path_);
  if (!bytes) return bytes.error();
  SpoolReadResult read = readSpoolRecords(*bytes, [this](SpoolRecord&& r) { apply(std::move(r)); });
  file_bytes_ = read.good_bytes;
  if (read.damaged && read.good_bytes == 0) return path_ + ": " + read.why + "; move it away to start an empty spool";
  if (bytes->empty() || read.damaged) {
    // Initiators keep events by (gateway, sequence): a new spool, or one that may have lost the
    // record of the highest sequence given, starts above any sequence an earlier one gave (a
    // thousand a millisecond), never reusing one an initiator already applied.
    next_sequence_ = std::max(next_sequence_, now_ms * 1000);
  }
  if (bytes->empty()) {
    if (!append(std::string(kSpoolMagic))) return errnoText("cannot write", path_);
    return "";
  }
  if (read.damaged) {
    // Kept for a person to look at; what was read whole is rewritten at once, so later appends
    // never sit behind a damaged record.
    std::string aside = path_ + ".damaged";
    int fd = ::open(aside.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd >= 0) {
      writeAll(fd, *bytes);
      ::close(fd);
    }
    logWarn("gateway.feedback_spool_damaged", {{"path", path_},
                                                {"error", read.why},
                                                {"bytes_dropped", static_cast<uint64_t>(bytes->size() - read.good_bytes)},
                                                {"kept_as", aside}});
    if (std::string err = compact(now_ms); !err.empty()) return err;
  } else {
    maybeCompact(now_ms);
  }
  logInfo("gateway.feedback_spool_loaded",
          {{"path", path_}, {"unacknowledged", static_cast<uint64_t>(events_.size())}, {"used_tokens", static_cast<uint64_t>(used_.size())}});
  return "";
}

void FeedbackSpool::apply(SpoolRecord&& r) {
  switch (r.type) {
    case SpoolRecord::Type::kEvent: {
      FeedbackEvent& e = r.event;
      next_sequence_ = std::max(next_sequence_, e.sequence + 1);
      if (e.final()) used_[{e.campaign, e.recipient, e.attempt}] = e.at_ms;
      if (auto key = repeatKeyOf(e)) recorded_[*key] = std::max(recorded_[*key], e.at_ms);
      uint64_t seq = e.sequence;
      events_[seq] = std::move(e);
      break;
    }
    case SpoolRecord::Type::kAcknowledged:
      for (uint64_t s : r.acknowledged) acknowledged_records_ += events_.erase(s);
      break;
    case SpoolRecord::Type::kUsedToken: used_[r.token] = std::max(used_[r.token], r.at_ms); break;
    case SpoolRecord::Type::kRecordedToken: {
      FeedbackRepeatKey key{r.kind, r.token};
      recorded_[key] = std::max(recorded_[key], r.at_ms);
      break;
    }
    case SpoolRecord::Type::kNextSequence: next_sequence_ = std::max(next_sequence_, r.next_sequence); break;
  }
}

bool FeedbackSpool::append(const std::string& bytes) {
  if (fd_ >= 0 && writeAll(fd_, bytes)) {
    file_bytes_ += bytes.size();
    scheduleSync();
    return true;
  }
  ++write_failures_;
  logError("gateway.feedback_spool_write_failed", {{"path", path_}, {"error", std::strerror(errno)}});
  // A partly written record would hide every later one at the next load: cut it off.
  if (fd_ >= 0 && ::ftruncate(fd_, static_cast<off_t>(file_bytes_)) != 0) {
    logError("gateway.feedback_spool_truncate_failed", {{"path", path_}, {"error", std::strerror(errno)}});
  }
  return false;
}

bool FeedbackSpool::repeat(const FeedbackEvent& event) const {
  auto key = repeatKeyOf(event);
  return key && recorded_.count(*key) > 0;
}

Expected<std::vector<uint64_t>, FeedbackSpool::AddError> FeedbackSpool::add(std::vector<FeedbackEvent> events) {
  std::vector<uint64_t> sequences(events.size(), 0);
  std::vector<SpoolRecord> records;
  std::set<FeedbackRepeatKey> batch;  // a repeat within the message itself
  std::string bytes;
  for (size_t i = 0; i < events.size(); ++i) {
    auto key = repeatKeyOf(events[i]);
    if (key && (recorded_.count(*key) || !batch.insert(*key).second)) continue;
    sequences[i] = next_sequence_ + records.size();
    records.emplace_back().event = std::move(events[i]);
    records.back().event.sequence = sequences[i];
    appendSpoolRecord(records.back(), bytes);
  }
  if (records.empty()) return sequences;
  // A message's events go in together or not at all: a 452 after some were written would make
  // the sender's retry add them twice.
  if (events_.size() + records.size() > limits_.max_unacknowledged) return unexpected(AddError::kFull);
  if (!append(bytes)) return unexpected(AddError::kWriteFailed);
  next_sequence_ += records.size();
  for (SpoolRecord& r : records) apply(std::move(r));
  return sequences;
}

Expected<uint64_t, FeedbackSpool::AddError> FeedbackSpool::add(FeedbackEvent event) {
  std::vector<FeedbackEvent> one;
  one.push_back(std::move(event));
  auto sequences = add(std::move(one));
  if (!sequences) return unexpected(sequences.error());
  return sequences->front();
}

void FeedbackSpool::acknowledge(const std::vector<uint64_t>& sequences, uint64_t now_ms) {
  SpoolRecord r;
  r.type = SpoolRecord::Type::kAcknowledged;
  std::string bytes;
  // Bounded records: a long acknowledgement is written in pieces.
  for (uint64_t s : sequences) {
    if (events_.count(s) == 0) continue;
    r.acknowledged.push_back(s);
    if (r.acknowledged.size() == kMaxSpoolPayload / 8 - 1) {
      appendSpoolRecord(r, bytes);
      r.acknowledged.clear();
    }
  }
  if (!r.acknowledged.empty()) appendSpoolRecord(r, bytes);
  if (bytes.empty()) return;
  // Acknowledged in memory even if the write fails: the worst is a resend after a restart,
  // which the initiator applies idempotently.
  append(bytes);
  for (uint64_t s : sequences) acknowledged_records_ += events_.erase(s);
  maybeCompact(now_ms);
}

void FeedbackSpool::scheduleSync() {
  dirty_ = true;
  if (syncing_) return;
  if (!queue_) {
    ::fdatasync(fd_);
    dirty_ = false;
    return;
  }
  syncing_ = true;
  dirty_ = false;
  int fd = fd_;
  queue_->post([fd] { ::fdatasync(fd); },
               [this] {
                 syncing_ = false;
                 if (dirty_) scheduleSync();
               });
}

void FeedbackSpool::maybeCompact(uint64_t now_ms) {
  if (acknowledged_records_ < limits_.compact_after || acknowledged_records_ < 3 * events_.size()) return;
  if (std::string err = compact(now_ms); !err.empty()) {
    logWarn("gateway.feedback_spool_compact_failed", {{"path", path_}, {"error", err}});
  }
}

std::string FeedbackSpool::compact(uint64_t now_ms) {
  uint64_t window_ms = toMillis(limits_.replay_window);
  std::erase_if(used_, [&](const auto& u) { return u.second + window_ms < now_ms; });
  std::erase_if(recorded_, [&](const auto& u) { return u.second + window_ms < now_ms; });
  std::string bytes(kSpoolMagic);
  SpoolRecord next;
  next.type = SpoolRecord::Type::kNextSequence;
  next.next_sequence = next_sequence_;
  appendSpoolRecord(next, bytes);
  SpoolRecord used;
  used.type = SpoolRecord::Type::kUsedToken;
  for (const auto& [token, at_ms] : used_) {
    used.token = token;
    used.at_ms = at_ms;
    appendSpoolRecord(used, bytes);
  }
  SpoolRecord recorded;
  recorded.type = SpoolRecord::Type::kRecordedToken;
  for (const auto& [key, at_ms] : recorded_) {
    recorded.kind = key.kind;
    recorded.token = key.token;
    recorded.at_ms = at_ms;
    appendSpoolRecord(recorded, bytes);
  }
  SpoolRecord event;
  for (const auto& [seq, e] : events_) {
    event.event = e;
    appendSpoolRecord(event, bytes);
  }
  std::string temp = path_ + ".tmp";
  int fd = ::open(temp.c_str(), O_RDWR | O_CREAT | O_TRUNC | O_APPEND | O_CLOEXEC, 0600);
  if (fd < 0) return errnoText("cannot create", temp);
  if (!writeAll(fd, bytes) || ::fsync(fd) != 0 || ::rename(temp.c_str(), path_.c_str()) != 0) {
    std::string err = errnoText("cannot write", temp);
    ::close(fd);
    ::unlink(temp.c_str());
    return err;
  }
  syncDirectory(path_);
  closeFd(fd_);
  fd_ = fd;
  file_bytes_ = bytes.size();
  acknowledged_records_ = 0;
  ++compactions_;
  return "";
}

void FeedbackSpool::closeFd(int fd) {
  if (fd < 0) return;
  // An fdatasync of the old file may be running: it is closed after it, in the queue's order.
  if (queue_) {
    queue_->post([fd] { ::close(fd); });
  } else {
    ::close(fd);
  }
}

void FeedbackSpool::close(std::function<void()> done) {
  auto finish = [this, done = std::move(done)] {
    if (fd_ >= 0) {
      ::fdatasync(fd_);
      ::close(fd_);
      fd_ = -1;
    }
    done();
  };
  if (!queue_) return finish();
  queue_->whenIdle(std::move(finish));
}

}  // namespace lbmail
