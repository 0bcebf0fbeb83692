// The gateway's feedback spool: every event an SMTP message or an unsubscribe click produced,
// kept in an append-only file until an initiator acknowledges it, so events survive restarts and
// links that come and go. An event is written (write(2)) before its sender hears 250, so a
// kill -9 of the gateway loses nothing that was answered; fdatasync runs off the loop, batched,
// so a power loss may take the last moments (docs/feedback.md#spool). The file is rewritten
// (temporary file, fsync, rename) once it is mostly acknowledged records; the rewrite runs on
// the loop, rarely (after compact_after acknowledgements) and bounded by the cap (about 100
// bytes an event, so 10 MB at 100k). It also remembers the tokens of final events (hard
// bounce, complaint) for the replay check, for as long as such a token could still verify.
#pragma once

#include <uv.h>

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "feedback_event.h"
#include "lbmail/core/background_queue.h"
#include "lbmail/core/expected.h"
#include "lbmail/core/units.h"

namespace lbmail {

struct SpoolRecord;

class FeedbackSpool {
 public:
  struct Limits {
    uint64_t max_unacknowledged = 100000;  // past it add() refuses (the SMTP side answers 452)
    Duration replay_window = std::chrono::hours(24 * 31);  // how long used tokens are remembered
    uint64_t compact_after = 4096;  // acknowledged records before a rewrite is considered
  };
  enum class AddError { kFull, kWriteFailed };

  // loop: where fdatasync jobs complete; null runs fdatasync at once (tools, tests).
  FeedbackSpool(uv_loop_t* loop, std::string path, Limits limits);
  ~FeedbackSpool();
  FeedbackSpool(const FeedbackSpool&) = delete;
  FeedbackSpool& operator=(const FeedbackSpool&) = delete;

  // Creates or loads the file: "" or the error. A torn or damaged tail is dropped (logged, the
  // damaged file kept beside as <path>.damaged); a file that is not a spool is an error.
  std::string open(uint64_t now_ms);
  // Numbers the events, appends them in one write and remembers their tokens: each one's
  // sequence, or 0 for a repeat (an unsubscribe or soft bounce already recorded, which adds
  // nothing). All or none: kFull when the new ones do not all fit.
  Expected<std::vector<uint64_t>, AddError> add(std::vector<FeedbackEvent> events);
  // One event: its sequence, or 0 for a repeat.
  Expected<uint64_t, AddError> add(FeedbackEvent event);
  bool full() const { return events_.size() >= limits_.max_unacknowledged; }
  // An event like this one is in the spool or was acknowledged within the replay window.
  bool repeat(const FeedbackEvent& event) const;
  // A final event was already received for this token.
  bool used(const FeedbackTokenKey& token) const { return used_.count(token) > 0; }
  // The initiator has these: they leave the spool (and the file at the next rewrite).
  void acknowledge(const std::vector<uint64_t>& sequences, uint64_t now_ms);
  const std::map<uint64_t, FeedbackEvent>& unacknowledged() const { return events_; }

  uint64_t compactions() const { return compactions_; }
  uint64_t writeFailures() const { return write_failures_; }
  uint64_t fileBytes() const { return file_bytes_; }
  // Waits for the fdatasync under way, syncs once more and closes the file.
  void close(std::function<void()> done);

 private:
  std::string load(uint64_t now_ms);
  void apply(SpoolRecord&& record);
  bool append(const std::string& bytes);
  void scheduleSync();
  void maybeCompact(uint64_t now_ms);
  // Rewrites the file with what is still needed: "" or the error (the old file stays then).
  std::string compact(uint64_t now_ms);
  void closeFd(int fd);

  uv_loop_t* loop_;
  std::string path_;
  Limits limits_;
  std::unique_ptr<BackgroundQueue> queue_;  // fdatasync and retired descriptors, in order
  int fd_ = -1;
  uint64_t file_bytes_ = 0;  // what is known written whole: a failed write is cut back to it
  uint64_t next_sequence_ = 1;
  std::map<uint64_t, FeedbackEvent> events_;
  std::map<FeedbackTokenKey, uint64_t> used_;  // final events' tokens, with when they came
  std::map<FeedbackRepeatKey, uint64_t> recorded_;  // unsubscribes and soft bounces, with when
  uint64_t acknowledged_records_ = 0;         // since the last rewrite
  bool dirty_ = false;                        // written since the last fdatasync began
  bool syncing_ = false;
  uint64_t compactions_ = 0;
  uint64_t write_failures_ = 0;
};

}  // namespace lbmail
