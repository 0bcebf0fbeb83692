// End-to-end tests of the gateway mode over real processes on loopback: a test initiator on the
// link library, `lbmail gateway` resolving MX through a dnsmasq the test starts, delivering into
// `lbmail sink` with its message log and message files on.
#include <gtest/gtest.h>
#include <signal.h>
#include <unistd.h>
#include <xxhash.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <sstream>

#include "dnsmasq_server.h"
#include "gateway_process.h"
#include "lbmail/delivery/tls_policy.h"
#include "lbmail/media/message_assembler.h"
#include "lbmail/proto/frame_codec.h"
#include "loop_thread.h"
#include "media_fixture.h"
#include "sink_process.h"
#include "tcp_client.h"
#include "test_initiator.h"
#include "validate.h"

namespace lbmail {
namespace {

using proto::MaterialPartKind;
using test::TestAnswer;
using test::TestRequest;

constexpr int kDomains = 50;
const char kDeferDomain[] = "d48.test";   // the sink defers every RCPT here
const char kBounceDomain[] = "d49.test";  // and bounces every RCPT here

// A JSON string field of a sink log line ("message_id":"<...>").
std::string jsonField(const std::string& line, const std::string& key) {
  std::string k = "\"" + key + "\":";
  size_t at = line.find(k);
  if (at == std::string::npos) return "";
  at += k.size();
  if (line[at] == '"') {
    size_t end = line.find('"', at + 1);
    return line.substr(at + 1, end - at - 1);
  }
  size_t end = line.find_first_of(",}", at);
  return line.substr(at, end - at);
}

class GatewayEndToEnd : public ::testing::Test {
 protected:
  GatewayEndToEnd() : media_("gateway") {
    pdf_ = media_.addRandomFile("offer.pdf", 20000);
    media_.addRandomFile("logo.png", 2000);
    report_ = media_.build();
  }

  test::TestMaterial material(uint64_t id) {
    test::TestMaterial m;
    m.id = id;
    m.parts = {{MaterialPartKind::kFrom, "Shop <news@shop.example>"},
               {MaterialPartKind::kSubject, "{{first_name}}, your offer"},
               {MaterialPartKind::kText, "Dear {{first_name}},\nyour code is {{code}}.\n"},
               {MaterialPartKind::kHtml, "<p>Dear {{first_name}}</p><img src=\"cid:logo\">\n"},
               {MaterialPartKind::kFields, "first_name, code"}};
    m.media = {{media_.hashOf(report_, "offer.pdf"), proto::MediaDisposition::kAttachment, "offer.pdf"},
               {media_.hashOf(report_, "logo.png"), proto::MediaDisposition::kInline, "logo"}};
    return m;
  }

  // The same material as the gateway defines it, for rebuilding what it sent.
  std::shared_ptr<const media::Material> localMaterial(const media::MediaCache& cache) {
    media::MaterialSpec s;
    s.from = "Shop <news@shop.example>";
    s.subject = "{{first_name}}, your offer";
    s.text = "Dear {{first_name}},\nyour code is {{code}}.\n";
    s.html = "<p>Dear {{first_name}}</p><img src=\"cid:logo\">\n";
    s.fields = {"first_name", "code"};
    s.media = {{media_.hashOf(report_, "offer.pdf"), false, "offer.pdf"},
               {media_.hashOf(report_, "logo.png"), true, "logo"}};
    auto m = media::Material::define(s, cache);
    EXPECT_TRUE(m) << m.error().text;
    return m ? *m : nullptr;
  }

  // The answers to requests sent over one link; empty (and a failure) unless all came in time.
  std::map<uint64_t, std::vector<TestAnswer>> answersOf(test::GatewayProcess& gateway,
                                                        std::vector<test::TestMaterial> materials,
                                                        std::vector<TestRequest> requests) {
    size_t n = requests.size();
    test::LoopThread loop;
    test::TestInitiator initiator(loop.loop(), gateway, std::move(materials), std::move(requests));
    loop.call([&] { initiator.start(); });
    bool all = initiator.waitForAnswers(n, std::chrono::seconds(30));
    loop.call([&] { initiator.stop([] {}); });
    EXPECT_EQ(loop.stop(), 0);
    EXPECT_TRUE(all) << gateway.err();
    if (!all) return {};
    return initiator.answers();
  }

  static TestRequest request(uint64_t id, int domain) {
    TestRequest r;
    r.id = id;
    r.sender = "bounces@shop.example";
    r.recipient = "user" + std::to_string(id) + "@d" + std::to_string(domain) + ".test";
    r.material = 1;
    r.fields = {{"first_name", "Name" + std::to_string(id)}, {"code", "C-" + std::to_string(id * 7)}};
    return r;
  }

  test::MediaFixture media_;
  std::string pdf_;
  media::BuildReport report_;
};

TEST_F(GatewayEndToEnd, TenThousandRequestsFiftyDomainsEachAnsweredOnce) {
  test::DnsmasqServer dns(test::loopbackMxRecords(kDomains));
  ASSERT_EQ(dns.start(), "");
  std::string message_dir = test::tempPath("gateway-e2e-messages");
  std::filesystem::create_directories(message_dir);
  test::SinkProcess sink("message_dir = \"" + message_dir + "\"\n" + "[[sink.rule]]\ndomain = \"" + kDeferDomain +
                         "\"\ndefer_rcpt = 1.0\n" + "[[sink.rule]]\ndomain = \"" + kBounceDomain +
                         "\"\nbounce_rcpt = 1.0\n");
  ASSERT_TRUE(sink.start()) << sink.err();
  test::GatewayOptions go;
  go.smtp_port = sink.smtp().port();
  go.dns_server = dns.address().toString();
  go.media_cache = media_.cache();
  test::GatewayProcess gateway(go);
  ASSERT_TRUE(gateway.start()) << gateway.err();

  constexpr uint64_t kRequests = 10000;
  std::vector<TestRequest> requests;
  for (uint64_t id = 1; id <= kRequests; ++id) requests.push_back(request(id, static_cast<int>(id % kDomains)));
  test::LoopThread loop;
  test::TestInitiator initiator(loop.loop(), gateway, {material(1)}, requests);
  loop.call([&] { initiator.start(); });
  bool all = initiator.waitForAnswers(kRequests, std::chrono::seconds(180));
  loop.call([&] { initiator.stop([] {}); });
  EXPECT_EQ(loop.stop(), 0);
  ASSERT_TRUE(all) << "answers: " << initiator.answers().size() << "\n" << gateway.err().substr(0, 4000);
  EXPECT_EQ(initiator.catalogSize(), 2u);

  // Every request exactly one RESULT, with the outcome its domain's rule says.
  auto answers = initiator.answers();
  ASSERT_EQ(answers.size(), kRequests);
  std::set<uint64_t> delivered;
  for (const auto& [id, list] : answers) {
    ASSERT_EQ(list.size(), 1u) << "request " << id;
    const TestAnswer& a = list[0];
    ASSERT_FALSE(a.rejected) << id << ": " << a.text;
    // The sink speaks plain SMTP: every RESULT says so, under the default policy.
    EXPECT_TRUE(a.has_tls) << id;
    EXPECT_EQ(a.tls_version, "") << id;
    EXPECT_FALSE(a.tls_verified) << id;
    EXPECT_EQ(a.tls_policy, static_cast<uint8_t>(delivery::TlsPolicy::kOpportunistic)) << id;
    std::string domain = "d" + std::to_string(id % kDomains) + ".test";
    if (domain == kDeferDomain) {
      EXPECT_EQ(a.outcome, proto::Outcome::kDeferred) << id;
      EXPECT_EQ(a.code, 450) << id;
      EXPECT_EQ(a.enhanced, "4.2.1") << id;
    } else if (domain == kBounceDomain) {
      EXPECT_EQ(a.outcome, proto::Outcome::kBounced) << id;
      EXPECT_EQ(a.code, 550) << id;
      EXPECT_EQ(a.enhanced, "5.1.1") << id;
    } else {
      EXPECT_EQ(a.outcome, proto::Outcome::kDelivered) << id << ": " << a.text;
      EXPECT_EQ(a.code, 250) << id;
      EXPECT_EQ(a.mx_host, "mx." + domain) << id;
      EXPECT_GT(a.timings.total_us, 0u);
      EXPECT_GE(a.timings.total_us, a.timings.smtp_us);
      delivered.insert(id);
    }
  }
  EXPECT_EQ(delivered.size(), kRequests - 2 * kRequests / kDomains);
  // Each message reached the sink on a plain connection (a deferral or a bounce at RCPT too).
  auto metrics = test::httpGet(gateway.admin(), "/metrics");
  ASSERT_TRUE(metrics);
  EXPECT_NE(metrics->body.find(
                "lbmail_gateway_tls_messages_total{policy=\"opportunistic\",version=\"none\",verified=\"false\"} 10000\n"),
            std::string::npos)
      << metrics->body;
  auto status = test::httpGet(gateway.admin(), "/status");
  ASSERT_TRUE(status);
  EXPECT_NE(status->body.find(R"("tls":{"policy_refusals":0,"handshakes":0,"resumed":0,"handshake_failures":0,)"
                              R"("plain_fallbacks":0,"policies":{"opportunistic":{"messages":10000,"encrypted":0,)"
                              R"("verified":0,"failures":0,"versions":{"none":10000}}}})"),
            std::string::npos)
      << status->body;
  // Fifty domains, fifty MX names, one receiver address: fifty sites (docs/shaping.md), so one
  // destination pool per site, and no more (opportunistic TLS needs no connections of its own
  // per MX name beyond its site's).
  size_t pools = 0;
  for (size_t at = status->body.find("\"destination\":"); at != std::string::npos;
       at = status->body.find("\"destination\":", at + 1)) {
    ++pools;
  }
  EXPECT_EQ(pools, static_cast<size_t>(kDomains)) << status->body.substr(0, 2000);
  EXPECT_EQ(gateway.stop(), 0) << gateway.err().substr(0, 4000);
  EXPECT_EQ(sink.stop(), 0);

  // Every delivered message once in the sink's log, to its recipient, with its Message-ID; a
  // sample rebuilt here byte for byte, with the Date the gateway wrote.
  auto cache = media::MediaCache::open(media_.cache());
  ASSERT_TRUE(cache);
  auto local = localMaterial(*cache);
  media::MessageAssembler assembler;
  std::map<uint64_t, int> seen;
  for (const std::string& line : sink.messageLog()) {
    uint64_t id = std::stoull(jsonField(line, "lbmail_id"));
    ++seen[id];
    ASSERT_TRUE(delivered.count(id)) << line;
    TestRequest r = request(id, static_cast<int>(id % kDomains));
    EXPECT_NE(line.find("\"recipients\":[\"" + r.recipient + "\"]"), std::string::npos) << line;
    char hex[32];
    std::snprintf(hex, sizeof hex, "%llx", static_cast<unsigned long long>(id));
    EXPECT_EQ(jsonField(line, "message_id"), std::string("<lbm.") + hex + "@shop.example>") << line;
    if (id % 500 != 0) continue;
    std::ifstream in(message_dir + "/" + jsonField(line, "number") + ".eml", std::ios::binary);
    std::string received((std::istreambuf_iterator<char>(in)), {});
    char sum[17];
    std::snprintf(sum, sizeof sum, "%016llx",
                  static_cast<unsigned long long>(XXH3_64bits(received.data(), received.size())));
    EXPECT_EQ(jsonField(line, "xxh3"), sum);
    size_t date_at = received.find("Date: ");
    ASSERT_NE(date_at, std::string::npos);
    struct tm tm {};
    ASSERT_NE(strptime(received.c_str() + date_at + 6, "%a, %d %b %Y %H:%M:%S +0000", &tm), nullptr);
    std::vector<std::optional<std::string_view>> values{r.fields[0].second, r.fields[1].second};
    media::MessageRequest mr;
    mr.request_id = id;
    mr.recipient = r.recipient;
    mr.fields = values;
    mr.date = timegm(&tm);
    auto rebuilt = assembler.assemble(local, mr);
    ASSERT_TRUE(rebuilt);
    EXPECT_EQ(rebuilt->flatten(), received) << "message " << id << " differs from its assembly";
  }
  EXPECT_EQ(seen.size(), delivered.size());
  for (const auto& [id, n] : seen) EXPECT_EQ(n, 1) << "message " << id << " received " << n << " times";
  std::filesystem::remove_all(message_dir);
}

TEST_F(GatewayEndToEnd, MaterialWithMissingMediaIsRefusedWithTheHashes) {
  test::SinkProcess sink("");
  ASSERT_TRUE(sink.start()) << sink.err();
  test::GatewayOptions go;
  go.smtp_port = sink.smtp().port();
  go.media_cache = media_.cache();
  go.extra = "[[dns.route]]\ndomain = \"d1.test\"\naddresses = [\"" + sink.smtp().toString() + "\"]\n";
  test::GatewayProcess gateway(go);
  ASSERT_TRUE(gateway.start()) << gateway.err();

  test::TestMaterial lacking = material(1);
  proto::MediaHash unknown{};
  unknown.fill(0xab);
  lacking.media.push_back({unknown, proto::MediaDisposition::kAttachment, "gone.pdf"});
  std::vector<TestRequest> requests{request(1, 1), request(2, 1)};
  requests[1].material = 9;  // never defined
  auto answers = answersOf(gateway, {lacking}, requests);
  ASSERT_EQ(answers.size(), 2u);
  ASSERT_TRUE(answers[1][0].rejected);
  EXPECT_EQ(answers[1][0].reason, proto::RejectReason::kMissingMedia);
  EXPECT_NE(answers[1][0].text.find(media::hashToHex(unknown)), std::string::npos) << answers[1][0].text;
  ASSERT_TRUE(answers[2][0].rejected);
  EXPECT_EQ(answers[2][0].reason, proto::RejectReason::kUnknownMaterial);
  EXPECT_EQ(gateway.stop(), 0);
  EXPECT_EQ(sink.stop(), 0);
  EXPECT_TRUE(sink.messageLog().empty());
}

// RFC 5321 section 4.1.2: a Quoted-string local part, which import accepts, reaches the
// receiver as it is instead of being bounced by the gateway as an invalid envelope.
TEST_F(GatewayEndToEnd, QuotedLocalPartsAreDelivered) {
  test::SinkProcess sink("");
  ASSERT_TRUE(sink.start()) << sink.err();
  test::GatewayOptions go;
  go.smtp_port = sink.smtp().port();
  go.media_cache = media_.cache();
  go.extra = "[[dns.route]]\ndomain = \"d1.test\"\naddresses = [\"" + sink.smtp().toString() + "\"]\n";
  test::GatewayProcess gateway(go);
  ASSERT_TRUE(gateway.start()) << gateway.err();

  std::vector<TestRequest> requests{request(1, 1)};
  requests[0].recipient = "\"quoted local\"@d1.test";
  auto answers = answersOf(gateway, {material(1)}, requests);
  ASSERT_EQ(answers.size(), 1u);
  ASSERT_FALSE(answers[1][0].rejected) << answers[1][0].text;
  EXPECT_EQ(answers[1][0].outcome, proto::Outcome::kDelivered) << answers[1][0].text;
  EXPECT_EQ(gateway.stop(), 0);
  EXPECT_EQ(sink.stop(), 0);
  std::vector<std::string> log = sink.messageLog();
  ASSERT_EQ(log.size(), 1u);
  EXPECT_NE(log[0].find("\"recipients\":[\"\\\"quoted local\\\"@d1.test\"]"), std::string::npos) << log[0];
}

// Fields the message can never carry, whatever the gateway or the attempt: REJECT "bad
// content" with the reason, which the initiator makes final (issue 16, defect 11).
TEST_F(GatewayEndToEnd, FieldsNoMessageCanCarryAreRefusedAsBadContent) {
  test::GatewayOptions go;
  go.media_cache = media_.cache();
  test::GatewayProcess gateway(go);
  ASSERT_TRUE(gateway.start()) << gateway.err();
  std::vector<TestRequest> requests{request(1, 1), request(2, 1)};
  requests[0].fields[0].second = "Eve\r\nBcc: victim@d2.test";  // first_name is in the Subject
  requests[1].fields[1].second = std::string("C-\0", 3);        // code: a NUL in the body
  auto answers = answersOf(gateway, {material(1)}, requests);
  ASSERT_EQ(answers.size(), 2u);
  ASSERT_TRUE(answers[1][0].rejected);
  EXPECT_EQ(answers[1][0].reason, proto::RejectReason::kBadContent);
  EXPECT_EQ(answers[1][0].text, "field 'first_name' is used in a header and contains a line break");
  ASSERT_TRUE(answers[2][0].rejected);
  EXPECT_EQ(answers[2][0].reason, proto::RejectReason::kBadContent);
  EXPECT_EQ(gateway.stop(), 0);
}

TEST_F(GatewayEndToEnd, UnauthenticatedSendsDeliverNothing) {
  test::SinkProcess sink("");
  ASSERT_TRUE(sink.start()) << sink.err();
  test::GatewayOptions go;
  go.smtp_port = sink.smtp().port();
  go.extra = "[[dns.route]]\ndomain = \"d1.test\"\naddresses = [\"" + sink.smtp().toString() + "\"]\n";
  test::GatewayProcess gateway(go);
  ASSERT_TRUE(gateway.start()) << gateway.err();

  // Frames straight onto the socket, without the handshake: a MATERIAL and SENDs.
  BufferList frames;
  proto::MaterialFrame m;
  m.material_id = 1;
  m.parts = {{MaterialPartKind::kFrom, "a@shop.example"}, {MaterialPartKind::kText, "hi"}};
  proto::encodeFrame(frames, m);
  for (uint64_t id = 1; id <= 50; ++id) {
    proto::SendFrame s;
    s.request_id = id;
    s.recipient = "victim@d1.test";
    s.material_id = 1;
    proto::encodeFrame(frames, s);
  }
  std::string bytes;
  for (const uv_buf_t& b : frames.uvBufs()) bytes.append(b.base, b.len);
  test::TcpClient client(gateway.link());
  ASSERT_TRUE(client.connected());
  client.send(bytes);
  // The gateway closes the connection: reading reaches the end of the stream.
  client.readUntilClosed();
  EXPECT_TRUE(client.peerClosed());
  EXPECT_EQ(gateway.stop(), 0);
  EXPECT_EQ(sink.stop(), 0);
  EXPECT_TRUE(sink.messageLog().empty());
}

TEST_F(GatewayEndToEnd, TwoLinksAtOnceAndALinkThatDropsLeavesItsDeliveriesToFinish) {
  test::SinkProcess sink("[[sink.rule]]\nreply_latency = \"5ms\"\n");
  ASSERT_TRUE(sink.start()) << sink.err();
  test::GatewayOptions go;
  go.smtp_port = sink.smtp().port();
  go.media_cache = media_.cache();
  go.capacity = 200;
  go.extra = "[[dns.route]]\ndomain = \"d1.test\"\naddresses = [\"" + sink.smtp().toString() + "\"]\n";
  test::GatewayProcess gateway(go);
  ASSERT_TRUE(gateway.start()) << gateway.err();

  std::vector<TestRequest> first, second;
  for (uint64_t id = 1; id <= 1000; ++id) {
    first.push_back(request(id, 1));
    second.push_back(request(100000 + id, 1));
  }
  test::LoopThread loop;
  test::TestInitiator a(loop.loop(), gateway, {material(1)}, first);
  test::TestInitiator b(loop.loop(), gateway, {material(1)}, second);
  loop.call([&] {
    a.start();
    b.start();
  });
  // A leaves after its first answers, with requests still in flight on the gateway.
  bool some = a.waitForAnswers(20, std::chrono::seconds(60));
  loop.call([&] { a.stop([] {}); });
  if (!some) {
    loop.call([&] { b.stop([] {}); });
    loop.stop();
    gateway.stop();
    FAIL() << "no answers on the first link\n" << gateway.err().substr(0, 5000);
  }
  bool all = b.waitForAnswers(1000, std::chrono::seconds(120));
  loop.call([&] { b.stop([] {}); });
  EXPECT_EQ(loop.stop(), 0);
  ASSERT_TRUE(all) << "answers on the second link: " << b.answers().size();
  for (const auto& [id, list] : b.answers()) {
    ASSERT_EQ(list.size(), 1u) << id;
    EXPECT_EQ(list[0].outcome, proto::Outcome::kDelivered) << list[0].text;
  }
  size_t answered_a = a.answers().size();
  EXPECT_LT(answered_a, 1000u);
  EXPECT_EQ(gateway.stop(), 0);
  // Whatever A had started was still delivered; its RESULTs were dropped and counted (A named
  // no instance to hand them to). What it had not started was withdrawn, never sent.
  std::string log = gateway.err();
  size_t at = log.find("results_dropped=");
  ASSERT_NE(at, std::string::npos) << log.substr(0, 3000);
  uint64_t dropped = std::stoull(log.substr(at + 16));
  EXPECT_GT(dropped, 0u);
  EXPECT_EQ(sink.stop(), 0);
  // Every SEND of A's that the gateway started was delivered: answered, dropped, or answered
  // while A was saying goodbye (on the wire, never read). None was delivered twice.
  size_t received = sink.messageLog().size();
  EXPECT_GE(received, 1000 + answered_a + dropped);
  EXPECT_LE(received, 1000 + a.sent());
}

TEST_F(GatewayEndToEnd, EveryCounterIsTypedCounterAndNamedTotal) {
  test::GatewayOptions go;
  go.media_cache = media_.cache();
  test::GatewayProcess gateway(go);
  ASSERT_TRUE(gateway.start()) << gateway.err();
  auto m = test::httpGet(gateway.admin(), "/metrics");
  ASSERT_TRUE(m);
  std::map<std::string, std::string> types;  // family name -> TYPE
  std::istringstream in(m->body);
  for (std::string line; std::getline(in, line);) {
    if (line.rfind("# TYPE ", 0) != 0) continue;
    std::istringstream fields(line.substr(7));
    std::string name, type;
    fields >> name >> type;
    types[name] = type;
    // Prometheus naming: a counter ends in _total, and nothing else claims the suffix.
    EXPECT_EQ(type == "counter", name.ends_with("_total")) << line;
  }
  for (const char* name : {"lbmail_gateway_smtp_connections_opened_total", "lbmail_gateway_smtp_transactions_reused_total",
                           "lbmail_gateway_dns_cache_hits_total", "lbmail_gateway_dns_cache_misses_total",
                           "lbmail_log_lines_suppressed_total", "lbmail_gateway_smtp_destinations_retired_total",
                           "lbmail_gateway_smtp_destinations_refused_total"}) {
    EXPECT_EQ(types[name], "counter") << name;
  }
  EXPECT_EQ(types["lbmail_gateway_smtp_destinations"], "gauge");
  EXPECT_EQ(types.count("lbmail_gateway_smtp_connections_opened"), 0u);
  EXPECT_TRUE(test::validateDocument("prometheus", m->body).ok);
}

TEST_F(GatewayEndToEnd, ARequestWhoseDeadlinePassesBeforeMailFromIsRefusedExpiredAndNeverSent) {
  // One connection at a time, one message each, each greeting slow: the second request waits
  // well past its deadline for its turn.
  test::SinkProcess sink("[[sink.rule]]\ngreeting_latency = \"400ms\"\n");
  ASSERT_TRUE(sink.start()) << sink.err();
  test::GatewayOptions go;
  go.smtp_port = sink.smtp().port();
  go.media_cache = media_.cache();
  go.smtp_extra = "max_connections = 1\nmax_messages_per_connection = 1\n";
  go.extra = "[[dns.route]]\ndomain = \"d1.test\"\naddresses = [\"" + sink.smtp().toString() + "\"]\n";
  test::GatewayProcess gateway(go);
  ASSERT_TRUE(gateway.start()) << gateway.err();
  TestRequest first = request(1, 1);
  TestRequest late = request(2, 1);
  late.deadline_ms = 200;
  auto answers = answersOf(gateway, {material(1)}, {first, late});
  ASSERT_EQ(answers.size(), 2u);
  ASSERT_EQ(answers[1].size(), 1u);
  EXPECT_EQ(answers[1][0].outcome, proto::Outcome::kDelivered) << answers[1][0].text;
  ASSERT_EQ(answers[2].size(), 1u);
  EXPECT_TRUE(answers[2][0].rejected);
  EXPECT_EQ(answers[2][0].reason, proto::RejectReason::kExpired) << answers[2][0].text;
  EXPECT_EQ(gateway.stop(), 0);
  EXPECT_EQ(sink.stop(), 0);
  EXPECT_EQ(sink.messageLog().size(), 1u);
}

TEST_F(GatewayEndToEnd, AnswersOfALinkThatWentAwayAreHandedOverWhenItsInstanceComesBack) {
  // d2.test takes long to answer the end of data: its delivery is under way when A leaves.
  test::SinkProcess sink("[[sink.rule]]\ndomain = \"d2.test\"\ndata_latency = \"1500ms\"\n");
  ASSERT_TRUE(sink.start()) << sink.err();
  test::GatewayOptions go;
  go.smtp_port = sink.smtp().port();
  go.media_cache = media_.cache();
  go.smtp_extra = "max_messages_per_connection = 1\n";  // one transaction per connection
  go.extra = "[[dns.route]]\ndomain = \"d1.test\"\naddresses = [\"" + sink.smtp().toString() + "\"]\n" +
             "[[dns.route]]\ndomain = \"d2.test\"\naddresses = [\"" + sink.smtp().toString() + "\"]\n";
  test::GatewayProcess gateway(go);
  ASSERT_TRUE(gateway.start()) << gateway.err();
  constexpr uint64_t kInstance = 0x5eed;
  test::LoopThread loop;
  test::TestInitiator a(loop.loop(), gateway, {material(1)}, {request(1, 1), request(2, 2)}, kInstance);
  loop.call([&] { a.start(); });
  // The fast one answered: the slow one's transaction has started too (both went out at once).
  ASSERT_TRUE(a.waitForAnswers(1, std::chrono::seconds(30)));
  loop.call([&] { a.stop([] {}); });
  EXPECT_EQ(a.answers().count(2), 0u) << a.answers()[2][0].text;

  // The same instance again: request 1's answer handed over, request 2's when it is done.
  test::TestInitiator b(loop.loop(), gateway, {material(1)}, {}, kInstance);
  test::TestInitiator other(loop.loop(), gateway, {material(1)}, {}, 0x07e5);
  loop.call([&] {
    b.start();
    other.start();
  });
  bool both = b.waitForAnswers(2, std::chrono::seconds(30));
  loop.call([&] {
    b.stop([] {});
    other.stop([] {});
  });
  EXPECT_EQ(loop.stop(), 0);
  ASSERT_TRUE(both);
  auto answers = b.answers();
  ASSERT_EQ(answers[1].size(), 1u);
  EXPECT_EQ(answers[1][0].outcome, proto::Outcome::kDelivered);
  EXPECT_TRUE(answers[1][0].has_tls);  // a held answer keeps its TLS fields
  EXPECT_EQ(answers[1][0].tls_policy, static_cast<uint8_t>(delivery::TlsPolicy::kOpportunistic));
  ASSERT_EQ(answers[2].size(), 1u);
  EXPECT_EQ(answers[2][0].outcome, proto::Outcome::kDelivered) << answers[2][0].text;
  ASSERT_EQ(b.handovers().size(), 1u);
  EXPECT_EQ(b.handovers()[0].held, 1u);
  EXPECT_EQ(b.handovers()[0].running, 1u);
  EXPECT_EQ(b.answersBeforeHandover(), 1u);
  // Another instance gets none of them.
  EXPECT_TRUE(other.answers().empty());
  EXPECT_EQ(gateway.stop(), 0);
  EXPECT_EQ(sink.stop(), 0);
  EXPECT_EQ(sink.messageLog().size(), 2u);
}

TEST_F(GatewayEndToEnd, DrainAnswersEverythingWithinItsTimeoutAndExitsZero) {
  // A receiver that never answers the end of data: deliveries hang until the drain gives up.
  test::SinkProcess sink("[[sink.rule]]\ndata_latency = \"10m\"\n");
  ASSERT_TRUE(sink.start()) << sink.err();
  test::GatewayOptions go;
  go.smtp_port = sink.smtp().port();
  go.media_cache = media_.cache();
  go.drain_timeout = "300ms";
  go.extra = "[[dns.route]]\ndomain = \"d1.test\"\naddresses = [\"" + sink.smtp().toString() + "\"]\n";
  test::GatewayProcess gateway(go);
  ASSERT_TRUE(gateway.start()) << gateway.err();
  std::vector<TestRequest> requests;
  for (uint64_t id = 1; id <= 50; ++id) requests.push_back(request(id, 1));
  test::LoopThread loop;
  test::TestInitiator initiator(loop.loop(), gateway, {material(1)}, requests);
  loop.call([&] { initiator.start(); });
  // Wait until the gateway has taken them all (its in-flight gauge says so), then SIGTERM.
  bool taken = false;
  for (int i = 0; i < 500 && !taken; ++i) {
    auto m = test::httpGet(gateway.admin(), "/metrics");
    taken = m && m->body.find("\nlbmail_gateway_in_flight 50\n") != std::string::npos;
    if (!taken) usleep(10'000);  // a scrape is the only way to see inside the process
  }
  ASSERT_TRUE(taken);
  gateway.child().signal(SIGTERM);
  bool all = initiator.waitForAnswers(50, std::chrono::seconds(30));
  EXPECT_EQ(test::exitCode(gateway.child().wait(std::chrono::seconds(30))), 0) << gateway.err().substr(0, 3000);
  loop.call([&] { initiator.stop([] {}); });
  EXPECT_EQ(loop.stop(), 0);
  ASSERT_TRUE(all);
  for (const auto& [id, list] : initiator.answers()) {
    ASSERT_EQ(list.size(), 1u);
    EXPECT_EQ(list[0].outcome, proto::Outcome::kDeferred) << list[0].text;
  }
  EXPECT_NE(gateway.err().find("event=gateway.drain_timeout"), std::string::npos);
  sink.kill();
}

TEST_F(GatewayEndToEnd, ReceiverKilledMidRunDefersAndTheGatewayGoesOn) {
  test::DnsmasqServer dns(test::loopbackMxRecords(kDomains));
  ASSERT_EQ(dns.start(), "");
  test::SinkProcess sink("[[sink.rule]]\nreply_latency = \"2ms\"\n");
  ASSERT_TRUE(sink.start()) << sink.err();
  test::GatewayOptions go;
  go.smtp_port = sink.smtp().port();
  go.dns_server = dns.address().toString();
  go.media_cache = media_.cache();
  go.capacity = 100;
  test::GatewayProcess gateway(go);
  ASSERT_TRUE(gateway.start()) << gateway.err();

  constexpr uint64_t kRequests = 2000;
  std::vector<TestRequest> requests;
  for (uint64_t id = 1; id <= kRequests; ++id) requests.push_back(request(id, static_cast<int>(id % 40)));
  test::LoopThread loop;
  test::TestInitiator initiator(loop.loop(), gateway, {material(1)}, requests);
  loop.call([&] { initiator.start(); });
  ASSERT_TRUE(initiator.waitForAnswers(200, std::chrono::seconds(60))) << gateway.err();
  sink.kill();
  bool all = initiator.waitForAnswers(kRequests, std::chrono::seconds(120));
  loop.call([&] { initiator.stop([] {}); });
  EXPECT_EQ(loop.stop(), 0);
  ASSERT_TRUE(all) << "answers: " << initiator.answers().size();

  size_t deferred = 0, delivered = 0;
  for (const auto& [id, list] : initiator.answers()) {
    ASSERT_EQ(list.size(), 1u) << id;
    const TestAnswer& a = list[0];
    ASSERT_FALSE(a.rejected) << a.text;
    if (a.outcome == proto::Outcome::kDelivered) {
      ++delivered;
    } else {
      EXPECT_EQ(a.outcome, proto::Outcome::kDeferred) << a.text;
      EXPECT_FALSE(a.text.empty()) << "a deferral without a reason";
      ++deferred;
    }
  }
  EXPECT_GE(delivered, 200u);
  EXPECT_GT(deferred, 0u);
  // Still serving.
  auto health = test::httpGet(gateway.admin(), "/healthz");
  ASSERT_TRUE(health);
  EXPECT_EQ(health->status, 200);
  EXPECT_EQ(gateway.stop(), 0) << gateway.err().substr(0, 3000);
}

TEST_F(GatewayEndToEnd, StatusShowsEachLinksTlsCipher) {
  test::GatewayProcess gateway{test::GatewayOptions{}};
  ASSERT_TRUE(gateway.start()) << gateway.err();
  test::LoopThread loop;
  test::TestInitiator initiator(loop.loop(), gateway, {material(1)}, {});
  loop.call([&] { initiator.start(); });
  ASSERT_TRUE(initiator.waitForCatalog(std::chrono::seconds(10)));
  auto status = test::httpGet(gateway.admin(), "/status");
  ASSERT_TRUE(status);
  EXPECT_NE(status->body.find("\"peer\":\"test-initiator\""), std::string::npos) << status->body;
  EXPECT_NE(status->body.find("\"tls\":\"TLS_AES_128_GCM_SHA256\""), std::string::npos) << status->body;
  loop.call([&] { initiator.stop([] {}); });
  EXPECT_EQ(loop.stop(), 0);
  EXPECT_EQ(gateway.stop(), 0);
}

}  // namespace
}  // namespace lbmail
