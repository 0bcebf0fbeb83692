// c-ares on libuv. Answers are copied out of c-ares callbacks and delivered after
// ares_process_fd returns, so that the code they run may query again, or destroy the channel,
// which c-ares forbids from inside its own callbacks.
#include "dns_channel.h"

#include <algorithm>
#include <cassert>
#include <chrono>
#include <memory>

#include "dns_answer.h"
#include "lbmail/core/log.h"

namespace lbmail::dns {
namespace {

// c-ares 1.18 needs it before the first channel on some platforms; once per process.
bool initAresLibrary() {
  static const int rc = ares_library_init(ARES_LIB_INIT_ALL);
  return rc == ARES_SUCCESS;
}

// The header byte that holds AD and the rcode (RFC 1035 section 4.1.1).
constexpr size_t kFlagsByte = 3;

int aresMillis(Duration d) {
  auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(d).count();
  return static_cast<int>(std::clamp<int64_t>(ms, 1, INT32_MAX));
}

}  // namespace

DnsChannel::DnsChannel(uv_loop_t* loop, const ResolverConfig& config, ResolverStats& stats)
    : loop_(loop),
      config_(config),
      stats_(stats),
      polls_(loop, [this](int fd, int status, int events) { onReady(fd, status, events); }) {}

DnsChannel::~DnsChannel() {
  assert(!channel_ && (!closer_.started() || closed_) && "close() the channel and run the loop first");
}

std::string DnsChannel::start() {
  assert(!channel_ && !closing_);
  if (!initAresLibrary()) return "c-ares library initialisation failed";
  ares_options options{};
  options.sock_state_cb = onSocketState;
  options.sock_state_cb_data = this;
  options.timeout = aresMillis(config_.query_timeout);
  options.tries = static_cast<int>(std::max<uint32_t>(config_.query_tries, 1));
  int mask = ARES_OPT_SOCK_STATE_CB | ARES_OPT_TIMEOUTMS | ARES_OPT_TRIES;
  int rc = ares_init_options(&channel_, &options, mask);
  if (rc != ARES_SUCCESS) {
    channel_ = nullptr;
    return std::string("c-ares initialisation failed: ") + ares_strerror(rc);
  }
  if (std::string error = configureServers(); !error.empty()) {
    ares_destroy(channel_);
    channel_ = nullptr;
    return error;
  }
  uv_timer_init(loop_, &timer_);
  timer_.data = this;
  return "";
}

// No servers configured keeps what c-ares read from /etc/resolv.conf.
std::string DnsChannel::configureServers() {
  if (config_.servers.empty()) return "";
  std::string csv;
  for (const SocketAddress& server : config_.servers) {
    // c-ares would read port 0 as 53 and would not say so.
    if (server.port() == 0) return "DNS server " + server.toString() + " has no port";
    if (!csv.empty()) csv += ",";
    csv += server.toString();
  }
  int rc = ares_set_servers_ports_csv(channel_, csv.c_str());
  if (rc != ARES_SUCCESS) return "DNS servers " + csv + " refused by c-ares: " + ares_strerror(rc);
  return "";
}

void DnsChannel::query(const std::string& name, uint16_t type, Answer answer) {
  assert(channel_ && !closing_);
  if (stats_.in_flight >= maxInFlight()) ++stats_.queued;
  waiting_.push_back({name, type, std::move(answer)});
  startWaiting();
  // A new query brings a new timeout, and a query c-ares failed at once left an answer to
  // deliver: the timer does both. During a delivery the timer is re-armed at its end.
  if (!delivering_) rearmTimer();
}

void DnsChannel::startWaiting() {
  while (!closing_ && !waiting_.empty() && stats_.in_flight < maxInFlight()) {
    Waiting w = std::move(waiting_.front());
    waiting_.pop_front();
    ++stats_.in_flight;
    ++stats_.queries_sent;
    send(w.name, w.type, new InFlight{this, std::move(w.answer)});
  }
  stats_.waiting = waiting_.size();
}

// ares_query would build the same query without AD, so the query is built here and handed to
// ares_send. RFC 6840 section 5.7: a stub sets AD to ask a validating resolver whether the
// answer is authentic, without the DO bit and the DNSSEC records it would bring.
void DnsChannel::send(const std::string& name, uint16_t type, InFlight* in_flight) {
  unsigned char* query = nullptr;
  int length = 0;
  // Recursion desired, no EDNS (ares_query's defaults); c-ares picks the id in ares_send.
  int rc = ares_create_query(name.c_str(), kClassIn, type, 0, 1, &query, &length, 0);
  if (rc != ARES_SUCCESS) {
    // A name c-ares cannot encode: answered like ares_query would, through the queue.
    onAresAnswer(in_flight, rc, 0, nullptr, 0);
    return;
  }
  query[kFlagsByte] |= kFlagAuthenticData;
  // c-ares copies the query; it may answer inside ares_send, and onAresAnswer only queues.
  ares_send(channel_, query, length, onAresAnswer, in_flight);
  ares_free_string(query);
}

void DnsChannel::onAresAnswer(void* arg, int status, int, unsigned char* abuf, int alen) noexcept {
  std::unique_ptr<InFlight> query(static_cast<InFlight*>(arg));
  DnsChannel* self = query->channel;
  --self->stats_.in_flight;
  // ARES_EDESTRUCTION from ares_destroy in close(): nobody waits any more.
  if (self->closing_) return;
  Completed done{std::move(query->answer), status, {}};
  if (abuf && alen > 0) done.message.assign(abuf, abuf + alen);
  self->completed_.push_back(std::move(done));
}

void DnsChannel::onSocketState(void* data, ares_socket_t fd, int readable, int writable) noexcept {
  static_cast<DnsChannel*>(data)->watchSocket(fd, readable, writable);
}

// c-ares reports a socket as neither readable nor writable just before it closes it: the
// poll must stop then, while the descriptor is still valid.
void DnsChannel::watchSocket(ares_socket_t fd, int readable, int writable) {
  if (!readable && !writable) {
    polls_.forget(fd);
    return;
  }
  int events = (readable ? UV_READABLE : 0) | (writable ? UV_WRITABLE : 0);
  if (int rc = polls_.watch(fd, events); rc != 0) {
    // Its queries then end by timeout, which is the failure they would report anyway.
    logWarn("dns.poll_failed", {{"error", uv_strerror(rc)}});
  }
}

void DnsChannel::onReady(ares_socket_t fd, int status, int events) {
  // On an error c-ares reads or writes the socket itself to learn what it was.
  bool error = status < 0;
  ares_socket_t read_fd = error || (events & UV_READABLE) ? fd : ARES_SOCKET_BAD;
  ares_socket_t write_fd = error || (events & UV_WRITABLE) ? fd : ARES_SOCKET_BAD;
  process(read_fd, write_fd);
}

void DnsChannel::onTimer(uv_timer_t* timer) noexcept {
  static_cast<DnsChannel*>(timer->data)->process(ARES_SOCKET_BAD, ARES_SOCKET_BAD);
}

void DnsChannel::process(ares_socket_t read_fd, ares_socket_t write_fd) {
  if (closing_) return;
  ares_process_fd(channel_, read_fd, write_fd);
  deliver();
}

void DnsChannel::deliver() {
  delivering_ = true;
  bool delivered = false;
  while (!closing_ && !completed_.empty()) {
    Completed c = std::move(completed_.front());
    completed_.pop_front();
    startWaiting();  // the query just answered made room
    c.answer(c.status, c.message);
    delivered = true;
  }
  if (!closing_) startWaiting();
  if (delivered && !closing_ && after_answers_) after_answers_();
  delivering_ = false;
  if (!closing_) rearmTimer();
}

void DnsChannel::rearmTimer() {
  if (!completed_.empty()) {
    uv_timer_start(&timer_, onTimer, 0, 0);
    return;
  }
  timeval tv{};
  if (!ares_timeout(channel_, nullptr, &tv)) {
    uv_timer_stop(&timer_);
    return;
  }
  // Rounded up: waking before c-ares' deadline would only re-arm the timer again.
  uint64_t ms = static_cast<uint64_t>(tv.tv_sec) * 1000 + (static_cast<uint64_t>(tv.tv_usec) + 999) / 1000;
  uv_timer_start(&timer_, onTimer, ms, 0);
}

void DnsChannel::close(std::function<void()> done) {
  close_done_.add(std::move(done));
  if (closing_) {
    if (closed_) close_done_.runAll();
    return;
  }
  closing_ = true;
  waiting_.clear();
  completed_.clear();
  stats_.waiting = 0;
  std::vector<uv_handle_t*> handles;
  if (channel_) {
    // Ends every query with ARES_EDESTRUCTION (ignored now) and reports each socket closed.
    ares_destroy(channel_);
    channel_ = nullptr;
    handles.push_back(asHandle(&timer_));
  }
  // c-ares is gone, so polls_ changes no more: its polls are freed once they have closed.
  polls_.stopAll(handles);
  auto finish = [this] {
    polls_.release();
    closed_ = true;
    close_done_.runAll();
  };
  closer_.close(handles, std::move(finish));  // at once when it never started
}

}  // namespace lbmail::dns
