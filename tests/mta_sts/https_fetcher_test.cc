// HttpsFetcher against a real HTTPS server (tests/mta_sts/policy_server.py) and a server that
// never answers: what a policy fetch accepts and what it refuses (RFC 8461 section 3.3).
#include "https_fetcher.h"

#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <optional>

#include "policy_server.h"

namespace lbmail::mta_sts {
namespace {

using test::PolicyRoute;
using test::PolicyServer;
using test::policyText;
using test::servedRoute;

const std::string kGood = policyText("enforce", {"mx.good.test"}, 86400);

// A TCP port that completes connections in its backlog and never reads: a TLS handshake
// to it waits for ever.
class SilentListener {
 public:
  SilentListener() {
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof a;
    ::bind(fd_, reinterpret_cast<sockaddr*>(&a), len);
    ::listen(fd_, 8);
    ::getsockname(fd_, reinterpret_cast<sockaddr*>(&a), &len);
    port_ = ntohs(a.sin_port);
  }
  ~SilentListener() { ::close(fd_); }
  uint16_t port() const { return port_; }

 private:
  int fd_ = -1;
  uint16_t port_ = 0;
};

PolicyRoute redirect(std::string location) {
  PolicyRoute r = servedRoute("", 301);
  r.location = std::move(location);
  return r;
}

// A body that ends with the connection, with no Content-Length before it.
PolicyRoute unsized(std::string body) {
  PolicyRoute r = servedRoute(std::move(body));
  r.length = false;
  return r;
}

HttpsRequest requestFor(const std::string& host, uint16_t port) {
  return HttpsRequest{host, port, "/.well-known/mta-sts.txt", {*SocketAddress::parse("127.0.0.1:0")}};
}

class HttpsFetcherTest : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_EQ(uv_loop_init(&loop_), 0); }

  void TearDown() override {
    if (fetcher_) {
      bool closed = false;
      fetcher_->close([&] { closed = true; });
      uv_run(&loop_, UV_RUN_DEFAULT);
      EXPECT_TRUE(closed);
      fetcher_.reset();
    }
    EXPECT_EQ(uv_loop_close(&loop_), 0);
  }

  void startFetcher(HttpsFetchSettings settings) {
    fetcher_ = std::make_unique<HttpsFetcher>(&loop_, std::move(settings));
    ASSERT_EQ(fetcher_->start(), "");
  }

  HttpsFetchSettings trusting(const PolicyServer& server) {
    HttpsFetchSettings s;
    s.ca_file = server.caFile();
    s.timeout = std::chrono::seconds(20);
    return s;
  }

  // Runs the loop until the fetch has answered.
  HttpsResponse fetch(const HttpsRequest& request) {
    std::optional<HttpsResponse> got;
    fetcher_->fetch(request, [&](const HttpsResponse& r) { got = r; });
    while (!got && uv_run(&loop_, UV_RUN_ONCE) != 0) {
    }
    EXPECT_TRUE(got.has_value());
    return got.value_or(HttpsResponse{"no answer", {}});
  }

  uv_loop_t loop_;
  std::unique_ptr<HttpsFetcher> fetcher_;
};

TEST_F(HttpsFetcherTest, AGoodPolicyComesBack) {
  PolicyServer server({{"mta-sts.good.test", servedRoute(kGood)}});
  ASSERT_TRUE(server.start());
  startFetcher(trusting(server));
  HttpsResponse r = fetch(requestFor("mta-sts.good.test", server.port()));
  EXPECT_EQ(r.error, "");
  EXPECT_EQ(r.body, kGood);
  server.stop();
  EXPECT_EQ(server.requestsFor("mta-sts.good.test"), 1u);
}

// Every address given is tried, IPv6 ones included: nothing listens on the IPv4 one.
TEST_F(HttpsFetcherTest, EveryAddressGivenIsTriedIPv6Included) {
  PolicyServer server({{"mta-sts.good.test", servedRoute(kGood)}}, {}, "::1");
  ASSERT_TRUE(server.start());
  startFetcher(trusting(server));
  HttpsRequest request = requestFor("mta-sts.good.test", server.port());
  request.addresses = {*SocketAddress::parse("127.0.0.1:0"), *SocketAddress::parse("[::1]:0")};
  HttpsResponse r = fetch(request);
  EXPECT_EQ(r.error, "");
  EXPECT_EQ(r.body, kGood);
}

TEST_F(HttpsFetcherTest, TextPlainWithParametersIsAccepted) {
  PolicyServer server({{"mta-sts.good.test", servedRoute(kGood, 200, "Text/Plain; charset=utf-8")}});
  ASSERT_TRUE(server.start());
  startFetcher(trusting(server));
  HttpsResponse r = fetch(requestFor("mta-sts.good.test", server.port()));
  EXPECT_EQ(r.error, "");
  EXPECT_EQ(r.body, kGood);
}

TEST_F(HttpsFetcherTest, AnotherMediaTypeIsRefused) {
  PolicyServer server({{"mta-sts.good.test", servedRoute(kGood, 200, "text/html")}});
  ASSERT_TRUE(server.start());
  startFetcher(trusting(server));
  HttpsResponse r = fetch(requestFor("mta-sts.good.test", server.port()));
  EXPECT_EQ(r.error, "Content-Type text/html, not text/plain");
  EXPECT_EQ(r.body, "");
}

TEST_F(HttpsFetcherTest, ARedirectIsNotFollowed) {
  PolicyServer server({{"mta-sts.moved.test", redirect("https://mta-sts.good.test/elsewhere")},
                       {"mta-sts.good.test", servedRoute(kGood)}});
  ASSERT_TRUE(server.start());
  startFetcher(trusting(server));
  HttpsResponse r = fetch(requestFor("mta-sts.moved.test", server.port()));
  EXPECT_EQ(r.error, "HTTP 301 redirect to https://mta-sts.good.test/elsewhere not followed (RFC 8461 section 3.3)");
  server.stop();
  EXPECT_EQ(server.requestsFor("mta-sts.moved.test"), 1u);
  EXPECT_EQ(server.requestsFor("mta-sts.good.test"), 0u);
}

TEST_F(HttpsFetcherTest, AnErrorStatusIsAFailure) {
  PolicyServer server({{"mta-sts.good.test", servedRoute(kGood, 404)}});
  ASSERT_TRUE(server.start());
  startFetcher(trusting(server));
  EXPECT_EQ(fetch(requestFor("mta-sts.good.test", server.port())).error, "HTTP 404");
}

// Refused whether the server says the length up front or only sends too much.
TEST_F(HttpsFetcherTest, ABodyOverTheCapIsRefused) {
  std::string big = kGood + std::string(64 * 1024, '#');
  std::string exact(64 * 1024, 'x');
  PolicyServer server({{"mta-sts.big.test", servedRoute(big)},
                       {"mta-sts.stream.test", unsized(big)},
                       {"mta-sts.exact.test", unsized(exact)}});
  ASSERT_TRUE(server.start());
  startFetcher(trusting(server));
  EXPECT_EQ(fetch(requestFor("mta-sts.big.test", server.port())).error, "body over 65536 bytes");
  EXPECT_EQ(fetch(requestFor("mta-sts.stream.test", server.port())).error, "body over 65536 bytes");
  HttpsResponse r = fetch(requestFor("mta-sts.exact.test", server.port()));
  EXPECT_EQ(r.error, "");
  EXPECT_EQ(r.body, exact);
}

TEST_F(HttpsFetcherTest, AnExpiredCertificateIsRefused) {
  PolicyServer server({{"mta-sts.old.test", servedRoute(kGood)}}, {"mta-sts.old.test"});
  ASSERT_TRUE(server.start());
  startFetcher(trusting(server));
  HttpsResponse r = fetch(requestFor("mta-sts.old.test", server.port()));
  EXPECT_NE(r.error.find("certificate has expired"), std::string::npos) << r.error;
  EXPECT_EQ(r.body, "");
}

// The system store alone does not know the test CA: the certificate is checked.
TEST_F(HttpsFetcherTest, AnUntrustedCertificateIsRefused) {
  PolicyServer server({{"mta-sts.good.test", servedRoute(kGood)}});
  ASSERT_TRUE(server.start());
  startFetcher(HttpsFetchSettings{});
  HttpsResponse r = fetch(requestFor("mta-sts.good.test", server.port()));
  EXPECT_NE(r.error.find("SSL certificate problem"), std::string::npos) << r.error;
}

TEST_F(HttpsFetcherTest, ACertificateForAnotherNameIsRefused) {
  PolicyServer server({{"mta-sts.good.test", servedRoute(kGood)}});
  ASSERT_TRUE(server.start());
  startFetcher(trusting(server));
  HttpsResponse r = fetch(requestFor("mta-sts.evil.test", server.port()));
  EXPECT_NE(r.error.find("mta-sts.evil.test"), std::string::npos) << r.error;
  EXPECT_EQ(r.body, "");
  server.stop();
  EXPECT_EQ(server.requestsFor("mta-sts.evil.test"), 0u);
}

TEST_F(HttpsFetcherTest, AServerThatNeverAnswersTimesOut) {
  SilentListener silent;
  HttpsFetchSettings s;
  s.timeout = std::chrono::milliseconds(300);
  startFetcher(s);
  HttpsResponse r = fetch(requestFor("mta-sts.silent.test", silent.port()));
  EXPECT_NE(r.error.find("timed out"), std::string::npos) << r.error;
}

TEST_F(HttpsFetcherTest, FetchesRunSideBySide) {
  PolicyServer server({{"mta-sts.a.test", servedRoute("a")}, {"mta-sts.b.test", servedRoute("b")}});
  ASSERT_TRUE(server.start());
  startFetcher(trusting(server));
  std::vector<std::string> bodies;
  for (const char* host : {"mta-sts.a.test", "mta-sts.b.test"}) {
    fetcher_->fetch(requestFor(host, server.port()), [&](const HttpsResponse& r) { bodies.push_back(r.error + r.body); });
  }
  EXPECT_EQ(fetcher_->inFlight(), 2u);
  while (bodies.size() < 2 && uv_run(&loop_, UV_RUN_ONCE) != 0) {
  }
  std::sort(bodies.begin(), bodies.end());
  EXPECT_EQ(bodies, (std::vector<std::string>{"a", "b"}));
}

TEST_F(HttpsFetcherTest, CloseDropsAFetchInFlight) {
  SilentListener silent;
  startFetcher(HttpsFetchSettings{});
  bool called = false;
  fetcher_->fetch(requestFor("mta-sts.silent.test", silent.port()), [&](const HttpsResponse&) { called = true; });
  // Let the connection start, so that a socket and its poll exist when close() comes.
  for (int i = 0; i < 3; ++i) uv_run(&loop_, UV_RUN_NOWAIT);
  bool closed = false;
  fetcher_->close([&] { closed = true; });
  uv_run(&loop_, UV_RUN_DEFAULT);
  EXPECT_TRUE(closed);
  EXPECT_FALSE(called);
  fetcher_.reset();
}

}  // namespace
}  // namespace lbmail::mta_sts
