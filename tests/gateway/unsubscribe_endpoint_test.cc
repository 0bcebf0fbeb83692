// The one-click unsubscribe endpoint (RFC 8058) against a real curl, over HTTP and HTTPS, with
// the endpoint on its own loop thread and Record/Check callbacks that verify real signed tokens
// (a FeedbackKey and verifyToken, as the gateway's are).
#include "unsubscribe_endpoint.h"

#include <gtest/gtest.h>

#include <chrono>
#include <cstdlib>
#include <memory>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

#include "child_process.h"
#include "lbmail/feedback/feedback_key.h"
#include "lbmail/feedback/feedback_token.h"
#include "loop_thread.h"
#include "test_pki.h"
#include "unsubscribe_page.h"

namespace lbmail {
namespace {

const feedback::FeedbackKey kKey = feedback::FeedbackKey::fromSecret(std::string(32, 'k'), 1);
// The endpoint's loop thread checks with its own copy: one key object is for one thread.
const feedback::FeedbackKey kLoopKey = kKey;

uint16_t today() {
  auto now = std::chrono::system_clock::now().time_since_epoch();
  return feedback::dayOf(static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::milliseconds>(now).count()));
}

std::string tokenFor(feedback::TokenPurpose purpose, uint64_t recipient) {
  return feedback::mintToken(kKey, {purpose, /*campaign=*/7, recipient, /*attempt=*/0, today()});
}

// An unsubscribe link's token for recipient 42 of campaign 7.
const std::string kToken = tokenFor(feedback::TokenPurpose::kUnsubscribe, 42);

std::string curlPath() {
  const char* env = std::getenv("LBMAIL_CURL");
  return env != nullptr && *env != '\0' ? env : "/usr/bin/curl";
}

struct CurlResult {
  int exit_code;
  std::string out;  // with -i: the status line and headers, then the body
  std::string err;
};

class UnsubscribeEndpointTest : public ::testing::Test {
 protected:
  void SetUp() override {
    settings_.http.listen = *SocketAddress::parse("127.0.0.1:0");
    settings_.http.max_body_bytes = 1024;
  }

  void TearDown() override {
    if (endpoint_) {
      bool done = false;
      loop_.call([&] { endpoint_->close([&] { done = true; }); });
      EXPECT_EQ(loop_.stop(), 0) << "a handle was left open";
      EXPECT_TRUE(done);
    }
  }

  // What the gateway's callbacks check: signed by the key, an unsubscribe token, not expired.
  bool valid(std::string_view token) const {
    feedback::TokenCheck check{feedback::TokenPurpose::kUnsubscribe, today(), /*max_age_days=*/30};
    auto fields = feedback::verifyToken(std::span(&kLoopKey, 1), token, check);
    return fields.hasValue() && fields.value().recipient == 42;
  }

  // Starts the endpoint; with https the test CA's certificate for 127.0.0.1.
  void start(bool https = false) {
    if (https) {
      ASSERT_TRUE(pki_.ok()) << pki_.error();
      test::TestCertificate leaf = pki_.leaf("unsubscribe", {"127.0.0.1"});
      settings_.tls_cert_file = leaf.cert;
      settings_.tls_key_file = leaf.key;
    }
    int rc = -1;
    loop_.call([&] {
      endpoint_ = std::make_unique<UnsubscribeEndpoint>(
          loop_.loop(), settings_, metrics_,
          [this](std::string_view token, std::string_view source) { return record(token, source); },
          [this](std::string_view token) { return valid(token); });
      rc = endpoint_->start();
      if (rc == 0) base_ = (https ? "https://" : "http://") + endpoint_->boundAddress().toString() + "/u/";
    });
    ASSERT_EQ(rc, 0);
  }

  UnsubscribeEndpoint::Outcome record(std::string_view token, std::string_view source) {
    std::lock_guard lock(mutex_);
    ++record_calls_;
    if (!valid(token)) return UnsubscribeEndpoint::Outcome::kInvalid;
    if (outcome_ == UnsubscribeEndpoint::Outcome::kRecorded) recorded_.emplace_back(token, source);
    return outcome_;
  }

  int recordCalls() {
    std::lock_guard lock(mutex_);
    return record_calls_;
  }

  std::vector<std::pair<std::string, std::string>> recorded() {
    std::lock_guard lock(mutex_);
    return recorded_;
  }

  CurlResult curl(std::vector<std::string> args) {
    std::vector<std::string> argv = {curlPath(), "-sS", "-i"};
    if (!pki_.dir().empty() && base_.starts_with("https")) {
      argv.push_back("--cacert");
      argv.push_back(pki_.caFile());
    }
    argv.insert(argv.end(), args.begin(), args.end());
    test::ChildProcess child(argv);
    int status = child.wait();
    return {test::exitCode(status), child.out(), child.err()};
  }

  uint64_t requests(const std::string& result) {
    return metrics_.counter("lbmail_gateway_unsubscribe_requests_total", "", {{"result", result}}).value();
  }

  UnsubscribeSettings settings_;
  MetricsRegistry metrics_;
  test::LoopThread loop_;
  test::TestPki pki_;
  std::unique_ptr<UnsubscribeEndpoint> endpoint_;
  std::string base_;
  std::mutex mutex_;
  UnsubscribeEndpoint::Outcome outcome_ = UnsubscribeEndpoint::Outcome::kRecorded;
  std::vector<std::pair<std::string, std::string>> recorded_;
  int record_calls_ = 0;
};

using Pairs = std::vector<std::pair<std::string, std::string>>;

TEST_F(UnsubscribeEndpointTest, OneClickPostRecordsAndAnswers200WithNothingMoreToDo) {
  start();
  CurlResult r = curl({"-X", "POST", "-d", "List-Unsubscribe=One-Click", base_ + kToken});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out.rfind("HTTP/1.1 200 OK\r\n", 0), 0u) << r.out;
  EXPECT_NE(r.out.find("\r\nCache-Control: no-store\r\n"), std::string::npos);
  EXPECT_EQ(r.out.find("Location:"), std::string::npos) << "no redirect (RFC 8058 section 3.2)";
  EXPECT_TRUE(r.out.ends_with("\r\n\r\nUnsubscribed.\n")) << r.out;
  EXPECT_EQ(recorded(), (Pairs{{kToken, "one-click"}}));
  EXPECT_EQ(requests("one_click"), 1u);
  EXPECT_EQ(metrics_.counter("lbmail_gateway_unsubscribe_http_responses_total", "", {{"code", "200"}}).value(), 1u);
}

TEST_F(UnsubscribeEndpointTest, OneClickOverHttpsUrlencodedAndMultipart) {
  start(/*https=*/true);
  loop_.call([&] { EXPECT_TRUE(endpoint_->https()); });
  CurlResult form = curl({"-d", "a=b&List-Unsubscribe=One-Click", base_ + kToken});
  ASSERT_EQ(form.exit_code, 0) << form.err;
  EXPECT_TRUE(form.out.ends_with("Unsubscribed.\n")) << form.out;
  // multipart/form-data, which RFC 8058 section 3.1 allows as well.
  CurlResult multipart = curl({"-F", "List-Unsubscribe=One-Click", base_ + kToken});
  ASSERT_EQ(multipart.exit_code, 0) << multipart.err;
  EXPECT_TRUE(multipart.out.ends_with("Unsubscribed.\n")) << multipart.out;
  EXPECT_EQ(recorded(), (Pairs{{kToken, "one-click"}, {kToken, "one-click"}}));
}

TEST_F(UnsubscribeEndpointTest, ATamperedTokenIs404AndRecordsNothing) {
  start();
  std::string tampered = kToken;
  tampered[20] = tampered[20] == 'a' ? 'b' : 'a';  // inside the recipient field: another person
  CurlResult r = curl({"-X", "POST", "-d", "List-Unsubscribe=One-Click", base_ + tampered});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out.rfind("HTTP/1.1 404 Not Found\r\n", 0), 0u) << r.out;
  EXPECT_NE(r.out.find("This link is not valid"), std::string::npos);
  // A valid token of the other purpose (a VERP bounce token) cannot unsubscribe.
  CurlResult bounce = curl({"-d", "List-Unsubscribe=One-Click", base_ + tokenFor(feedback::TokenPurpose::kBounce, 42)});
  EXPECT_EQ(bounce.out.rfind("HTTP/1.1 404 Not Found\r\n", 0), 0u) << bounce.out;
  CurlResult no_token = curl({"-d", "List-Unsubscribe=One-Click", base_});
  EXPECT_EQ(no_token.out.rfind("HTTP/1.1 404 Not Found\r\n", 0), 0u) << no_token.out;
  EXPECT_TRUE(recorded().empty());
  EXPECT_EQ(requests("invalid"), 3u);
}

TEST_F(UnsubscribeEndpointTest, GetShowsTheConfirmationPageAndNeverRecords) {
  start();
  CurlResult page = curl({base_ + kToken});
  ASSERT_EQ(page.exit_code, 0) << page.err;
  EXPECT_EQ(page.out.rfind("HTTP/1.1 200 OK\r\n", 0), 0u) << page.out;
  EXPECT_NE(page.out.find("\r\nContent-Type: text/html; charset=utf-8\r\n"), std::string::npos);
  EXPECT_NE(page.out.find("\r\nCache-Control: no-store\r\n"), std::string::npos);
  EXPECT_NE(page.out.find("<form method=\"post\" action=\"./" + kToken + "\">"), std::string::npos) << page.out;
  EXPECT_NE(page.out.find("<button type=\"submit\">Unsubscribe</button>"), std::string::npos);
  CurlResult head = curl({"-I", base_ + kToken});
  EXPECT_EQ(head.out.rfind("HTTP/1.1 200 OK\r\n", 0), 0u) << head.out;
  EXPECT_EQ(head.out.find("<form"), std::string::npos);
  EXPECT_EQ(recordCalls(), 0);
  EXPECT_EQ(requests("page_view"), 2u);

  CurlResult invalid = curl({base_ + "x" + kToken});
  EXPECT_EQ(invalid.out.rfind("HTTP/1.1 404 Not Found\r\n", 0), 0u) << invalid.out;
  EXPECT_NE(invalid.out.find("This link is not valid"), std::string::npos);

  // The page's button: a POST of the form to the same URL (no List-Unsubscribe pair).
  CurlResult confirm = curl({"-d", "confirm=yes", base_ + kToken});
  ASSERT_EQ(confirm.exit_code, 0) << confirm.err;
  EXPECT_EQ(confirm.out.rfind("HTTP/1.1 200 OK\r\n", 0), 0u) << confirm.out;
  EXPECT_NE(confirm.out.find("You are unsubscribed"), std::string::npos);
  EXPECT_EQ(recorded(), (Pairs{{kToken, "unsubscribe-page"}}));
  EXPECT_EQ(requests("page_confirm"), 1u);
}

TEST_F(UnsubscribeEndpointTest, ASpoolThatCannotTakeTheEventIs503WithRetryAfter) {
  outcome_ = UnsubscribeEndpoint::Outcome::kUnavailable;
  start();
  CurlResult r = curl({"-d", "List-Unsubscribe=One-Click", base_ + kToken});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out.rfind("HTTP/1.1 503 Service Unavailable\r\n", 0), 0u) << r.out;
  EXPECT_NE(r.out.find("\r\nRetry-After: 60\r\n"), std::string::npos);
  EXPECT_EQ(recordCalls(), 1);
  EXPECT_EQ(requests("unavailable"), 1u);
}

TEST_F(UnsubscribeEndpointTest, ABodyOverTheLimitIs413AndRecordsNothing) {
  start();
  std::string body = "List-Unsubscribe=One-Click&pad=" + std::string(2000, 'p');
  CurlResult r = curl({"--data-binary", body, base_ + kToken});
  EXPECT_EQ(r.out.rfind("HTTP/1.1 413 Content Too Large\r\n", 0), 0u) << r.out << r.err;
  EXPECT_EQ(recordCalls(), 0);
}

TEST_F(UnsubscribeEndpointTest, OtherMethodsAre405) {
  start();
  CurlResult r = curl({"-X", "DELETE", base_ + kToken});
  EXPECT_EQ(r.out.rfind("HTTP/1.1 405 Method Not Allowed\r\n", 0), 0u) << r.out;
  EXPECT_NE(r.out.find("\r\nAllow: GET, HEAD, POST\r\n"), std::string::npos);
  EXPECT_EQ(recordCalls(), 0);
}

TEST_F(UnsubscribeEndpointTest, AMissingCertificateFailsTheStart) {
  settings_.tls_cert_file = "/nonexistent/cert.pem";
  settings_.tls_key_file = "/nonexistent/key.pem";
  int rc = 0;
  loop_.call([&] {
    endpoint_ = std::make_unique<UnsubscribeEndpoint>(
        loop_.loop(), settings_, metrics_,
        [](std::string_view, std::string_view) { return UnsubscribeEndpoint::Outcome::kRecorded; },
        [](std::string_view) { return true; });
    rc = endpoint_->start();
  });
  EXPECT_EQ(rc, UV_EINVAL);
}

TEST(UnsubscribePage, FindsTheOneClickPairInEitherFormEncoding) {
  using unsubscribe::isOneClick;
  EXPECT_TRUE(isOneClick("application/x-www-form-urlencoded", "List-Unsubscribe=One-Click"));
  EXPECT_TRUE(isOneClick("", "x=1&List-Unsubscribe=One%2dClick&y"));  // escaped, no Content-Type
  EXPECT_TRUE(isOneClick("application/x-www-form-urlencoded; charset=utf-8", "List%2DUnsubscribe=One-Click"));
  EXPECT_FALSE(isOneClick("application/x-www-form-urlencoded", "confirm=yes"));
  EXPECT_FALSE(isOneClick("application/x-www-form-urlencoded", "List-Unsubscribe=One-Clickx"));
  EXPECT_FALSE(isOneClick("application/x-www-form-urlencoded", "XList-Unsubscribe=One-Click"));
  EXPECT_FALSE(isOneClick("application/x-www-form-urlencoded", "List-Unsubscribe%3DOne-Click"));
  EXPECT_FALSE(isOneClick("", ""));

  const std::string multipart =
      "--b0\r\nContent-Disposition: form-data; name=\"other\"\r\n\r\nOne-Click\r\n"
      "--b0\r\nContent-Disposition: form-data; name=\"List-Unsubscribe\"\r\n\r\nOne-Click\r\n--b0--\r\n";
  EXPECT_TRUE(isOneClick("multipart/form-data; boundary=b0", multipart));
  EXPECT_TRUE(isOneClick("Multipart/Form-Data; boundary=\"b0\"", multipart));
  EXPECT_FALSE(isOneClick("multipart/form-data; boundary=zz", multipart));
  EXPECT_FALSE(isOneClick("multipart/form-data", multipart));
  const std::string filename =
      "--b0\r\nContent-Disposition: form-data; filename=\"List-Unsubscribe\"\r\n\r\nOne-Click\r\n--b0--\r\n";
  EXPECT_FALSE(isOneClick("multipart/form-data; boundary=b0", filename));
  EXPECT_FALSE(isOneClick("multipart/form-data; boundary=b0", "--b0\r\nno end"));
}

TEST(UnsubscribePage, TheTokenIsTheLastSegmentAndIsEscapedInThePage) {
  EXPECT_EQ(unsubscribe::tokenOf("/u/abc"), "abc");
  EXPECT_EQ(unsubscribe::tokenOf("/a/b/c/abc"), "abc");
  EXPECT_EQ(unsubscribe::tokenOf("/u/"), "");
  EXPECT_EQ(unsubscribe::htmlEscape("<a href=\"x\">'&"), "&lt;a href=&quot;x&quot;&gt;&#39;&amp;");
  std::string page = unsubscribe::confirmationPage("\"><script>");
  EXPECT_EQ(page.find("<script>"), std::string::npos);
  EXPECT_NE(page.find("action=\"./&quot;&gt;&lt;script&gt;\""), std::string::npos) << page;
}

}  // namespace
}  // namespace lbmail
