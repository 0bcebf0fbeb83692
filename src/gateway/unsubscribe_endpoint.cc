// The one-click unsubscribe endpoint: the admin HTTP server without its own routes, with
// metric names of its own, over TLS when a certificate is set, and one route for every path:
// the token is the last path segment.
#include "unsubscribe_endpoint.h"

#include "lbmail/admin/admin_server.h"
#include "lbmail/core/log.h"
#include "unsubscribe_page.h"

namespace lbmail {
namespace {

// How long a client should wait after a 503 (the spool could not take the event).
constexpr const char* kRetryAfterSeconds = "60";

AdminServer::Options serverOptions(const UnsubscribeSettings& settings) {
  AdminServer::Options o;
  o.builtin_routes = false;
  o.metric_prefix = "lbmail_gateway_unsubscribe_http";
  o.metric_noun = "Unsubscribe HTTP";
  o.name = "unsubscribe";
  o.tls_cert_file = settings.tls_cert_file;
  o.tls_key_file = settings.tls_key_file;
  return o;
}

void html(AdminResponse& r, int status, std::string body) {
  r.status = status;
  r.content_type = "text/html; charset=utf-8";
  r.body = std::move(body);
}

}  // namespace

struct UnsubscribeEndpoint::Impl {
  Impl(uv_loop_t* loop, const UnsubscribeSettings& settings, MetricsRegistry& metrics, Record record_fn,
       Check check_fn)
      : server(loop, settings.http, metrics, nullptr, nullptr, serverOptions(settings)),
        registry(metrics),
        listen(settings.http.listen.toString()),
        record(std::move(record_fn)),
        check(std::move(check_fn)) {
    server.router().addPrefix(
        "/", [this](const HttpRequest& q, AdminResponse& r) { onGet(q, r); },
        [this](const HttpRequest& q, AdminResponse& r) { onPost(q, r); });
  }

  void count(const char* result) {
    registry
        .counter("lbmail_gateway_unsubscribe_requests_total",
                 "Unsubscribe endpoint requests by result: one_click and page_confirm recorded an "
                 "unsubscribe, page_view showed the confirmation page, invalid had no valid token, "
                 "unavailable could not be recorded (503).",
                 {{"result", result}})
        .inc();
  }

  // GET and HEAD: the confirmation page, never a record (RFC 8058 section 3.2).
  void onGet(const HttpRequest& q, AdminResponse& r) {
    std::string_view token = unsubscribe::tokenOf(q.path);
    if (token.empty() || !check(token)) {
      count("invalid");
      html(r, 404, unsubscribe::invalidPage());
      return;
    }
    count("page_view");
    html(r, 200, unsubscribe::confirmationPage(token));
  }

  // POST: one-click (RFC 8058 section 3.1) or the confirmation page's form.
  void onPost(const HttpRequest& q, AdminResponse& r) {
    std::string_view token = unsubscribe::tokenOf(q.path);
    bool one_click = unsubscribe::isOneClick(q.content_type, q.body);
    Outcome outcome = token.empty() ? Outcome::kInvalid : record(token, one_click ? "one-click" : "unsubscribe-page");
    switch (outcome) {
      case Outcome::kRecorded:
        count(one_click ? "one_click" : "page_confirm");
        // One-click: a plain 200, no redirect and nothing more to do (RFC 8058 section 3.2).
        if (one_click) {
          r.body = "Unsubscribed.\n";
        } else {
          html(r, 200, unsubscribe::donePage());
        }
        return;
      case Outcome::kInvalid:
        count("invalid");
        html(r, 404, unsubscribe::invalidPage());
        return;
      case Outcome::kUnavailable:
        count("unavailable");
        logWarn("unsubscribe.unavailable", {{"source", one_click ? "one-click" : "unsubscribe-page"}});
        r.status = 503;
        r.body = "Unsubscribing is not possible at the moment; please try again later.\n";
        r.headers.emplace_back("Retry-After", kRetryAfterSeconds);
        return;
    }
  }

  AdminServer server;
  MetricsRegistry& registry;
  std::string listen;
  Record record;
  Check check;
};

UnsubscribeEndpoint::UnsubscribeEndpoint(uv_loop_t* loop, const UnsubscribeSettings& settings,
                                         MetricsRegistry& metrics, Record record, Check check)
    : impl_(std::make_unique<Impl>(loop, settings, metrics, std::move(record), std::move(check))) {}

UnsubscribeEndpoint::~UnsubscribeEndpoint() = default;

int UnsubscribeEndpoint::start() {
  int rc = impl_->server.start();
  if (rc != 0) {
    std::string reason = impl_->server.startError().empty() ? uv_strerror(rc) : impl_->server.startError();
    logError("unsubscribe.start_failed", {{"listen", impl_->listen}, {"reason", reason}});
  }
  return rc;
}

SocketAddress UnsubscribeEndpoint::boundAddress() const { return impl_->server.boundAddress(); }

bool UnsubscribeEndpoint::https() const { return impl_->server.tls(); }

void UnsubscribeEndpoint::close(std::function<void()> done) { impl_->server.close(std::move(done)); }

}  // namespace lbmail
