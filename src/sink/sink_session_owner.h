// What a sink session may ask of the sink that owns it, and nothing more.
#pragma once

#include <uv.h>

#include <cstdint>
#include <string>
#include <string_view>

#include "lbmail/smtp/smtp_server_protocol.h"
#include "sink_config.h"
#include "sink_message_log.h"
#include "sink_rules.h"

namespace lbmail {

class SinkSession;
class SinkTlsContext;

class SinkSessionOwner {
 public:
  virtual uv_loop_t* loop() const = 0;
  virtual const SinkSettings& settings() const = 0;
  // The rule that applies now to client and a recipient domain ("" before any recipient).
  virtual const SinkRule& rule(const std::string& client, std::string_view domain) const = 0;
  // Counts one recipient's outcome: accepted, deferred, bounced or dropped.
  virtual void count(const std::string& client, std::string_view domain, std::string_view outcome) = 0;
  // A MAIL from client now: false when it exceeds the rule's message rate.
  virtual bool admitMessage(const std::string& client, double max_rate) = 0;
  // The sink refused recipient from client at RCPT with reply (bounce_rcpt).
  virtual void refused(const std::string& client, std::string_view recipient, const SinkReply& reply) = 0;
  // The sink gave client a limit reply (a message rate, connection or per-connection cap).
  virtual void limited(const std::string& client, int code) = 0;
  // Numbers an accepted message and writes it to the message log; returns its number.
  virtual uint64_t recordMessage(const smtp::ReceivedMessage& message, const SinkMessageOrigin& origin) = 0;
  // The context STARTTLS sessions come from; nullptr when the sink has no certificate.
  virtual const SinkTlsContext* tlsContext() const = 0;
  // A STARTTLS handshake completed (established) or failed.
  virtual void tlsHandshakeDone(bool established) = 0;
  // True when the message log keeps whole messages, so the protocol must keep their bodies.
  virtual bool keepsBodies() const = 0;
  // The sink-wide budget for kept bodies (max_body_memory): false when bytes more do not fit.
  virtual bool reserveBody(size_t bytes) = 0;
  virtual void releaseBody(size_t bytes) = 0;
  // A session's memory (queued replies, protocol buffers) changed by delta bytes.
  virtual void bufferedChanged(int64_t delta) = 0;
  // The buffer every session reads into: each read is consumed before the next one.
  virtual uv_buf_t readBuffer() = 0;
  // Runs after the session's last handle closed; deletes the session.
  virtual void sessionClosed(SinkSession& session) = 0;

 protected:
  ~SinkSessionOwner() = default;
};

}  // namespace lbmail
