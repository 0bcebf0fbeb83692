// The gateway run the benchmarks share.
#include "gateway_run.h"

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <vector>

#include "gateway_process.h"
#include "lbmail/media/media_cache_builder.h"
#include "lbmail/media/message_assembler.h"
#include "loop_thread.h"
#include "tcp_wire_bytes.h"
#include "temp_path.h"

namespace lbmail::perf {
namespace {

const char kText[] =
    "Dear {{first_name}},\n\nthank you for shopping with us. Your personal code is {{code}}: enter it at\n"
    "checkout for 15% off everything in the attached catalogue.\n\nKind regards,\nThe Shop team\n";
const char kHtml[] =
    "<html><body><p>Dear {{first_name}},</p><p>thank you for shopping with us. Your personal code is "
    "<b>{{code}}</b>: enter it at checkout for 15% off everything in the attached catalogue.</p>"
    "<p>Kind regards,<br>The Shop team</p></body></html>\n";

}  // namespace

BenchCache::BenchCache(size_t size) : dir(test::tempPath("gateway-bench-" + std::to_string(size))) {
  std::filesystem::create_directories(dir + "/src");
  size_t attachment = (size > 1500 ? size - 1500 : 1000) * 57 / 78;  // the rest: headers, text, HTML
  std::string bytes(attachment, '\0');
  uint64_t x = 88172645463325252ull;
  for (char& c : bytes) {
    x ^= x << 13, x ^= x >> 7, x ^= x << 17;
    c = static_cast<char>(x);
  }
  std::ofstream(dir + "/src/offer.pdf", std::ios::binary) << bytes;
  auto report = media::buildMediaCache(dir + "/src", dir + "/cache");
  if (report) hash = report->entries[0].hash;
}

BenchCache::~BenchCache() {
  std::error_code ec;
  std::filesystem::remove_all(dir, ec);
}

test::TestMaterial benchMaterial(const media::MediaHash& hash) {
  test::TestMaterial m;
  m.id = 1;
  m.parts = {{proto::MaterialPartKind::kFrom, "The Shop <news@shop.example>"},
             {proto::MaterialPartKind::kSubject, "{{first_name}}, your catalogue"},
             {proto::MaterialPartKind::kText, kText},
             {proto::MaterialPartKind::kHtml, kHtml},
             {proto::MaterialPartKind::kListUnsubscribe, "<https://shop.example/u?c={{code}}>"},
             {proto::MaterialPartKind::kFields, "first_name,code"}};
  m.media = {{hash, proto::MediaDisposition::kAttachment, "catalogue.pdf"}};
  return m;
}

size_t messageSize(const std::string& cache_dir, const media::MediaHash& hash) {
  auto cache = media::MediaCache::open(cache_dir);
  if (!cache) return 0;
  media::MaterialSpec s;
  s.from = "The Shop <news@shop.example>";
  s.subject = "{{first_name}}, your catalogue";
  s.text = kText;
  s.html = kHtml;
  s.list_unsubscribe = "<https://shop.example/u?c={{code}}>";
  s.fields = {"first_name", "code"};
  s.media = {{hash, false, "catalogue.pdf"}};
  auto m = media::Material::define(s, *cache);
  if (!m) return 0;
  std::optional<std::string_view> values[] = {"Customer", "SPRING-123456"};
  media::MessageRequest r;
  r.request_id = 123456;
  r.recipient = "rcpt123456@example.test";
  r.fields = values;
  media::MessageAssembler a;
  auto msg = a.assemble(*m, r);
  return msg ? msg->size() : 0;
}

GatewayRun runGateway(const SocketAddress& sink, const BenchCache& cache, int messages, const std::string& extra,
                      const std::string& smtp_extra) {
  GatewayRun run;
  test::GatewayOptions go;
  go.media_cache = cache.dir + "/cache";
  go.capacity = 2000;
  // The gateway as shipped: [smtp] max_connections = 20 per destination. For a like-for-like run
  // with smtp-source's 8 sessions, LBMAIL_BENCH_GATEWAY_CONNECTIONS=8.
  go.smtp_extra = smtp_extra;
  if (const char* n = std::getenv("LBMAIL_BENCH_GATEWAY_CONNECTIONS")) go.smtp_extra += "max_connections = " + std::string(n) + "\n";
  go.extra = "[[dns.route]]\ndomain = \"example.test\"\naddresses = [\"" + sink.toString() + "\"]\n" + extra;
  test::GatewayProcess gateway(go);  // inherits CPU 1
  if (!gateway.start()) return run;
  std::vector<test::TestRequest> requests;
  for (int i = 0; i < messages; ++i) {
    test::TestRequest r;
    r.id = static_cast<uint64_t>(i + 1);
    r.sender = "bench@sender.test";
    r.recipient = "rcpt" + std::to_string(i) + "@example.test";
    r.material = 1;
    r.fields = {{"first_name", "Customer"}, {"code", "SPRING-" + std::to_string(100000 + i)}};
    requests.push_back(std::move(r));
  }
  test::LoopThread loop;
  test::TestInitiator driver(loop.loop(), gateway, {benchMaterial(cache.hash)}, std::move(requests));
  rusage before{}, after{};
  getrusage(RUSAGE_SELF, &before);
  auto t0 = std::chrono::steady_clock::now();
  loop.call([&] { driver.start(); });
  bool all = driver.waitForAnswers(static_cast<size_t>(messages), std::chrono::seconds(120));
  run.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  getrusage(RUSAGE_SELF, &after);
  run.driver_cpu_seconds = test::cpuSeconds(after) - test::cpuSeconds(before);
  loop.call([&] {
    auto wire = perf::wireBytesToPort(gateway.link().port());  // before the link closes
    run.wire_bytes = wire ? static_cast<double>(wire->total()) : 0;
    driver.stop([] {});
  });
  loop.stop();
  size_t delivered = 0;
  for (const auto& [id, answers] : driver.answers()) {
    delivered += answers.size() == 1 && !answers[0].rejected && answers[0].outcome == proto::Outcome::kDelivered;
  }
  run.link_bytes = static_cast<double>(driver.bytesSent() + driver.bytesReceived());
  if (std::getenv("LBMAIL_BENCH_DEBUG")) {
    double q = 0, c = 0, sm = 0, t = 0;
    for (const auto& [id, answers] : driver.answers()) {
      q += answers[0].timings.queue_us, c += answers[0].timings.connect_us, sm += answers[0].timings.smtp_us,
          t += answers[0].timings.total_us;
    }
    std::fprintf(stderr, "mean us: queue %.0f connect %.0f smtp %.0f total %.0f\n", q / messages, c / messages,
                 sm / messages, t / messages);
  }
  rusage usage{};
  int code = gateway.stop(&usage);
  run.cpu_seconds = test::cpuSeconds(usage);
  run.ok = all && code == 0 && delivered == static_cast<size_t>(messages);
  return run;
}

}  // namespace lbmail::perf
