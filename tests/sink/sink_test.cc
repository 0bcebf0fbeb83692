// The sink as a real process, driven by real SMTP clients (swaks, Postfix's smtp-source) and
// raw sockets; each behaviour rule observed from the client's side.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "child_process.h"
#include "sink_process.h"
#include "sink_test_client.h"
#include "log_fields.h"
#include "lbmail/core/socket_address.h"
#include "tcp_client.h"
#include "temp_path.h"
#include "validate.h"

namespace lbmail {
namespace {

using test::addrField;
using test::ChildProcess;
using test::SinkProcess;
using test::SmtpClient;
using test::TcpClient;
using test::metricValue;
using Clock = std::chrono::steady_clock;


// A raw client that writes without blocking and never reads: what a flooding client does.
class FloodClient {
 public:
  explicit FloodClient(const SocketAddress& addr) {
    fd_ = ::socket(addr.family(), SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (::connect(fd_, addr.sockaddrPtr(), addr.length()) != 0) {
      ::close(fd_);
      fd_ = -1;
      return;
    }
    ::fcntl(fd_, F_SETFL, ::fcntl(fd_, F_GETFL) | O_NONBLOCK);
  }
  ~FloodClient() {
    if (fd_ >= 0) ::close(fd_);
  }
  bool connected() const { return fd_ >= 0; }
  // Writes pattern over and over, up to limit bytes; stops early once the peer has taken
  // nothing for 2 s (it stopped reading). Returns the bytes written.
  size_t flood(const std::string& pattern, size_t limit) {
    std::string chunk;
    while (chunk.size() < 64 * 1024) chunk += pattern;
    size_t sent = 0;
    while (sent < limit) {
      ssize_t n = ::send(fd_, chunk.data(), std::min(chunk.size(), limit - sent), MSG_NOSIGNAL);
      if (n > 0) {
        sent += static_cast<size_t>(n);
        // Keep the pattern aligned: resend the tail of a partly written chunk first.
        if (static_cast<size_t>(n) < chunk.size()) std::rotate(chunk.begin(), chunk.begin() + n, chunk.end());
        continue;
      }
      if (n < 0 && errno == EINTR) continue;
      if (n < 0 && errno != EAGAIN) break;
      pollfd p{fd_, POLLOUT, 0};
      if (::poll(&p, 1, 2000) != 1) break;  // the peer holds still: it stopped reading
    }
    return sent;
  }

 private:
  int fd_ = -1;
};

int countOf(const std::string& metrics, const std::string& outcome) {
  int total = 0;
  std::istringstream in(metrics);
  for (std::string line; std::getline(in, line);) {
    if (line.rfind("lbmail_sink_recipients_total{", 0) == 0 && line.find("outcome=\"" + outcome + "\"") != std::string::npos) {
      total += std::stoi(line.substr(line.rfind(' ') + 1));
    }
  }
  return total;
}

TEST(SinkProcessTest, SwaksDeliversAMessageThatTheLogRecords) {
  SinkProcess sink("");
  ASSERT_TRUE(sink.start()) << sink.err();
  ChildProcess swaks({test::testEnv("LBMAIL_SWAKS"), "--server", sink.smtp().host(), "--port",
                      std::to_string(sink.smtp().port()), "--from", "news@sender.test", "--to", "alice@example.test",
                      "--header", "X-Lbmail-Id: 4242", "--header", "Message-Id: <swaks-1@sender.test>",
                      "--body", "Hello Alice", "--silent", "2"});
  EXPECT_EQ(test::exitCode(swaks.wait()), 0) << swaks.out() << swaks.err();
  EXPECT_EQ(countOf(sink.metrics(), "accepted"), 1);
  EXPECT_EQ(sink.stop(), 0) << sink.err();
  auto lines = sink.messageLog();
  ASSERT_EQ(lines.size(), 1u);
  EXPECT_TRUE(test::validateDocument("json", lines[0]).ok) << lines[0];
  EXPECT_NE(lines[0].find("\"lbmail_id\":\"4242\""), std::string::npos) << lines[0];
  EXPECT_NE(lines[0].find("\"message_id\":\"<swaks-1@sender.test>\""), std::string::npos) << lines[0];
  EXPECT_NE(lines[0].find("\"recipients\":[\"alice@example.test\"]"), std::string::npos) << lines[0];
}

TEST(SinkProcessTest, SmtpSourcePipelinedLoadIsAllAccepted) {
  SinkProcess sink("");
  ASSERT_TRUE(sink.start()) << sink.err();
  ChildProcess source({test::testEnv("LBMAIL_SMTP_SOURCE"), "-d", "-s", "8", "-m", "400", "-l", "2048", "-f",
                       "news@sender.test", "-t", "bob@example.test", sink.smtp().toString()});
  EXPECT_EQ(test::exitCode(source.wait()), 0) << source.err();
  EXPECT_EQ(countOf(sink.metrics(), "accepted"), 400);
  EXPECT_EQ(sink.stop(), 0);
  EXPECT_EQ(sink.messageLog().size(), 400u);
}

TEST(SinkProcessTest, PipelinedBatchesDotStuffingAndBdatOverARealSocket) {
  SinkProcess sink("");
  ASSERT_TRUE(sink.start()) << sink.err();
  SmtpClient c(sink.smtp());
  EXPECT_EQ(c.code(), 220);
  ASSERT_TRUE(c.send("EHLO raw.test\r\nMAIL FROM:<a@raw.test>\r\nRCPT TO:<x@example.test>\r\nDATA\r\n"));
  std::string ehlo = c.reply();
  EXPECT_NE(ehlo.find("250-PIPELINING"), std::string::npos) << ehlo;
  EXPECT_NE(ehlo.find("250-CHUNKING"), std::string::npos) << ehlo;
  EXPECT_EQ(c.code(), 250);
  EXPECT_EQ(c.code(), 250);
  EXPECT_EQ(c.code(), 354);
  ASSERT_TRUE(c.send("Subject: t\r\n\r\n..leading dot\r\n.\r\nMAIL FROM:<a@raw.test>\r\nRCPT TO:<y@example.test>\r\n"
                     "BDAT 5\r\nhelloBDAT 0 LAST\r\nQUIT\r\n"));
  EXPECT_EQ(c.code(), 250);  // end of data
  EXPECT_EQ(c.code(), 250);  // MAIL
  EXPECT_EQ(c.code(), 250);  // RCPT
  EXPECT_EQ(c.code(), 250);  // BDAT 5
  EXPECT_EQ(c.code(), 250);  // BDAT 0 LAST: the message
  EXPECT_EQ(c.code(), 221);
  EXPECT_TRUE(c.closed());
  EXPECT_EQ(sink.stop(), 0);
  auto lines = sink.messageLog();
  ASSERT_EQ(lines.size(), 2u);
  EXPECT_NE(lines[0].find("\"size\":28"), std::string::npos) << lines[0];  // one dot unstuffed
  EXPECT_NE(lines[1].find("\"size\":5"), std::string::npos) << lines[1];
}

TEST(SinkProcessTest, GarbageAndOverlongLinesAreRefusedThenCutOff) {
  SinkProcess sink("max_message_size = \"2KiB\"\n");
  ASSERT_TRUE(sink.start()) << sink.err();
  SmtpClient c(sink.smtp());
  EXPECT_EQ(c.code(), 220);
  ASSERT_TRUE(c.send("EHLO " + std::string(600, 'h') + "\r\nEHLO ok\r\nMAIL FROM:<a@b.test> SIZE=99999\r\n"));
  EXPECT_EQ(c.code(), 500);
  EXPECT_EQ(c.code(), 250);
  EXPECT_EQ(c.code(), 552);
  std::string junk;
  for (int i = 0; i < 12; ++i) junk += "\x01\x02 junk\r\n";
  ASSERT_TRUE(c.send(junk));
  int last = 0;
  for (int i = 0; i < 12 && last != 421; ++i) last = c.code();
  EXPECT_EQ(last, 421);
  EXPECT_TRUE(c.closed());
  EXPECT_EQ(sink.stop(), 0);
}

TEST(SinkProcessTest, StalledClientGets421Timeout) {
  SinkProcess sink("command_timeout = \"200ms\"\n");
  ASSERT_TRUE(sink.start()) << sink.err();
  SmtpClient c(sink.smtp());
  EXPECT_EQ(c.code(), 220);
  ASSERT_TRUE(c.send("EHLO half"));  // no CRLF: a command that never completes
  std::string r = c.reply();
  EXPECT_EQ(r.rfind("421 4.4.2", 0), 0u) << r;
  EXPECT_TRUE(c.closed());
  EXPECT_EQ(sink.stop(), 0);
}

TEST(SinkProcessTest, LatencyRulesDelayGreetingRepliesAndEndOfData) {
  SinkProcess sink(
      "[[sink.rule]]\ndomain = \"slow.test\"\nreply_latency = \"120ms\"\ndata_latency = \"250ms\"\n"
      "[[sink.rule]]\ngreeting_latency = \"150ms\"\n");
  ASSERT_TRUE(sink.start()) << sink.err();
  auto t0 = Clock::now();
  SmtpClient c(sink.smtp());
  EXPECT_EQ(c.code(), 220);
  auto greeting = Clock::now() - t0;
  ASSERT_TRUE(c.send("EHLO c\r\nMAIL FROM:<a@b.test>\r\nRCPT TO:<x@slow.test>\r\n"));
  EXPECT_EQ(c.code(), 250);
  EXPECT_EQ(c.code(), 250);
  EXPECT_EQ(c.code(), 250);
  auto t1 = Clock::now();
  ASSERT_TRUE(c.send("DATA\r\n"));
  EXPECT_EQ(c.code(), 354);  // the domain is known now: reply latency applies
  auto reply = Clock::now() - t1;
  auto t2 = Clock::now();
  ASSERT_TRUE(c.send("body\r\n.\r\n"));
  EXPECT_EQ(c.code(), 250);
  auto data = Clock::now() - t2;
  // Lower bounds only: a slow machine may add time, never remove it. The loop's timers count
  // whole milliseconds, hence 1 ms of slack.
  EXPECT_GE(greeting, std::chrono::milliseconds(149));
  EXPECT_GE(reply, std::chrono::milliseconds(119));
  EXPECT_GE(data, std::chrono::milliseconds(249));
  EXPECT_EQ(sink.stop(), 0);
}

TEST(SinkProcessTest, DeferralAndBounceRatesFollowTheRuleForAFixedSeed) {
  SinkProcess sink("seed = 7\n[[sink.rule]]\ndomain = \".greylist.test\"\ndefer_rcpt = 0.3\nbounce_rcpt = 0.1\n");
  ASSERT_TRUE(sink.start()) << sink.err();
  SmtpClient c(sink.smtp());
  EXPECT_EQ(c.code(), 220);
  const int kRcpts = 1000;
  std::string batch = "EHLO c\r\n";
  int deferred = 0, bounced = 0, accepted = 0;
  for (int round = 0; round < kRcpts / 100; ++round) {
    batch += "MAIL FROM:<a@b.test>\r\n";
    for (int i = 0; i < 100; ++i) batch += "RCPT TO:<u" + std::to_string(i) + "@mx.greylist.test>\r\n";
    batch += "RSET\r\n";
  }
  ASSERT_TRUE(c.send(batch));
  EXPECT_EQ(c.code(), 250);  // EHLO
  for (int round = 0; round < kRcpts / 100; ++round) {
    EXPECT_EQ(c.code(), 250);  // MAIL
    for (int i = 0; i < 100; ++i) {
      int code = c.code();
      if (code == 450) ++deferred;
      else if (code == 550) ++bounced;
      else if (code == 250) ++accepted;
    }
    EXPECT_EQ(c.code(), 250);  // RSET
  }
  EXPECT_EQ(deferred + bounced + accepted, kRcpts);
  // Binomial bounds at about 4.5 standard deviations: never fails by chance for a fixed seed.
  EXPECT_NEAR(deferred, 300, 65);
  EXPECT_NEAR(bounced, 100, 45);
  std::string m = sink.metrics();
  EXPECT_EQ(countOf(m, "deferred"), deferred);
  EXPECT_EQ(countOf(m, "bounced"), bounced);
  EXPECT_EQ(sink.stop(), 0);
}

TEST(SinkProcessTest, Answers421AfterNMessagesOnAConnection) {
  SinkProcess sink("[[sink.rule]]\nmax_messages_per_connection = 3\n");
  ASSERT_TRUE(sink.start()) << sink.err();
  SmtpClient c(sink.smtp());
  EXPECT_EQ(c.code(), 220);
  ASSERT_TRUE(c.send("EHLO c\r\n"));
  EXPECT_EQ(c.code(), 250);
  for (int i = 0; i < 3; ++i) {
    ASSERT_TRUE(c.send("MAIL FROM:<a@b.test>\r\nRCPT TO:<x@y.test>\r\nDATA\r\n"));
    EXPECT_EQ(c.code(), 250);
    EXPECT_EQ(c.code(), 250);
    EXPECT_EQ(c.code(), 354);
    ASSERT_TRUE(c.send("m\r\n.\r\n"));
    EXPECT_EQ(c.code(), 250) << "message " << i;
  }
  ASSERT_TRUE(c.send("MAIL FROM:<a@b.test>\r\n"));
  EXPECT_EQ(c.code(), 421);
  EXPECT_TRUE(c.closed());
  EXPECT_EQ(sink.stop(), 0);
}

TEST(SinkProcessTest, ConnectionCapPerClientAnswersExtraConnectionsWith421) {
  SinkProcess sink("[[sink.rule]]\nclient = \"127.0.0.1\"\nmax_connections_per_client = 2\n");
  ASSERT_TRUE(sink.start()) << sink.err();
  SmtpClient a(sink.smtp()), b(sink.smtp());
  EXPECT_EQ(a.code(), 220);
  EXPECT_EQ(b.code(), 220);
  SmtpClient extra(sink.smtp());
  std::string r = extra.reply();
  EXPECT_EQ(r.rfind("421 4.7.0", 0), 0u) << r;
  EXPECT_TRUE(extra.closed());
  // Once one closes, a new connection is welcome again.
  ASSERT_TRUE(a.send("QUIT\r\n"));
  EXPECT_EQ(a.code(), 221);
  EXPECT_TRUE(a.closed());
  EXPECT_EQ(sink.stop(), 0);
}

TEST(SinkProcessTest, MessageRateAboveTheRuleGets421) {
  SinkProcess sink("[[sink.rule]]\nmax_message_rate = 2\n");
  ASSERT_TRUE(sink.start()) << sink.err();
  SmtpClient c(sink.smtp());
  EXPECT_EQ(c.code(), 220);
  // Three MAILs in one batch fall in one second.
  ASSERT_TRUE(c.send("EHLO c\r\nMAIL FROM:<a@b.test>\r\nRSET\r\nMAIL FROM:<a@b.test>\r\nRSET\r\nMAIL FROM:<a@b.test>\r\n"));
  EXPECT_EQ(c.code(), 250);
  EXPECT_EQ(c.code(), 250);
  EXPECT_EQ(c.code(), 250);
  EXPECT_EQ(c.code(), 250);
  EXPECT_EQ(c.code(), 250);
  EXPECT_EQ(c.code(), 421);
  EXPECT_EQ(sink.stop(), 0);
}

TEST(SinkProcessTest, BounceReplyIsTheRulesWholeLineAndTheRefusalIsLogged) {
  std::string refusals = test::tempPath("sink-refusals.jsonl");
  std::filesystem::remove(refusals);
  SinkProcess sink(
      "refusal_log = \"" + refusals + "\"\n"
      "[[sink.rule]]\nbounce_rcpt = 1.0\nbounce_reply = \"554 5.7.1 Service unavailable; Client host [127.0.0.1] "
      "blocked using zen.spamhaus.org\"\n");
  ASSERT_TRUE(sink.start()) << sink.err();
  SmtpClient c(sink.smtp());
  EXPECT_EQ(c.code(), 220);
  ASSERT_TRUE(c.send("EHLO c\r\nMAIL FROM:<a@b.test>\r\nRCPT TO:<x@y.test>\r\n"));
  EXPECT_EQ(c.code(), 250);
  EXPECT_EQ(c.code(), 250);
  EXPECT_EQ(c.reply(), "554 5.7.1 Service unavailable; Client host [127.0.0.1] blocked using zen.spamhaus.org\r\n");
  EXPECT_EQ(countOf(sink.metrics(), "bounced"), 1);
  EXPECT_EQ(sink.stop(), 0);
  std::ifstream in(refusals);
  std::string line;
  ASSERT_TRUE(std::getline(in, line));
  EXPECT_NE(line.find("\"client\":\"127.0.0.1\",\"rcpt\":\"x@y.test\",\"code\":554,\"enhanced\":\"5.7.1\"}"),
            std::string::npos)
      << line;
  EXPECT_FALSE(std::getline(in, line));
}

// Three MAILs in one batch fall in one second: the third is over a rate of 2.
std::string threeMails() {
  return "EHLO c\r\nMAIL FROM:<a@b.test>\r\nRSET\r\nMAIL FROM:<a@b.test>\r\nRSET\r\nMAIL FROM:<a@b.test>\r\n";
}

TEST(SinkProcessTest, RateReply421ClosesTheConnectionAndIsCountedPerClient) {
  SinkProcess sink("[[sink.rule]]\nmax_message_rate = 2\nrate_reply = \"421 4.7.28 Our system has detected an "
                   "unusual rate of unsolicited mail\"\n");
  ASSERT_TRUE(sink.start()) << sink.err();
  SmtpClient c(sink.smtp());
  EXPECT_EQ(c.code(), 220);
  ASSERT_TRUE(c.send(threeMails()));
  for (int i = 0; i < 5; ++i) EXPECT_EQ(c.code(), 250);
  EXPECT_EQ(c.reply(), "421 4.7.28 Our system has detected an unusual rate of unsolicited mail\r\n");
  EXPECT_TRUE(c.closed());
  EXPECT_EQ(metricValue(sink.metrics(), "lbmail_sink_limited_total{client=\"127.0.0.1\",code=\"421\"}"), 1);
  EXPECT_EQ(sink.stop(), 0);
  // The totals per client and second, for the simulation's report.
  EXPECT_NE(sink.err().find("event=sink.client_totals client=127.0.0.1 mails=3 accepted=0 refused_421=1 refused_other=0 "
                            "mails_per_second=3 refused_421_per_second=1"),
            std::string::npos)
      << sink.err();
}

TEST(SinkProcessTest, RateReply451LeavesTheConnectionOpen) {
  SinkProcess sink("[[sink.rule]]\nmax_message_rate = 2\nrate_reply = \"451 4.7.1 Slow down\"\n");
  ASSERT_TRUE(sink.start()) << sink.err();
  SmtpClient c(sink.smtp());
  EXPECT_EQ(c.code(), 220);
  ASSERT_TRUE(c.send(threeMails() + "NOOP\r\n"));
  for (int i = 0; i < 5; ++i) EXPECT_EQ(c.code(), 250);
  EXPECT_EQ(c.reply(), "451 4.7.1 Slow down\r\n");
  EXPECT_EQ(c.code(), 250);  // NOOP: still open
  EXPECT_EQ(metricValue(sink.metrics(), "lbmail_sink_limited_total{client=\"127.0.0.1\",code=\"451\"}"), 1);
  EXPECT_EQ(sink.stop(), 0);
}

TEST(SinkProcessTest, DropInDataClosesWithoutAReply) {
  SinkProcess sink("[[sink.rule]]\ndomain = \"flaky.test\"\ndrop_in_data = 1.0\n");
  ASSERT_TRUE(sink.start()) << sink.err();
  SmtpClient c(sink.smtp());
  EXPECT_EQ(c.code(), 220);
  ASSERT_TRUE(c.send("EHLO c\r\nMAIL FROM:<a@b.test>\r\nRCPT TO:<x@flaky.test>\r\nDATA\r\n"));
  EXPECT_EQ(c.code(), 250);
  EXPECT_EQ(c.code(), 250);
  EXPECT_EQ(c.code(), 250);
  EXPECT_EQ(c.code(), 354);
  ASSERT_TRUE(c.send("part of a message\r\n"));
  EXPECT_EQ(c.reply(), "");  // the connection ends, no reply
  EXPECT_EQ(countOf(sink.metrics(), "dropped"), 1);
  EXPECT_EQ(sink.stop(), 0);
}

TEST(SinkProcessTest, MessageDirHoldsEachAcceptedMessage) {
  std::string dir = test::tempPath("sink-dir");
  std::string mkdir = "mkdir -p " + dir;
  ASSERT_EQ(std::system(mkdir.c_str()), 0);
  SinkProcess sink("message_dir = \"" + dir + "\"\n");
  ASSERT_TRUE(sink.start()) << sink.err();
  SmtpClient c(sink.smtp());
  EXPECT_EQ(c.code(), 220);
  ASSERT_TRUE(c.send("EHLO c\r\nMAIL FROM:<a@b.test>\r\nRCPT TO:<x@y.test>\r\nDATA\r\n"));
  for (int code : {250, 250, 250, 354}) EXPECT_EQ(c.code(), code);
  ASSERT_TRUE(c.send("X-Lbmail-Id: 9\r\n\r\nline one\r\n..two\r\n.\r\n"));
  EXPECT_EQ(c.code(), 250);
  EXPECT_EQ(sink.stop(), 0);
  std::ifstream in(dir + "/1.eml", std::ios::binary);
  std::stringstream body;
  body << in.rdbuf();
  EXPECT_EQ(body.str(), "X-Lbmail-Id: 9\r\n\r\nline one\r\n.two\r\n");
}

TEST(SinkProcessTest, PipelinedNoopsFromAClientThatNeverReadsStopTheReadingNotGrowTheMemory) {
  SinkProcess sink("");
  ASSERT_TRUE(sink.start()) << sink.err();
  FloodClient c(sink.smtp());
  ASSERT_TRUE(c.connected());
  const size_t kLimit = 48u << 20;
  size_t sent = c.flood("NOOP\r\n", kLimit);
  // The sink stopped reading: what it took is what the sockets' buffers hold, not 48 MiB.
  EXPECT_LT(sent, kLimit);
  std::string m = sink.metrics();
  double buffered = metricValue(m, "lbmail_sink_buffered_bytes");
  ASSERT_GE(buffered, 0) << m;
  EXPECT_LT(buffered, 1 << 20) << "replies queued for a client that does not read them";
  // And the sink still serves everyone else.
  SmtpClient other(sink.smtp());
  EXPECT_EQ(other.code(), 220);
  EXPECT_EQ(sink.stop(), 0);
}

TEST(SinkProcessTest, AMessageFarOverTheLimitKeepsNoBodyBytesAndGets552) {
  std::string dir = test::tempPath("sink-big");
  ASSERT_EQ(std::system(("mkdir -p " + dir).c_str()), 0);
  // message_dir makes the sink keep bodies: the costly case.
  SinkProcess sink("max_message_size = \"1MiB\"\nmessage_dir = \"" + dir + "\"\n");
  ASSERT_TRUE(sink.start()) << sink.err();
  SmtpClient c(sink.smtp());
  EXPECT_EQ(c.code(), 220);
  ASSERT_TRUE(c.send("EHLO c\r\nMAIL FROM:<a@b.test>\r\nRCPT TO:<x@y.test>\r\nDATA\r\n"));
  for (int code : {250, 250, 250, 354}) EXPECT_EQ(c.code(), code);
  std::string lines;
  for (int i = 0; i < 1024; ++i) lines += std::string(998, 'b') + "\r\n";
  // 32 MiB: once send returns, the sink has read all but what the sockets' buffers hold,
  // far past the 1 MiB limit.
  for (int i = 0; i < 32; ++i) ASSERT_TRUE(c.send(lines));
  std::string m = sink.metrics();
  EXPECT_EQ(metricValue(m, "lbmail_sink_body_bytes"), 0) << m;
  double buffered = metricValue(m, "lbmail_sink_buffered_bytes");
  ASSERT_GE(buffered, 0) << m;
  EXPECT_LT(buffered, 256 * 1024);
  ASSERT_TRUE(c.send(".\r\n"));
  std::string r = c.reply();
  EXPECT_EQ(r.rfind("552 5.3.4", 0), 0u) << r;
  EXPECT_EQ(metricValue(sink.metrics(), "lbmail_sink_buffered_bytes"), 0);
  EXPECT_EQ(sink.stop(), 0);
}

TEST(SinkProcessTest, BodiesBeyondTheSinksBodyMemoryAre452) {
  std::string dir = test::tempPath("sink-budget");
  ASSERT_EQ(std::system(("mkdir -p " + dir).c_str()), 0);
  SinkProcess sink("max_message_size = \"1MiB\"\nmax_body_memory = \"1MiB\"\nmessage_dir = \"" + dir + "\"\n");
  ASSERT_TRUE(sink.start()) << sink.err();
  SmtpClient a(sink.smtp()), b(sink.smtp());
  std::string half;
  for (int i = 0; i < 700; ++i) half += std::string(998, 'h') + "\r\n";
  for (SmtpClient* c : {&a, &b}) {
    EXPECT_EQ(c->code(), 220);
    ASSERT_TRUE(c->send("EHLO c\r\nMAIL FROM:<a@b.test>\r\nRCPT TO:<x@y.test>\r\nDATA\r\n"));
    for (int code : {250, 250, 250, 354}) EXPECT_EQ(c->code(), code);
  }
  ASSERT_TRUE(a.send(half));
  // Wait until the sink holds a's 700 kB (a scrape is the only view inside the process).
  for (int i = 0; i < 1000 && metricValue(sink.metrics(), "lbmail_sink_body_bytes") < 700 * 1000; ++i) usleep(5000);
  ASSERT_GE(metricValue(sink.metrics(), "lbmail_sink_body_bytes"), 700 * 1000);
  ASSERT_TRUE(b.send(half + ".\r\n"));
  std::string r = b.reply();
  EXPECT_EQ(r.rfind("452 4.3.1", 0), 0u) << r;
  ASSERT_TRUE(a.send(".\r\n"));
  EXPECT_EQ(a.code(), 250);
  EXPECT_EQ(sink.stop(), 0);
  EXPECT_EQ(sink.messageLog().size(), 1u);
}

}  // namespace
}  // namespace lbmail
