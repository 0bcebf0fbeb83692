// Incremental HTTP/1.x request parsing (llhttp) with explicit size limits, independent of sockets.
#pragma once

#include <llhttp.h>

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace lbmail {

struct HttpRequest {
  std::string_view method;  // "GET", "HEAD", ...
  std::string_view path;    // request target without the query
  std::string_view query;   // after '?', may be empty
  uint8_t http_major = 1;
  uint8_t http_minor = 1;
  bool keep_alive = true;
  std::string_view content_type;  // the Content-Type header's value, "" when absent
  std::string_view body;          // the whole body (at most Limits::max_body_bytes)
};

class HttpRequestSink {
 public:
  virtual ~HttpRequestSink() = default;
  // The first byte of a request has arrived (used to start its deadline).
  virtual void onRequestStarted() = 0;
  // A complete request; its views stay valid until this call returns. Return false to stop
  // reading: the connection will close.
  virtual bool onRequest(const HttpRequest& request) = 0;
  // Asked after each request: true pauses parsing (feed returns kPaused) until the caller
  // feeds the rest again, so that answers waiting to be sent stay bounded.
  virtual bool wantsPause() { return false; }
};

class HttpRequestReader {
 public:
  struct Limits {
    size_t max_header_bytes = 16 * 1024;  // request line plus headers
    size_t max_headers = 100;
    size_t max_body_bytes = 64 * 1024;
  };

  enum class Result {
    kNeedMore,  // all bytes consumed; more may come
    kPaused,    // the sink asked to pause: consumed() bytes were used, feed the rest later
    kClose,     // a request asked to close (or the sink said stop): ignore the rest
    kError,     // malformed or over a limit: answer errorStatus() and close
  };

  explicit HttpRequestReader(const Limits& limits);
  HttpRequestReader(const HttpRequestReader&) = delete;
  HttpRequestReader& operator=(const HttpRequestReader&) = delete;

  Result feed(std::string_view bytes, HttpRequestSink& sink);
  // After kPaused: how many of the bytes fed were consumed.
  size_t consumed() const { return consumed_; }

  // 400 (malformed), 413 (body too large) or 431 (request line and headers too large).
  int errorStatus() const { return error_status_; }
  std::string_view errorReason() const { return error_reason_; }
  // Some bytes of a request have arrived but not all of it.
  bool midRequest() const { return mid_request_; }

 private:
  static int onMessageBegin(llhttp_t* p);
  static int onUrl(llhttp_t* p, const char* at, size_t len);
  static int onHeaderField(llhttp_t* p, const char* at, size_t len);
  static int onHeaderFieldComplete(llhttp_t* p);
  static int onHeaderValue(llhttp_t* p, const char* at, size_t len);
  static int onHeaderComplete(llhttp_t* p);
  static int onHeadersComplete(llhttp_t* p);
  static int onBody(llhttp_t* p, const char* at, size_t len);
  static int onMessageComplete(llhttp_t* p);
  static HttpRequestReader& self(llhttp_t* p) { return *static_cast<HttpRequestReader*>(p->data); }

  int countHeaderBytes(size_t len);
  int fail(int status, const char* reason);

  Limits limits_;
  llhttp_settings_t settings_;
  llhttp_t parser_;
  HttpRequestSink* sink_ = nullptr;
  std::string url_;           // bounded by max_header_bytes
  std::string field_;         // the header name being read, bounded by max_header_bytes
  std::string content_type_;  // bounded by max_header_bytes
  std::string body_;          // bounded by max_body_bytes
  bool in_content_type_ = false;
  size_t header_bytes_ = 0;
  size_t header_count_ = 0;
  size_t body_bytes_ = 0;
  bool mid_request_ = false;
  bool stop_ = false;
  bool pause_ = false;
  size_t consumed_ = 0;
  int error_status_ = 0;
  std::string error_reason_;
};

}  // namespace lbmail
