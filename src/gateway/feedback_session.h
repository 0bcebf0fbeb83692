// One SMTP connection to the feedback listener: the server protocol fed from the socket, its
// replies written back in order, an idle timeout (a peer that never sends is closed) and
// reading paused while replies pile up unread (a peer that never reads cannot grow memory).
#pragma once

#include <uv.h>

#include <list>
#include <memory>
#include <string>
#include <vector>

#include "feedback_intake.h"
#include "lbmail/core/handle_closer.h"
#include "lbmail/smtp/smtp_server_protocol.h"

namespace lbmail {

class FeedbackListener;

class FeedbackSession final : private smtp::SmtpServerProtocol::Policy {
 public:
  using Handle = std::list<std::unique_ptr<FeedbackSession>>::iterator;

  explicit FeedbackSession(FeedbackListener& listener);
  FeedbackSession(const FeedbackSession&) = delete;
  FeedbackSession& operator=(const FeedbackSession&) = delete;

  // Accepts from the listener; false when the accept failed (the session is closing itself).
  bool start(uv_stream_t* server, Handle self);
  void greet();
  // 421 and close: too many connections, or the gateway is stopping (RFC 5321 section 3.8).
  void refuse(std::string_view text);
  void close();
  Handle handle() const { return self_; }

 private:
  struct WriteRequest {
    uv_write_t req;
    FeedbackSession* session;  // not req->handle->data: the closer's once close() ran
    std::string text;
  };

  smtp::SmtpServerProtocol::Decision onMail(std::string_view sender) override;
  smtp::SmtpServerProtocol::Decision onRecipient(std::string_view address) override;
  smtp::SmtpServerProtocol::Decision onMessage(const smtp::ReceivedMessage& message) override;
  bool keepBodies() const override { return true; }  // the report is read at its end
  bool reserveBody(size_t bytes) override;
  void releaseBody(size_t bytes) override;

  static void onAlloc(uv_handle_t* handle, size_t suggested, uv_buf_t* buf);
  static void onRead(uv_stream_t* stream, ssize_t nread, const uv_buf_t* buf);
  static void onWrite(uv_write_t* req, int status);
  static void onIdle(uv_timer_t* timer);

  void write(std::vector<smtp::ServerReply> replies);
  void updateReading();
  void armIdle();

  FeedbackListener& listener_;
  Handle self_;
  uv_tcp_t tcp_;
  uv_timer_t idle_timer_;
  HandleCloser closer_;
  bool reading_ = false;
  bool close_after_write_ = false;
  size_t writes_in_flight_ = 0;
  size_t reserved_ = 0;  // body bytes this session holds of the listener's budget
  std::string client_;
  FeedbackIntake intake_;
  smtp::SmtpServerProtocol protocol_;
};

}  // namespace lbmail
