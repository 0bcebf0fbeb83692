// One c-ares channel driven by a libuv loop: a uv_poll per c-ares socket (from the
// socket-state callback), one timer re-armed from ares_timeout after every event, and a cap
// on queries inside c-ares with a first-in first-out queue behind it.
#pragma once

#include <ares.h>
#include <uv.h>

#include <algorithm>
#include <cstdint>
#include <deque>
#include <functional>
#include <span>
#include <string>
#include <unordered_map>
#include <vector>

#include "lbmail/core/done_callbacks.h"
#include "lbmail/core/handle_closer.h"
#include "lbmail/core/socket_polls.h"
#include "lbmail/dns/resolver_config.h"
#include "lbmail/dns/resolver_stats.h"

namespace lbmail::dns {

class DnsChannel {
 public:
  // status is an ARES_* code; message is the response, empty when none came (timeout,
  // SERVFAIL or REFUSED from every server, connection refused).
  using Answer = std::function<void(int status, std::span<const uint8_t> message)>;

  // Uses config's servers, query_timeout, query_tries and max_in_flight; counts in stats.
  DnsChannel(uv_loop_t* loop, const ResolverConfig& config, ResolverStats& stats);
  DnsChannel(const DnsChannel&) = delete;
  DnsChannel& operator=(const DnsChannel&) = delete;
  ~DnsChannel();

  // "" or why the channel could not be made.
  std::string start();
  // Asks (name, IN, type) with RD and AD set (RFC 6840 section 5.7). answer runs later on the
  // loop, never inside this call and never after close(); it runs outside every c-ares
  // callback, so it may query again or close.
  void query(const std::string& name, uint16_t type, Answer answer);
  // Runs after each batch of answers, outside c-ares: the owner's moment to run callbacks
  // that may close it.
  void setAfterAnswers(std::function<void()> fn) { after_answers_ = std::move(fn); }
  // Drops every query (their answers never run) and closes the handles; done runs when
  // they are closed. A poll that c-ares closed while it was being destroyed may finish
  // closing after done: it frees only itself, and uv_run completes it before the loop ends.
  void close(std::function<void()> done);
  bool closing() const { return closing_; }

 private:
  struct Waiting {
    std::string name;
    uint16_t type;
    Answer answer;
  };
  struct InFlight {
    DnsChannel* channel;
    Answer answer;
  };
  struct Completed {
    Answer answer;
    int status;
    std::vector<uint8_t> message;
  };

  static void onSocketState(void* data, ares_socket_t fd, int readable, int writable) noexcept;
  static void onAresAnswer(void* arg, int status, int timeouts, unsigned char* abuf, int alen) noexcept;
  static void onTimer(uv_timer_t* timer) noexcept;

  std::string configureServers();
  // A cap of 0 would hold every query for ever.
  uint64_t maxInFlight() const { return std::max<uint32_t>(config_.max_in_flight, 1); }
  void watchSocket(ares_socket_t fd, int readable, int writable);
  void onReady(ares_socket_t fd, int status, int events);
  void startWaiting();
  // Builds the query with the AD bit set and hands it to c-ares.
  void send(const std::string& name, uint16_t type, InFlight* in_flight);
  // ares_process_fd, then the answers it produced, then the timer.
  void process(ares_socket_t read_fd, ares_socket_t write_fd);
  void deliver();
  void rearmTimer();

  uv_loop_t* loop_;
  const ResolverConfig& config_;
  ResolverStats& stats_;
  ares_channel channel_ = nullptr;
  uv_timer_t timer_;
  bool delivering_ = false;
  bool closing_ = false;
  bool closed_ = false;  // every handle closed: close() callbacks run at once
  HandleCloser closer_;
  SocketPolls polls_;
  std::deque<Waiting> waiting_;
  std::deque<Completed> completed_;
  std::function<void()> after_answers_;
  DoneCallbacks close_done_;
};

}  // namespace lbmail::dns
