// The gateway's feedback side end to end (docs/feedback.md): a real Postfix bounces a message
// sent with a VERP return path and the test initiator receives the hard bounce over the link;
// ARF complaints by Python's smtplib; forged and replayed tokens refused; events kept across a
// kill -9 and a restart until acknowledged; nothing sent to a link without the capability.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/stat.h>

#include <filesystem>
#include <fstream>

#include "gateway_process.h"
#include "lbmail/feedback/feedback_key.h"
#include "lbmail/feedback/feedback_token.h"
#include "loop_thread.h"
#include "postfix_bouncer.h"
#include "sink_process.h"
#include "tcp_client.h"
#include "temp_path.h"
#include "test_initiator.h"
#include "validate.h"

namespace lbmail {
namespace {

using test::FeedbackMode;
using test::TestFeedback;

// Sends one message with Python's smtplib and says what each step was answered:
// "mail=250 rcpt=250,550 data=250" (data=none when no recipient was taken).
constexpr const char* kSmtpScript = R"(
import smtplib, sys
host, port, sender, rcpts = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4].split(',')
msg = sys.stdin.buffer.read()
s = smtplib.SMTP(host, port, timeout=30)
s.ehlo('client.test')
code, _ = s.mail(sender)
answers = []
for r in rcpts:
    answers.append(str(s.rcpt(r)[0]))
data = 'none'
if '250' in answers:
    try:
        data = str(s.data(msg)[0])
    except smtplib.SMTPDataError as e:
        data = str(e.smtp_code)
s.quit()
print('mail=%d rcpt=%s data=%s' % (code, ','.join(answers), data))
)";

std::string smtpSend(const SocketAddress& to, const std::string& sender, const std::string& recipients,
                     const std::string& message) {
  test::ChildProcess py({test::testEnv("LBMAIL_PYTHON"), "-c", kSmtpScript, to.host(), std::to_string(to.port()), sender,
                         recipients},
                        message);
  py.wait(std::chrono::seconds(60));
  return py.out() + py.err();
}

std::string arf(const std::string& return_path) {
  return "From: feedback@isp.example\r\nTo: fbl@shop.example\r\nSubject: FW: complaint\r\nMIME-Version: 1.0\r\n"
         "Content-Type: multipart/report; report-type=feedback-report; boundary=\"part\"\r\n\r\n"
         "--part\r\nContent-Type: text/plain\r\n\r\nThis is an email abuse report (RFC 5965).\r\n"
         "--part\r\nContent-Type: message/feedback-report\r\n\r\nFeedback-Type: abuse\r\nUser-Agent: isp-fbl/1.0\r\n"
         "Version: 1\r\nOriginal-Rcpt-To: <someone@isp.example>\r\nArrival-Date: Thu, 8 Mar 2005 14:00:00 EDT\r\n\r\n"
         "--part\r\nContent-Type: text/rfc822-headers\r\n\r\nReturn-Path: <" +
         return_path +
         ">\r\nFrom: Shop <news@shop.example>\r\nTo: someone@isp.example\r\nSubject: Offer\r\n"
         "Message-ID: <1@shop.example>\r\n\r\n--part--\r\n";
}

class GatewayFeedbackTest : public ::testing::Test {
 protected:
  GatewayFeedbackTest() : dir_(test::tempPath("feedback")), listen_(test::freePort()) {
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_);
    key_file_ = dir_ + "/feedback.key";
    std::ofstream(key_file_) << "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff\n";
    ::chmod(key_file_.c_str(), 0600);
  }
  ~GatewayFeedbackTest() override { std::filesystem::remove_all(dir_); }

  SocketAddress feedbackAddress() const { return *SocketAddress::parse("127.0.0.1:" + std::to_string(listen_)); }

  SocketAddress unsubscribeAddress() const {
    return *SocketAddress::parse("127.0.0.1:" + std::to_string(unsubscribe_listen_));
  }

  std::unique_ptr<test::GatewayProcess> startGateway(const std::string& link = "127.0.0.1:0",
                                                     const std::string& more = "") {
    test::GatewayOptions go;
    go.listen = link;
    go.extra = "[feedback]\nkey_file = \"" + key_file_ + "\"\nlisten = \"" + feedbackAddress().toString() +
               "\"\nbounce_domains = [\"bounce.test\"]\nfeedback_addresses = [\"fbl@shop.example\"]\nspool = \"" + dir_ +
               "/feedback.spool\"\nunsubscribe_listen = \"" + unsubscribeAddress().toString() + "\"\n" + more;
    auto gateway = std::make_unique<test::GatewayProcess>(go);
    EXPECT_TRUE(gateway->start()) << gateway->err();
    return gateway;
  }

  std::string token(uint64_t recipient, feedback::TokenPurpose purpose = feedback::TokenPurpose::kBounce) {
    auto key = feedback::FeedbackKey::load(key_file_, 1);
    EXPECT_TRUE(key) << key.error();
    if (!key) return "";
    feedback::TokenFields f;
    f.purpose = purpose;
    f.campaign = 5;
    f.recipient = recipient;
    f.attempt = 1;
    f.day = feedback::dayOf(static_cast<uint64_t>(std::time(nullptr)) * 1000);
    return feedback::mintToken(*key, f);
  }
  std::string verp(uint64_t recipient) { return "bounce+" + token(recipient) + "@bounce.test"; }

  // Connects a test initiator, waits for n FEEDBACK frames (n = 0: for the link to come up),
  // and returns them.
  std::vector<TestFeedback> collect(test::GatewayProcess& gateway, size_t n, FeedbackMode mode) {
    test::LoopThread loop;
    test::TestInitiator initiator(loop.loop(), gateway, {}, {}, 0, mode);
    loop.call([&] { initiator.start(); });
    EXPECT_TRUE(initiator.waitForCatalog(std::chrono::seconds(30)));
    if (n > 0) {
      EXPECT_TRUE(initiator.waitForFeedback(n, std::chrono::seconds(60))) << gateway.err().substr(0, 4000);
    }
    loop.call([&] { initiator.stop([] {}); });
    EXPECT_EQ(loop.stop(), 0);
    return initiator.feedback();
  }

  std::string dir_;
  std::string key_file_;
  uint16_t listen_;
  uint16_t unsubscribe_listen_ = test::freePort();
};

// curl's HTTP status for a request to the unsubscribe endpoint.
std::string curlStatus(const std::vector<std::string>& args) {
  std::vector<std::string> argv = {"/usr/bin/curl", "-sS", "-o", "/dev/null", "-w", "%{http_code}"};
  argv.insert(argv.end(), args.begin(), args.end());
  test::ChildProcess curl(argv);
  curl.wait(std::chrono::seconds(30));
  return curl.out() + curl.err();
}

TEST_F(GatewayFeedbackTest, ARealPostfixBounceBecomesAHardBounceOnTheLink) {
  auto gateway = startGateway();
  test::PostfixBouncer postfix("dsn.test", "bounce.test", feedbackAddress());
  ASSERT_EQ(postfix.start(), "");
  std::string answer = smtpSend(postfix.address(), verp(1234), "nouser@dsn.test", "Subject: hello\r\n\r\nHi.\r\n");
  // Postfix takes the unknown user at SMTP time; the bounce comes later, as mail.
  ASSERT_NE(answer.find("rcpt=250 data=250"), std::string::npos) << answer;
  std::vector<TestFeedback> got = collect(*gateway, 1, FeedbackMode::kAcknowledge);
  ASSERT_EQ(got.size(), 1u) << postfix.log();
  EXPECT_EQ(got[0].kind, proto::FeedbackKind::kHardBounce);
  EXPECT_EQ(got[0].campaign, 5u);
  EXPECT_EQ(got[0].recipient, 1234u);
  EXPECT_EQ(got[0].attempt, 1);
  EXPECT_EQ(got[0].status, "5.1.1");
  EXPECT_EQ(got[0].source, "dsn");
  auto received = gateway->child().waitForStderrLine("event=gateway.feedback_received");
  ASSERT_TRUE(received);
  EXPECT_NE(received->find("type=dsn"), std::string::npos) << *received;
}

TEST_F(GatewayFeedbackTest, AnArfComplaintIsTakenAForgedTokenRefusedAndAReplayRefused) {
  auto gateway = startGateway();
  std::string answer = smtpSend(feedbackAddress(), "", "fbl@shop.example", arf(verp(77)));
  EXPECT_NE(answer.find("rcpt=250 data=250"), std::string::npos) << answer;
  std::vector<TestFeedback> got = collect(*gateway, 1, FeedbackMode::kAcknowledge);
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].kind, proto::FeedbackKind::kComplaint);
  EXPECT_EQ(got[0].recipient, 77u);
  EXPECT_EQ(got[0].source, "arf");
  EXPECT_EQ(got[0].detail, "abuse");

  std::string forged = token(78);
  forged[3] = forged[3] == 'a' ? 'b' : 'a';
  answer = smtpSend(feedbackAddress(), "", "bounce+" + forged + "@bounce.test", "Subject: x\r\n\r\nx\r\n");
  EXPECT_NE(answer.find("rcpt=550 data=none"), std::string::npos) << answer;
  // The complaint was final for its token: a bounce or report for it again is a replay.
  answer = smtpSend(feedbackAddress(), "", verp(77), arf(verp(77)));
  EXPECT_NE(answer.find("rcpt=550 data=none"), std::string::npos) << answer;
  answer = smtpSend(feedbackAddress(), "", "postmaster@bounce.test", "Subject: x\r\n\r\nx\r\n");
  EXPECT_NE(answer.find("rcpt=550 data=none"), std::string::npos) << answer;
}

TEST_F(GatewayFeedbackTest, EventsSurviveKillNineUntilAcknowledged) {
  auto gateway = startGateway();
  std::string link = gateway->link().toString();
  std::string answer = smtpSend(feedbackAddress(), "", "fbl@shop.example", arf(verp(90)));
  ASSERT_NE(answer.find("data=250"), std::string::npos) << answer;
  gateway->child().signal(SIGKILL);
  gateway->child().wait();
  gateway = startGateway(link);
  std::vector<TestFeedback> got = collect(*gateway, 1, FeedbackMode::kAcknowledge);
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].recipient, 90u);
  // The acknowledgement came before the link's close: once the gateway saw the close, the
  // spool has it.
  ASSERT_TRUE(gateway->child().waitForStderrLine("event=gateway.link_closed"));
  EXPECT_EQ(gateway->stop(), 0);
  gateway = startGateway(link);
  auto loaded = gateway->err();
  EXPECT_NE(loaded.find("event=gateway.feedback_spool_loaded"), std::string::npos) << loaded;
  EXPECT_NE(loaded.find("unacknowledged=0"), std::string::npos) << loaded;
}

TEST_F(GatewayFeedbackTest, ALinkWithoutTheCapabilityGetsNothingAndTheEventIsKept) {
  auto gateway = startGateway();
  test::LoopThread loop;
  test::TestInitiator old(loop.loop(), *gateway, {}, {}, 0, FeedbackMode::kNone);
  loop.call([&] { old.start(); });
  ASSERT_TRUE(old.waitForCatalog(std::chrono::seconds(30)));
  std::string answer = smtpSend(feedbackAddress(), "", "fbl@shop.example", arf(verp(55)));
  ASSERT_NE(answer.find("data=250"), std::string::npos) << answer;
  // Spooled and pending, on no link: /status and the metrics say so.
  auto status = test::httpGet(gateway->admin(), "/status");
  ASSERT_TRUE(status);
  EXPECT_NE(status->body.find(R"("unacknowledged":1,)"), std::string::npos) << status->body;
  EXPECT_NE(status->body.find(R"("pending":1,"in_flight":0,"feedback_links":0,)"), std::string::npos) << status->body;
  EXPECT_NE(status->body.find(R"("events":{"hard_bounce":0,"soft_bounce":0,"complaint":1,"unsubscribe":0})"),
            std::string::npos)
      << status->body;
  auto metrics = test::httpGet(gateway->admin(), "/metrics");
  ASSERT_TRUE(metrics);
  EXPECT_NE(metrics->body.find("lbmail_gateway_feedback_unacknowledged 1\n"), std::string::npos) << metrics->body;
  EXPECT_NE(metrics->body.find("lbmail_gateway_feedback_messages_total{type=\"arf\"} 1\n"), std::string::npos);
  std::vector<TestFeedback> got = collect(*gateway, 1, FeedbackMode::kAcknowledge);
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].recipient, 55u);
  EXPECT_TRUE(old.feedback().empty());
  loop.call([&] { old.stop([] {}); });
  EXPECT_EQ(loop.stop(), 0);
}

// The gateway wires the unsubscribe endpoint to the spool: a one-click POST (RFC 8058) and a
// List-Unsubscribe mailto: both become unsubscribe events; a GET and a tampered link do not.
TEST_F(GatewayFeedbackTest, OneClickAndMailtoUnsubscribesBecomeEvents) {
  auto gateway = startGateway();
  std::string base = "http://" + unsubscribeAddress().toString() + "/u/";
  std::string t = token(300, feedback::TokenPurpose::kUnsubscribe);
  EXPECT_EQ(curlStatus({base + t}), "200");  // the page: nothing recorded
  std::string tampered = t;
  tampered[2] = tampered[2] == 'a' ? 'b' : 'a';
  EXPECT_EQ(curlStatus({"-X", "POST", "-d", "List-Unsubscribe=One-Click", base + tampered}), "404");
  EXPECT_EQ(curlStatus({"-X", "POST", "-d", "List-Unsubscribe=One-Click", base + t}), "200");
  std::string answer = smtpSend(feedbackAddress(), "someone@isp.example",
                                "bounce+" + token(301, feedback::TokenPurpose::kUnsubscribe) + "@bounce.test",
                                "Subject: unsubscribe\r\n\r\n");
  ASSERT_NE(answer.find("rcpt=250 data=250"), std::string::npos) << answer;
  std::vector<TestFeedback> got = collect(*gateway, 2, FeedbackMode::kAcknowledge);
  ASSERT_EQ(got.size(), 2u);
  EXPECT_EQ(got[0].kind, proto::FeedbackKind::kUnsubscribe);
  EXPECT_EQ(got[0].recipient, 300u);
  EXPECT_EQ(got[0].source, "one-click");
  EXPECT_EQ(got[1].kind, proto::FeedbackKind::kUnsubscribe);
  EXPECT_EQ(got[1].recipient, 301u);
  EXPECT_EQ(got[1].source, "mailto");
}

// A reader's link clicked again, and the mailto: sent again, are answered as recorded but add no
// event: they cannot fill the spool (here 3 events) against a real complaint, which still gets 250.
TEST_F(GatewayFeedbackTest, RepeatedUnsubscribesAddNoEventAndCannotFillTheSpool) {
  auto gateway = startGateway("127.0.0.1:0", "spool_max_events = 3\n");
  std::string base = "http://" + unsubscribeAddress().toString() + "/u/";
  std::string t = token(310, feedback::TokenPurpose::kUnsubscribe);
  for (int i = 0; i < 3; ++i) {
    EXPECT_EQ(curlStatus({"-X", "POST", "-d", "List-Unsubscribe=One-Click", base + t}), "200");
  }
  std::string mailto = "bounce+" + token(311, feedback::TokenPurpose::kUnsubscribe) + "@bounce.test";
  for (int i = 0; i < 2; ++i) {
    std::string answer = smtpSend(feedbackAddress(), "someone@isp.example", mailto, "Subject: unsubscribe\r\n\r\n");
    EXPECT_NE(answer.find("rcpt=250 data=250"), std::string::npos) << answer;
  }
  std::string answer = smtpSend(feedbackAddress(), "", "fbl@shop.example", arf(verp(312)));
  ASSERT_NE(answer.find("data=250"), std::string::npos) << answer;
  auto status = test::httpGet(gateway->admin(), "/status");
  ASSERT_TRUE(status);
  EXPECT_NE(status->body.find(R"("unacknowledged":3,)"), std::string::npos) << status->body;
  EXPECT_NE(status->body.find(R"("repeats":3,)"), std::string::npos) << status->body;
  auto metrics = test::httpGet(gateway->admin(), "/metrics");
  ASSERT_TRUE(metrics);
  EXPECT_NE(metrics->body.find("lbmail_gateway_feedback_repeats_total 3\n"), std::string::npos) << metrics->body;
  std::vector<TestFeedback> got = collect(*gateway, 3, FeedbackMode::kAcknowledge);
  ASSERT_EQ(got.size(), 3u);
  EXPECT_EQ(got[0].recipient, 310u);
  EXPECT_EQ(got[1].recipient, 311u);
  EXPECT_EQ(got[2].recipient, 312u);
  EXPECT_EQ(got[2].kind, proto::FeedbackKind::kComplaint);
  // Acknowledged, the unsubscribe is still remembered: a later click adds nothing either.
  EXPECT_EQ(curlStatus({"-X", "POST", "-d", "List-Unsubscribe=One-Click", base + t}), "200");
  status = test::httpGet(gateway->admin(), "/status");
  ASSERT_TRUE(status);
  EXPECT_NE(status->body.find(R"("unacknowledged":0,)"), std::string::npos) << status->body;
  EXPECT_NE(status->body.find(R"("repeats":4,)"), std::string::npos) << status->body;
}

// A bounce naming two VERP recipients makes two events; with room for one, the message is
// refused whole (452) and nothing of it is written, so the sender's retry adds each event once.
TEST_F(GatewayFeedbackTest, AMessageWhoseEventsDoNotAllFitWritesNone) {
  auto gateway = startGateway("127.0.0.1:0", "spool_max_events = 1\n");
  const std::string bounce =
      "From: MAILER-DAEMON@isp.example\r\nSubject: Undelivered Mail Returned to Sender\r\n\r\n"
      "550 5.1.1 unknown user\r\n";
  std::string answer = smtpSend(feedbackAddress(), "", verp(320) + "," + verp(321), bounce);
  EXPECT_NE(answer.find("rcpt=250,250 data=452"), std::string::npos) << answer;
  auto status = test::httpGet(gateway->admin(), "/status");
  ASSERT_TRUE(status);
  EXPECT_NE(status->body.find(R"("unacknowledged":0,)"), std::string::npos) << status->body;
}

// An event sent on a link that closes before acknowledging it goes to the next link.
TEST_F(GatewayFeedbackTest, AnEventNotAcknowledgedGoesToTheNextLink) {
  auto gateway = startGateway();
  std::string answer = smtpSend(feedbackAddress(), "", "fbl@shop.example", arf(verp(61)));
  ASSERT_NE(answer.find("data=250"), std::string::npos) << answer;
  std::vector<TestFeedback> first = collect(*gateway, 1, FeedbackMode::kKeep);
  ASSERT_EQ(first.size(), 1u);
  std::vector<TestFeedback> second = collect(*gateway, 1, FeedbackMode::kAcknowledge);
  ASSERT_EQ(second.size(), 1u);
  EXPECT_EQ(second[0].sequence, first[0].sequence);
  EXPECT_EQ(second[0].recipient, 61u);
}

// The listener's bounds: a connection past max_connections gets 421, a client that sends
// nothing is closed after idle_timeout with 421, a message over max_message_size gets 552.
TEST_F(GatewayFeedbackTest, TheListenerBoundsConnectionsIdlenessAndSize) {
  auto gateway = startGateway("127.0.0.1:0", "max_connections = 1\nidle_timeout = \"2s\"\nmax_message_size = \"1KiB\"\n");
  test::TcpClient silent(feedbackAddress());
  while (silent.received().find("220 ") == std::string::npos) ASSERT_TRUE(silent.receiveMore());
  test::TcpClient second(feedbackAddress());
  EXPECT_NE(second.readUntilClosed().find("421 4.3.2"), std::string::npos);
  EXPECT_NE(silent.readUntilClosed().find("421 4.4.2"), std::string::npos);
  std::string answer = smtpSend(feedbackAddress(), "", "fbl@shop.example", arf(verp(62)) + std::string(2048, 'x') + "\r\n");
  EXPECT_NE(answer.find("rcpt=250 data=552"), std::string::npos) << answer;
}

// A spool path that holds some other file stops the start with a clear error, the file untouched.
TEST_F(GatewayFeedbackTest, ASpoolPathWithAnotherFileStopsTheStart) {
  std::ofstream(dir_ + "/feedback.spool") << "not ours\n";
  test::GatewayOptions go;
  go.extra = "[feedback]\nkey_file = \"" + key_file_ + "\"\nlisten = \"" + feedbackAddress().toString() +
             "\"\nbounce_domains = [\"bounce.test\"]\nspool = \"" + dir_ + "/feedback.spool\"\n";
  test::GatewayProcess gateway(go);
  EXPECT_FALSE(gateway.start());
  EXPECT_NE(test::exitCode(gateway.child().wait()), 0);
  EXPECT_NE(gateway.err().find("event=gateway.feedback_failed"), std::string::npos) << gateway.err();
  EXPECT_NE(gateway.err().find("not a feedback spool"), std::string::npos) << gateway.err();
  std::ifstream in(dir_ + "/feedback.spool");
  std::string line;
  std::getline(in, line);
  EXPECT_EQ(line, "not ours");
}

}  // namespace
}  // namespace lbmail
