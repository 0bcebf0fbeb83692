// libcurl's multi-socket interface on libuv: one uv_poll per socket libcurl names in its socket
// callback (SocketPolls), one timer set from its timer callback, curl_multi_socket_action from
// both (the pattern of libcurl's multi-uv example). Finished transfers are handed to their callbacks
// after curl_multi_socket_action returns, since libcurl forbids re-entering the multi handle
// from its own callbacks.
#include "https_fetcher.h"

#include <openssl/err.h>
#include <openssl/ssl.h>

#include <cassert>
#include <cctype>
#include <string_view>
#include <utility>

#include "lbmail/core/log.h"

namespace lbmail::mta_sts {

struct HttpsTransfer {
  size_t max_body = 0;
  CURL* easy = nullptr;
  curl_slist* resolve = nullptr;
  std::string body;
  bool over_cap = false;
  char error[CURL_ERROR_SIZE] = {};
  HttpsFetcher::Done done;

  ~HttpsTransfer() {
    if (easy) curl_easy_cleanup(easy);
    curl_slist_free_all(resolve);
  }
};

namespace {

bool initCurlLibrary() {
  static const CURLcode rc = curl_global_init(CURL_GLOBAL_DEFAULT);
  return rc == CURLE_OK;
}

size_t onBody(char* data, size_t size, size_t n, void* userp) noexcept {
  auto* t = static_cast<HttpsTransfer*>(userp);
  size_t bytes = size * n;
  if (t->body.size() + bytes > t->max_body) {
    t->over_cap = true;
    return 0;  // CURLE_WRITE_ERROR ends the transfer
  }
  t->body.append(data, bytes);
  return bytes;
}

// Adds the configured CA file to the store libcurl filled from the system trust store;
// CURLOPT_CAINFO would replace that store instead.
CURLcode onSslContext(CURL*, void* ssl_ctx, void* userp) noexcept {
  const auto* ca_file = static_cast<const std::string*>(userp);
  if (SSL_CTX_load_verify_locations(static_cast<SSL_CTX*>(ssl_ctx), ca_file->c_str(), nullptr) != 1) {
    char reason[256];
    ERR_error_string_n(ERR_get_error(), reason, sizeof reason);
    ERR_clear_error();
    logWarn("mta_sts.ca_file_failed", {{"file", *ca_file}, {"error", reason}});
    return CURLE_SSL_CACERT_BADFILE;
  }
  return CURLE_OK;
}

// "text/plain; charset=utf-8" has the media type "text/plain" (RFC 9110 section 8.3.1: the
// type and subtype are case-insensitive).
bool mediaTypeIs(const char* header, std::string_view wanted) {
  if (!header) return false;
  std::string_view v(header);
  v = v.substr(0, v.find(';'));
  while (!v.empty() && (v.back() == ' ' || v.back() == '\t')) v.remove_suffix(1);
  while (!v.empty() && (v.front() == ' ' || v.front() == '\t')) v.remove_prefix(1);
  if (v.size() != wanted.size()) return false;
  for (size_t i = 0; i < v.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(v[i])) != std::tolower(static_cast<unsigned char>(wanted[i]))) return false;
  }
  return true;
}

// CURLOPT_RESOLVE's "HOST:PORT:ADDR,ADDR" with IPv6 addresses in brackets.
std::string resolveEntry(const HttpsRequest& r) {
  std::string entry = r.host + ":" + std::to_string(r.port) + ":";
  for (size_t i = 0; i < r.addresses.size(); ++i) {
    if (i > 0) entry += ",";
    const SocketAddress& a = r.addresses[i];
    entry += a.family() == AF_INET6 ? "[" + a.host() + "]" : a.host();
  }
  return entry;
}

}  // namespace

HttpsFetcher::HttpsFetcher(uv_loop_t* loop, HttpsFetchSettings settings)
    : loop_(loop),
      settings_(std::move(settings)),
      polls_(loop, [this](int fd, int status, int events) { onReady(fd, status, events); }) {}

HttpsFetcher::~HttpsFetcher() {
  assert(!multi_ && (!closer_.started() || closed_) && "close() the fetcher and run the loop first");
}

std::string HttpsFetcher::start() {
  assert(!multi_ && !closing_);
  if (!initCurlLibrary()) return "libcurl initialisation failed";
  const curl_version_info_data* info = curl_version_info(CURLVERSION_NOW);
  // CURLOPT_SSL_CTX_FUNCTION, which adds ca_file to the system store, needs OpenSSL.
  if (!info->ssl_version || std::string_view(info->ssl_version).find("OpenSSL") == std::string_view::npos) {
    return "libcurl is not built with OpenSSL";
  }
  multi_ = curl_multi_init();
  if (!multi_) return "curl_multi_init failed";
  curl_multi_setopt(multi_, CURLMOPT_SOCKETFUNCTION, onSocket);
  curl_multi_setopt(multi_, CURLMOPT_SOCKETDATA, this);
  curl_multi_setopt(multi_, CURLMOPT_TIMERFUNCTION, onTimerChange);
  curl_multi_setopt(multi_, CURLMOPT_TIMERDATA, this);
  uv_timer_init(loop_, &timer_);
  timer_.data = this;
  uv_timer_init(loop_, &later_);
  later_.data = this;
  return "";
}

std::string HttpsFetcher::configure(HttpsTransfer& t, const HttpsRequest& r) {
  std::string url = "https://" + r.host + ":" + std::to_string(r.port) + r.path;
  t.resolve = curl_slist_append(nullptr, resolveEntry(r).c_str());
  CURL* e = t.easy;
  bool ok = curl_easy_setopt(e, CURLOPT_URL, url.c_str()) == CURLE_OK &&
            curl_easy_setopt(e, CURLOPT_PRIVATE, &t) == CURLE_OK &&
            curl_easy_setopt(e, CURLOPT_RESOLVE, t.resolve) == CURLE_OK &&
            curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "https") == CURLE_OK &&
            // RFC 8461 section 3.3: redirects are not followed (libcurl's default, said anyway).
            curl_easy_setopt(e, CURLOPT_FOLLOWLOCATION, 0L) == CURLE_OK &&
            curl_easy_setopt(e, CURLOPT_SSL_VERIFYPEER, 1L) == CURLE_OK &&
            curl_easy_setopt(e, CURLOPT_SSL_VERIFYHOST, 2L) == CURLE_OK &&
            curl_easy_setopt(e, CURLOPT_SSLVERSION, CURL_SSLVERSION_TLSv1_2) == CURLE_OK &&
            // The environment's proxies are not for policy fetches; the address is ours.
            curl_easy_setopt(e, CURLOPT_NOPROXY, "*") == CURLE_OK &&
            curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L) == CURLE_OK &&
            // A policy is fetched once per max_age: an idle connection kept for reuse is waste.
            curl_easy_setopt(e, CURLOPT_FORBID_REUSE, 1L) == CURLE_OK &&
            curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, static_cast<long>(settings_.timeout.count())) == CURLE_OK &&
            curl_easy_setopt(e, CURLOPT_MAXFILESIZE_LARGE, static_cast<curl_off_t>(settings_.max_body)) == CURLE_OK &&
            curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, onBody) == CURLE_OK &&
            curl_easy_setopt(e, CURLOPT_WRITEDATA, &t) == CURLE_OK &&
            curl_easy_setopt(e, CURLOPT_ERRORBUFFER, t.error) == CURLE_OK &&
            curl_easy_setopt(e, CURLOPT_USERAGENT, "lbmail") == CURLE_OK;
  if (ok && !settings_.ca_file.empty()) {
    ok = curl_easy_setopt(e, CURLOPT_SSL_CTX_FUNCTION, onSslContext) == CURLE_OK &&
         curl_easy_setopt(e, CURLOPT_SSL_CTX_DATA, &settings_.ca_file) == CURLE_OK;
  }
  return ok ? "" : "libcurl refused an option";
}

void HttpsFetcher::fetch(const HttpsRequest& request, Done done) {
  assert(multi_ && !closing_ && !request.addresses.empty());
  auto t = std::make_unique<HttpsTransfer>();
  t->max_body = settings_.max_body;
  t->done = std::move(done);
  t->easy = curl_easy_init();
  std::string error = t->easy ? configure(*t, request) : "curl_easy_init failed";
  if (error.empty() && curl_multi_add_handle(multi_, t->easy) != CURLM_OK) error = "curl_multi_add_handle failed";
  if (!error.empty()) {
    logWarn("mta_sts.fetch_not_started", {{"host", request.host}, {"error", error}});
    not_started_.push_back({std::move(t->done), error});
    uv_timer_start(&later_, onLater, 0, 0);
    return;
  }
  CURL* easy = t->easy;
  transfers_.emplace(easy, std::move(t));
}

int HttpsFetcher::onSocket(CURL*, curl_socket_t fd, int what, void* userp, void*) noexcept {
  static_cast<HttpsFetcher*>(userp)->watchSocket(fd, what);
  return 0;
}

// libcurl says CURL_POLL_REMOVE before it closes a socket.
void HttpsFetcher::watchSocket(curl_socket_t fd, int what) {
  if (what == CURL_POLL_REMOVE) {
    polls_.forget(fd);
    return;
  }
  int events = (what & CURL_POLL_IN ? UV_READABLE : 0) | (what & CURL_POLL_OUT ? UV_WRITABLE : 0);
  if (int rc = polls_.watch(fd, events); rc != 0) {
    // The transfer then ends by its timeout, the failure it would report anyway.
    logWarn("mta_sts.poll_failed", {{"error", uv_strerror(rc)}});
  }
}

int HttpsFetcher::onTimerChange(CURLM*, long timeout_ms, void* userp) noexcept {
  auto* self = static_cast<HttpsFetcher*>(userp);
  // -1 deletes the timer; 0 asks for a call as soon as possible, which must not be from
  // inside this callback.
  if (timeout_ms < 0) {
    uv_timer_stop(&self->timer_);
  } else {
    uv_timer_start(&self->timer_, onTimer, static_cast<uint64_t>(timeout_ms), 0);
  }
  return 0;
}

void HttpsFetcher::onReady(curl_socket_t fd, int status, int events) {
  int flags = status < 0 ? CURL_CSELECT_ERR : 0;
  if (events & UV_READABLE) flags |= CURL_CSELECT_IN;
  if (events & UV_WRITABLE) flags |= CURL_CSELECT_OUT;
  act(fd, flags);
}

void HttpsFetcher::onTimer(uv_timer_t* timer) noexcept {
  static_cast<HttpsFetcher*>(timer->data)->act(CURL_SOCKET_TIMEOUT, 0);
}

void HttpsFetcher::onLater(uv_timer_t* timer) noexcept {
  auto* self = static_cast<HttpsFetcher*>(timer->data);
  std::vector<NotStarted> failed;
  failed.swap(self->not_started_);
  for (NotStarted& f : failed) {
    if (self->closing_) return;
    f.done(HttpsResponse{f.error, {}});
  }
}

void HttpsFetcher::act(curl_socket_t fd, int flags) {
  if (closing_) return;
  int running = 0;
  curl_multi_socket_action(multi_, fd, flags, &running);
  // Taken out of the multi handle first, called back after: a callback may fetch or close.
  std::vector<std::pair<std::unique_ptr<HttpsTransfer>, HttpsResponse>> finished;
  int left = 0;
  while (CURLMsg* msg = curl_multi_info_read(multi_, &left)) {
    if (msg->msg != CURLMSG_DONE) continue;
    auto it = transfers_.find(msg->easy_handle);
    if (it == transfers_.end()) continue;
    CURLcode result = msg->data.result;  // msg is invalid once the handle is removed
    std::unique_ptr<HttpsTransfer> t = std::move(it->second);
    transfers_.erase(it);
    curl_multi_remove_handle(multi_, t->easy);
    HttpsResponse response = responseOf(*t, result);
    finished.emplace_back(std::move(t), std::move(response));
  }
  for (auto& [t, response] : finished) {
    if (closing_) return;
    t->done(response);
  }
}

HttpsResponse HttpsFetcher::responseOf(HttpsTransfer& t, CURLcode result) const {
  HttpsResponse r;
  if (t.over_cap || result == CURLE_FILESIZE_EXCEEDED) {
    r.error = "body over " + std::to_string(settings_.max_body) + " bytes";
    return r;
  }
  if (result != CURLE_OK) {
    r.error = t.error[0] ? std::string(t.error) : curl_easy_strerror(result);
    return r;
  }
  long status = 0;
  curl_easy_getinfo(t.easy, CURLINFO_RESPONSE_CODE, &status);
  if (status >= 300 && status < 400) {
    char* location = nullptr;
    curl_easy_getinfo(t.easy, CURLINFO_REDIRECT_URL, &location);
    r.error = "HTTP " + std::to_string(status) + " redirect to " + (location ? location : "nowhere") +
              " not followed (RFC 8461 section 3.3)";
    return r;
  }
  if (status != 200) {
    r.error = "HTTP " + std::to_string(status);
    return r;
  }
  char* type = nullptr;
  curl_easy_getinfo(t.easy, CURLINFO_CONTENT_TYPE, &type);
  if (!mediaTypeIs(type, settings_.content_type)) {
    r.error = "Content-Type " + std::string(type ? type : "missing") + ", not " + settings_.content_type;
    return r;
  }
  r.body = std::move(t.body);
  return r;
}

void HttpsFetcher::close(std::function<void()> done) {
  close_done_.add(std::move(done));
  if (closing_) {
    if (closed_) close_done_.runAll();
    return;
  }
  closing_ = true;
  not_started_.clear();
  std::vector<uv_handle_t*> handles;
  if (multi_) {
    // Removing a transfer closes its sockets: the socket callback closes their polls.
    for (auto& [easy, t] : transfers_) curl_multi_remove_handle(multi_, easy);
    transfers_.clear();
    curl_multi_cleanup(multi_);
    multi_ = nullptr;
    handles.push_back(asHandle(&timer_));
    handles.push_back(asHandle(&later_));
  }
  // libcurl is gone, so polls_ changes no more: its polls are freed once they have closed.
  polls_.stopAll(handles);
  auto finish = [this] {
    polls_.release();
    closed_ = true;
    close_done_.runAll();
  };
  closer_.close(handles, std::move(finish));
}

}  // namespace lbmail::mta_sts
