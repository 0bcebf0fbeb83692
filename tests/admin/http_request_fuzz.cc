// libFuzzer target for the admin request path: bytes in pieces -> HttpRequestReader -> AdminRouter.
#include <cassert>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "lbmail/admin/admin_router.h"
#include "lbmail/admin/http_request_reader.h"
#include "lbmail/core/metrics_registry.h"

namespace {

using namespace lbmail;

// Routes every parsed request and checks each answer is a framed HTTP/1.1 response.
class RoutingSink : public HttpRequestSink {
 public:
  explicit RoutingSink(const AdminRouter& router) : router_(router) {}
  void onRequestStarted() override {}
  bool onRequest(const HttpRequest& request) override {
    std::string out;
    int status = router_.respond(request, !request.keep_alive, out);
    assert(status >= 200 && status < 600);
    assert(out.rfind("HTTP/1.1 ", 0) == 0);
    assert(out.find("\r\n\r\n") != std::string::npos);
    (void)status;
    return true;
  }

 private:
  const AdminRouter& router_;
};

const AdminRouter& router() {
  static MetricsRegistry* metrics = [] {
    auto* m = new MetricsRegistry;
    m->counter("lbmail_fuzz_total", "h", {{"k", "v"}}).inc();
    m->histogram("lbmail_fuzz_seconds", "h", Histogram::latencySecondsBounds()).observe(0.01);
    return m;
  }();
  static AdminRouter* r = [] {
    auto* out = new AdminRouter;
    out->add("/healthz", [](const HttpRequest&, AdminResponse& resp) { resp.body = "ok\n"; });
    out->add("/metrics", [](const HttpRequest&, AdminResponse& resp) { metrics->renderPrometheus(resp.body); });
    out->add("/status", [](const HttpRequest& req, AdminResponse& resp) { resp.body.assign(req.query); });
    // A prefix route with POST, as the unsubscribe endpoint has: the body and Content-Type reach it.
    out->addPrefix(
        "/u/", [](const HttpRequest& req, AdminResponse& resp) { resp.body.assign(req.path); },
        [](const HttpRequest& req, AdminResponse& resp) {
          assert(req.body.size() <= 256);
          resp.body.assign(req.content_type).append(req.body);
        });
    return out;
  }();
  return *r;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  // The first byte chooses how the rest is cut into reads, as a socket would deliver it.
  size_t step = 1 + data[0] % 64;
  std::string_view input(reinterpret_cast<const char*>(data + 1), size - 1);
  HttpRequestReader::Limits limits;
  limits.max_header_bytes = 1024;
  limits.max_body_bytes = 256;
  HttpRequestReader reader(limits);
  RoutingSink sink(router());
  for (size_t off = 0; off < input.size(); off += step) {
    HttpRequestReader::Result r = reader.feed(input.substr(off, step), sink);
    if (r == HttpRequestReader::Result::kError) {
      int status = reader.errorStatus();
      assert(status == 400 || status == 413 || status == 431);
      std::string out;
      AdminRouter::respondError(status, out);
      break;
    }
    if (r == HttpRequestReader::Result::kClose) break;
  }
  return 0;
}
