// HTTP/1.x request parsing over llhttp; keeps the request target, the Content-Type and the
// body, each bounded by a limit, and no other header.
#include "lbmail/admin/http_request_reader.h"

#include <strings.h>

namespace lbmail {
namespace {

// Every header line costs at least ": " and CRLF beyond its field and value bytes.
constexpr size_t kHeaderLineOverhead = 4;

}  // namespace

HttpRequestReader::HttpRequestReader(const Limits& limits) : limits_(limits) {
  llhttp_settings_init(&settings_);
  settings_.on_message_begin = onMessageBegin;
  settings_.on_url = onUrl;
  settings_.on_header_field = onHeaderField;
  settings_.on_header_field_complete = onHeaderFieldComplete;
  settings_.on_header_value = onHeaderValue;
  settings_.on_header_value_complete = onHeaderComplete;
  settings_.on_headers_complete = onHeadersComplete;
  settings_.on_body = onBody;
  settings_.on_message_complete = onMessageComplete;
  llhttp_init(&parser_, HTTP_REQUEST, &settings_);
  parser_.data = this;
}

int HttpRequestReader::fail(int status, const char* reason) {
  error_status_ = status;
  error_reason_ = reason;
  llhttp_set_error_reason(&parser_, reason);
  return HPE_USER;
}

int HttpRequestReader::countHeaderBytes(size_t len) {
  header_bytes_ += len;
  if (header_bytes_ > limits_.max_header_bytes) return fail(431, "request line and headers too large");
  return 0;
}

int HttpRequestReader::onMessageBegin(llhttp_t* p) {
  HttpRequestReader& r = self(p);
  r.url_.clear();
  r.field_.clear();
  r.content_type_.clear();
  r.body_.clear();
  r.in_content_type_ = false;
  r.header_bytes_ = 0;
  r.header_count_ = 0;
  r.body_bytes_ = 0;
  r.mid_request_ = true;
  r.sink_->onRequestStarted();
  return 0;
}

int HttpRequestReader::onUrl(llhttp_t* p, const char* at, size_t len) {
  HttpRequestReader& r = self(p);
  if (int rc = r.countHeaderBytes(len)) return rc;
  r.url_.append(at, len);
  return 0;
}

int HttpRequestReader::onHeaderField(llhttp_t* p, const char* at, size_t len) {
  HttpRequestReader& r = self(p);
  if (int rc = r.countHeaderBytes(len)) return rc;
  r.field_.append(at, len);  // llhttp may hand a name over in pieces
  return 0;
}

int HttpRequestReader::onHeaderFieldComplete(llhttp_t* p) {
  HttpRequestReader& r = self(p);
  // Field names are case-insensitive (RFC 9110 section 5.1).
  r.in_content_type_ = strcasecmp(r.field_.c_str(), "content-type") == 0;
  r.field_.clear();
  return 0;
}

int HttpRequestReader::onHeaderValue(llhttp_t* p, const char* at, size_t len) {
  HttpRequestReader& r = self(p);
  if (int rc = r.countHeaderBytes(len)) return rc;
  if (r.in_content_type_) r.content_type_.append(at, len);
  return 0;
}

int HttpRequestReader::onHeaderComplete(llhttp_t* p) {
  HttpRequestReader& r = self(p);
  r.in_content_type_ = false;
  if (++r.header_count_ > r.limits_.max_headers) return r.fail(431, "too many headers");
  return r.countHeaderBytes(kHeaderLineOverhead);
}

int HttpRequestReader::onHeadersComplete(llhttp_t* p) {
  HttpRequestReader& r = self(p);
  // A declared length over the limit is refused before its body arrives, so a client waiting
  // for "100 Continue" learns it at once.
  if ((p->flags & F_CONTENT_LENGTH) != 0 && p->content_length > r.limits_.max_body_bytes) {
    return r.fail(413, "request body too large");
  }
  return 0;
}

int HttpRequestReader::onBody(llhttp_t* p, const char* at, size_t len) {
  HttpRequestReader& r = self(p);
  r.body_bytes_ += len;
  if (r.body_bytes_ > r.limits_.max_body_bytes) return r.fail(413, "request body too large");
  r.body_.append(at, len);
  return 0;
}

int HttpRequestReader::onMessageComplete(llhttp_t* p) {
  HttpRequestReader& r = self(p);
  r.mid_request_ = false;
  std::string_view target = r.url_;
  HttpRequest req;
  req.method = llhttp_method_name(static_cast<llhttp_method_t>(p->method));
  size_t q = target.find('?');
  req.path = target.substr(0, q);
  if (q != std::string_view::npos) req.query = target.substr(q + 1);
  req.http_major = p->http_major;
  req.http_minor = p->http_minor;
  req.keep_alive = llhttp_should_keep_alive(p) != 0 && !p->upgrade;
  req.content_type = r.content_type_;
  req.body = r.body_;
  bool more = r.sink_->onRequest(req);
  if (!more || !req.keep_alive) {
    r.stop_ = true;
    return HPE_PAUSED;
  }
  if (r.sink_->wantsPause()) {
    r.pause_ = true;
    return HPE_PAUSED;
  }
  return 0;
}

HttpRequestReader::Result HttpRequestReader::feed(std::string_view bytes, HttpRequestSink& sink) {
  if (stop_) return Result::kClose;
  if (error_status_ != 0) return Result::kError;
  sink_ = &sink;
  llhttp_errno_t err = llhttp_execute(&parser_, bytes.data(), bytes.size());
  sink_ = nullptr;
  if (err == HPE_OK) return Result::kNeedMore;
  if (pause_ && err == HPE_PAUSED) {
    pause_ = false;
    consumed_ = static_cast<size_t>(llhttp_get_error_pos(&parser_) - bytes.data());
    llhttp_resume(&parser_);
    return Result::kPaused;
  }
  if (stop_ || err == HPE_PAUSED_UPGRADE) {
    stop_ = true;
    return Result::kClose;
  }
  if (error_status_ == 0) {
    error_status_ = 400;
    error_reason_ = llhttp_get_error_reason(&parser_) ? llhttp_get_error_reason(&parser_) : "malformed request";
  }
  return Result::kError;
}

}  // namespace lbmail
