// The gateway's feedback SMTP listener ([feedback] listen): where bounces (DSNs to VERP
// addresses), feedback-loop complaints (ARF) and List-Unsubscribe mailto: messages arrive. It
// takes only recipients with a valid token at a bounce domain and the configured feedback
// addresses (FeedbackIntake), and answers 250 at the end of data only once the message's events
// are in the spool. Plain SMTP only for now: STARTTLS is not offered (bounces carry nothing a
// passive listener could misuse, and the tokens are unforgeable).
#pragma once

#include <uv.h>

#include <cstdint>
#include <functional>
#include <list>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "feedback_config.h"
#include "feedback_intake.h"
#include "feedback_session.h"
#include "feedback_spool.h"
#include "lbmail/core/json_writer.h"
#include "lbmail/core/metrics_registry.h"
#include "lbmail/core/tcp_listener.h"

namespace lbmail {

class FeedbackListener {
 public:
  // Puts a message's events in the spool, all or none (and sends them on when a link can take
  // them): each one's sequence, 0 for a repeat of one already recorded.
  using Store = std::function<Expected<std::vector<uint64_t>, FeedbackSpool::AddError>(std::vector<FeedbackEvent>&& events)>;

  FeedbackListener(uv_loop_t* loop, const FeedbackSettings& settings, const FeedbackSpool& spool,
                   MetricsRegistry& metrics, Store store);
  ~FeedbackListener();
  FeedbackListener(const FeedbackListener&) = delete;
  FeedbackListener& operator=(const FeedbackListener&) = delete;

  int start();
  SocketAddress boundAddress() const { return listener_.boundAddress(); }
  // Stops listening and closes every connection (mid-message ones lose their message, which
  // their sender will retry: nothing was answered).
  void close(std::function<void()> done);
  void writeStatus(JsonWriter& w);

  // For sessions.
  uv_loop_t* loop() const { return loop_; }
  const FeedbackSettings& settings() const { return settings_; }
  const FeedbackIntakeSettings& intakeSettings() const { return intake_settings_; }
  bool used(const FeedbackTokenKey& token) const { return spool_.used(token); }
  uint64_t nowMs() const;
  uv_buf_t readBuffer() { return uv_buf_init(read_buffer_.data(), static_cast<unsigned>(read_buffer_.size())); }
  bool reserveBody(size_t bytes);
  void releaseBody(size_t bytes);
  void countRefusal(const std::string& reason);
  // A message's end: stores its events and gives the final reply.
  smtp::SmtpServerProtocol::Decision take(FeedbackIntake::Result& result, const std::string& client);
  void sessionClosed(FeedbackSession& session);

 private:
  void onConnection(uv_stream_t* server);
  void maybeDone();

  uv_loop_t* loop_;
  const FeedbackSettings& settings_;
  FeedbackIntakeSettings intake_settings_;
  const FeedbackSpool& spool_;
  MetricsRegistry& metrics_;
  Store store_;
  TcpListener listener_;
  std::list<std::unique_ptr<FeedbackSession>> sessions_;
  std::vector<char> read_buffer_;
  uint64_t kept_bytes_ = 0;
  bool closing_ = false;
  bool listener_closed_ = false;
  std::function<void()> close_done_;
  uint64_t messages_ = 0;
  uint64_t refused_ = 0;
  uint64_t unattributed_ = 0;
  Counter& connections_refused_;
  Counter& unattributed_total_;
  Counter& spool_full_;
};

}  // namespace lbmail
