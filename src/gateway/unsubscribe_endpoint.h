// The one-click unsubscribe endpoint (RFC 8058) a gateway serves for the signed URLs in the
// List-Unsubscribe of every message: an HTTP listener of its own (HTTPS when a certificate is
// configured), apart from the admin endpoint. POST <path>/<token> records an unsubscribe and
// answers 200 with nothing more to do; GET shows a small page with a button that POSTs, and
// never records anything (mail scanners follow GET links; RFC 8058 section 3.2).
#pragma once

#include <uv.h>

#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "lbmail/core/metrics_registry.h"
#include "lbmail/core/service_config.h"
#include "lbmail/core/socket_address.h"

namespace lbmail {

struct UnsubscribeSettings {
  AdminConfig http;           // listen address, limits and timeouts, as the admin endpoint's
  std::string tls_cert_file;  // PEM chain; with tls_key_file: HTTPS
  std::string tls_key_file;
};

class UnsubscribeEndpoint {
 public:
  enum class Outcome {
    kRecorded,     // the token verified and the event is in the spool: 200
    kInvalid,      // forged, malformed, expired or of the wrong purpose: 404, nothing recorded
    kUnavailable,  // the spool could not take it: 503, the client may try again
  };
  // source: "one-click" (the POST carried List-Unsubscribe=One-Click) or "unsubscribe-page"
  // (the confirmation page's form).
  using Record = std::function<Outcome(std::string_view token, std::string_view source)>;
  // For GET: whether the link is valid, so the page says so (never records).
  using Check = std::function<bool(std::string_view token)>;

  UnsubscribeEndpoint(uv_loop_t* loop, const UnsubscribeSettings& settings, MetricsRegistry& metrics, Record record,
                      Check check);
  ~UnsubscribeEndpoint();
  UnsubscribeEndpoint(const UnsubscribeEndpoint&) = delete;
  UnsubscribeEndpoint& operator=(const UnsubscribeEndpoint&) = delete;

  // Loads the certificate (when set), binds and listens: 0, or a libuv error code (a bad
  // certificate is logged and returns UV_EINVAL).
  int start();
  SocketAddress boundAddress() const;
  bool https() const;
  void close(std::function<void()> done);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace lbmail
