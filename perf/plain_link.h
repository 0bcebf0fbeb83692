// A plaintext link for perf/link_bench only: the "before" that the TLS link is measured against
// in the same run. The product has had no plaintext link since link version 3 (issue 17), so
// this keeps just LinkConnection's data path over bare libuv TCP: the same frame codec
// (encodeFrame, splitFrame, decodePayload), every frame queued in one loop turn leaving in one
// writev, the same credit window. No handshake, heartbeats or limits: it is not a product link.
#pragma once

#include <uv.h>

#include <cstdint>
#include <vector>

#include "lbmail/core/buffer_list.h"
#include "lbmail/core/handle_closer.h"
#include "lbmail/core/socket_address.h"
#include "lbmail/proto/frame_codec.h"

namespace lbmail::perf {

class PlainLink {
 public:
  class Handler {
   public:
    virtual ~Handler() = default;
    // Connected (initiator side) or accepted (gateway side).
    virtual void onPlainUp(PlainLink& link) = 0;
    // Every decoded frame; views in frame die when this returns.
    virtual void onPlainFrame(PlainLink& link, const proto::Frame& frame) = 0;
    // The last call: every handle is closed; the owner may delete the link now.
    virtual void onPlainClosed(PlainLink& link) = 0;
  };

  PlainLink(uv_loop_t* loop, proto::Role role, Handler& handler);
  PlainLink(const PlainLink&) = delete;
  PlainLink& operator=(const PlainLink&) = delete;
  ~PlainLink();

  void connect(const SocketAddress& gateway);
  // Accepts a pending connection from listener; false (and closing) when that failed.
  bool accept(uv_stream_t* listener);

  template <typename F>
  void send(const F& frame) {
    if (closer_.started()) return;
    proto::encodeFrame(out_, frame);
    scheduleFlush();
  }
  // Initiator side: a SEND within credit, checked as LinkConnection::sendRequest checks it.
  bool sendRequest(const proto::SendFrame& frame);
  // Gateway side: allows the initiator n more outstanding SENDs.
  void grantCredit(uint32_t n);
  // Closes at once; pending writes are dropped.
  void close();

  bool isOpen() const { return open_ && !closer_.started(); }
  // Why the link closed early (a protocol error), or nullptr.
  const char* error() const { return error_; }

 private:
  static void onConnect(uv_connect_t* req, int status);
  static void onAlloc(uv_handle_t* handle, size_t suggested, uv_buf_t* buf);
  static void onRead(uv_stream_t* stream, ssize_t nread, const uv_buf_t* buf);
  static void onWrite(uv_write_t* req, int status);
  static void onIdle(uv_idle_t* idle);

  void becomeOpen();
  void processInput();
  void countCredit(const proto::Frame& frame);
  void scheduleFlush();
  void flush();
  void fail(const char* error);

  struct WriteRequest {
    uv_write_t req;
    BufferList chunks;
  };

  uv_loop_t* loop_;
  proto::Role role_;
  Handler& handler_;
  uv_tcp_t tcp_;
  uv_idle_t flush_idle_;
  uv_connect_t connect_req_;
  HandleCloser closer_;

  std::vector<uint8_t> rbuf_;
  size_t rlen_ = 0;
  BufferList out_;
  bool flush_scheduled_ = false;
  bool open_ = false;
  uint64_t credit_ = 0;
  const char* error_ = nullptr;
};

}  // namespace lbmail::perf
