// HTTPS GETs on the libuv loop through libcurl's multi interface, for MTA-STS policies: the
// certificate checked, no redirects, a time limit, a body cap, the media type checked, and
// the server's addresses given by the caller, so that libcurl never resolves names itself.
#pragma once

#include <curl/curl.h>
#include <uv.h>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "lbmail/core/done_callbacks.h"
#include "lbmail/core/handle_closer.h"
#include "lbmail/core/socket_address.h"
#include "lbmail/core/socket_polls.h"

namespace lbmail::mta_sts {

struct HttpsTransfer;  // one GET in flight, private to https_fetcher.cc

struct HttpsFetchSettings {
  // PEM certificates trusted besides the system store ("" for none).
  std::string ca_file;
  // The whole transfer, connection and TLS handshake included.
  std::chrono::milliseconds timeout{std::chrono::minutes(1)};
  size_t max_body = 64 * 1024;
  // The media type the body must have; parameters such as charset are allowed.
  std::string content_type = "text/plain";
};

struct HttpsRequest {
  std::string host;  // in the URL, the SNI and the certificate name check
  uint16_t port = 443;
  std::string path;  // "/.well-known/mta-sts.txt"
  std::vector<SocketAddress> addresses;  // where host is (ports ignored); not empty
};

struct HttpsResponse {
  std::string error;  // "" when body is a 200 response of the wanted type within the cap
  std::string body;
};

class HttpsFetcher {
 public:
  using Done = std::function<void(const HttpsResponse&)>;

  HttpsFetcher(uv_loop_t* loop, HttpsFetchSettings settings);
  HttpsFetcher(const HttpsFetcher&) = delete;
  HttpsFetcher& operator=(const HttpsFetcher&) = delete;
  ~HttpsFetcher();

  // "" or why libcurl cannot be used (initialisation, no OpenSSL backend).
  std::string start();
  // done runs once, later, on the loop: never inside fetch(), never after close(). It runs
  // outside every libcurl callback, so it may fetch again or close. start() must have succeeded.
  void fetch(const HttpsRequest& request, Done done);
  // Drops every transfer (their callbacks do not run) and closes the handles; done runs when
  // they are closed. The fetcher may be destroyed from done, not before.
  void close(std::function<void()> done);
  size_t inFlight() const { return transfers_.size(); }

 private:
  static int onSocket(CURL* easy, curl_socket_t fd, int what, void* userp, void* socketp) noexcept;
  static int onTimerChange(CURLM* multi, long timeout_ms, void* userp) noexcept;
  static void onTimer(uv_timer_t* timer) noexcept;
  static void onLater(uv_timer_t* timer) noexcept;

  // A fetch that could not start: its callback runs from the later_ timer.
  struct NotStarted {
    Done done;
    std::string error;
  };

  std::string configure(HttpsTransfer& t, const HttpsRequest& request);
  void watchSocket(curl_socket_t fd, int what);
  void onReady(curl_socket_t fd, int status, int events);
  // curl_multi_socket_action, then the transfers it finished.
  void act(curl_socket_t fd, int flags);
  HttpsResponse responseOf(HttpsTransfer& t, CURLcode result) const;

  uv_loop_t* loop_;
  HttpsFetchSettings settings_;
  CURLM* multi_ = nullptr;
  uv_timer_t timer_;  // libcurl's timeouts
  uv_timer_t later_;  // NotStarted callbacks
  bool closing_ = false;
  bool closed_ = false;  // every handle closed: close() callbacks run at once
  HandleCloser closer_;
  SocketPolls polls_;
  std::unordered_map<CURL*, std::unique_ptr<HttpsTransfer>> transfers_;
  std::vector<NotStarted> not_started_;
  DoneCallbacks close_done_;
};

}  // namespace lbmail::mta_sts
