// STARTTLS in the sink (RFC 3207), driven by TLS stacks apart from lbmail's: swaks (Net::SSLeay),
// openssl s_client and Python's ssl module, with certificates from the test CA.
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "child_process.h"
#include "sink_process.h"
#include "sink_test_client.h"
#include "temp_path.h"
#include "test_pki.h"
#include "validate.h"

namespace lbmail {
namespace {

using test::ChildProcess;
using test::metricValue;
using test::SinkProcess;
using test::SmtpClient;

std::string readFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

class SinkTlsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(pki_.ok()) << pki_.error();
    cert_ = pki_.leaf("sink", {"sink.test", "127.0.0.1"});
    ASSERT_TRUE(pki_.ok()) << pki_.error();
    dir_ = test::tempPath("sink-tls-" + std::to_string(++count_));
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  std::string tlsSettings() const {
    return "tls_certificate = \"" + cert_.cert + "\"\ntls_key = \"" + cert_.key + "\"\nmessage_dir = \"" + dir_ +
           "\"\n";
  }
  std::string python(const SinkProcess& sink, const std::string& before, const std::string& after) {
    ChildProcess py({test::testEnv("LBMAIL_PYTHON"), test::testEnv("LBMAIL_SOURCE_ROOT") + "/tests/support/starttls_client.py",
                     sink.smtp().host(), std::to_string(sink.smtp().port()), before, after, pki_.caFile(), "sink.test"});
    int status = py.wait();
    EXPECT_EQ(test::exitCode(status), 0) << py.out() << py.err();
    return py.out();
  }

  static inline int count_ = 0;
  test::TestPki pki_;
  test::TestCertificate cert_;
  std::string dir_;
};

TEST_F(SinkTlsTest, SwaksDeliversOverStartTlsAndTheMessageSaysSo) {
  SinkProcess sink(tlsSettings());
  ASSERT_TRUE(sink.start()) << sink.err();
  // --tls: STARTTLS required; --tls-verify against the test CA checks the sink's certificate.
  ChildProcess swaks({test::testEnv("LBMAIL_SWAKS"), "--server", sink.smtp().host(), "--port",
                      std::to_string(sink.smtp().port()), "--tls", "--tls-verify", "--tls-ca-path", pki_.caFile(),
                      "--helo", "client.test", "--from", "news@sender.test", "--to", "alice@example.test", "--header",
                      "X-Lbmail-Id: 77", "--body", "Hello over TLS"});
  EXPECT_EQ(test::exitCode(swaks.wait()), 0) << swaks.out() << swaks.err();
  EXPECT_NE(swaks.out().find("<-  220 2.0.0 Ready to start TLS"), std::string::npos) << swaks.out();
  EXPECT_EQ(metricValue(sink.metrics(), "lbmail_sink_tls_sessions_total"), 1);
  EXPECT_EQ(sink.stop(), 0) << sink.err();
  auto lines = sink.messageLog();
  ASSERT_EQ(lines.size(), 1u);
  EXPECT_TRUE(test::validateDocument("json", lines[0]).ok) << lines[0];
  EXPECT_NE(lines[0].find("\"tls\":\"TLSv1.3\""), std::string::npos) << lines[0];
  std::string file = readFile(dir_ + "/1.eml");
  EXPECT_EQ(file.rfind("Received: from client.test ([127.0.0.1])\r\n\t(using TLSv1.3 with cipher TLS_", 0), 0u) << file;
  EXPECT_NE(file.find("by sink.test (lbmail sink) with ESMTPS id 1;\r\n"), std::string::npos) << file;
  EXPECT_NE(file.find("\r\nX-Lbmail-Id: 77\r\n"), std::string::npos) << file;
}

TEST_F(SinkTlsTest, OpensslClientVerifiesTheSinkAndTls12IsTaken) {
  SinkProcess sink(tlsSettings());
  ASSERT_TRUE(sink.start()) << sink.err();
  // s_client sends EHLO and STARTTLS itself; -crlf turns the lines below into SMTP lines.
  ChildProcess client({test::testEnv("LBMAIL_OPENSSL"), "s_client", "-starttls", "smtp", "-connect",
                       sink.smtp().toString(), "-tls1_2", "-CAfile", pki_.caFile(), "-verify_hostname", "sink.test",
                       "-verify_return_error", "-brief", "-crlf", "-quiet"},
                      std::string("EHLO again.test\nMAIL FROM:<a@sender.test>\nRCPT TO:<b@example.test>\nDATA\n"
                                  "Subject: s_client\n\nhello\n.\nQUIT\n"));
  EXPECT_EQ(test::exitCode(client.wait()), 0) << client.err();
  EXPECT_NE(client.err().find("Verification: OK"), std::string::npos) << client.err();
  EXPECT_NE(client.err().find("Protocol version: TLSv1.2"), std::string::npos) << client.err();
  // RFC 3207 section 4.2: the EHLO reply under TLS no longer offers STARTTLS.
  EXPECT_NE(client.out().find("250-sink.test\r\n"), std::string::npos) << client.out();
  EXPECT_EQ(client.out().find("STARTTLS"), std::string::npos) << client.out();
  EXPECT_NE(client.out().find("250 2.0.0 Ok: queued as 1"), std::string::npos) << client.out();
  EXPECT_EQ(sink.stop(), 0) << sink.err();
  auto lines = sink.messageLog();
  ASSERT_EQ(lines.size(), 1u);
  EXPECT_NE(lines[0].find("\"tls\":\"TLSv1.2\""), std::string::npos) << lines[0];
  EXPECT_NE(readFile(dir_ + "/1.eml").find("(using TLSv1.2 with cipher ECDHE-ECDSA-"), std::string::npos);
}

TEST_F(SinkTlsTest, CommandsPipelinedBehindStartTlsAreNeverExecuted) {
  SinkProcess sink(tlsSettings());
  ASSERT_TRUE(sink.start()) << sink.err();
  // The injected MAIL travels in plaintext in the same write as STARTTLS (CVE-2011-0411).
  std::string transcript = python(sink, "EHLO c.test\\r\\nSTARTTLS\\r\\nMAIL FROM:<evil@attacker.test>\\r\\n",
                                  "EHLO c.test\\r\\nRCPT TO:<b@example.test>\\r\\nQUIT\\r\\n");
  EXPECT_NE(transcript.find("250-STARTTLS"), std::string::npos) << transcript;
  EXPECT_NE(transcript.find("TLS TLSv1.3 "), std::string::npos) << transcript;
  // Under TLS no MAIL was ever given: the RCPT is out of sequence.
  EXPECT_NE(transcript.find("503 5.5.1 Need MAIL command first"), std::string::npos) << transcript;
  EXPECT_EQ(transcript.find("2.1.0"), std::string::npos) << transcript;
  EXPECT_NE(transcript.find("221 2.0.0 Bye"), std::string::npos) << transcript;
  EXPECT_EQ(sink.stop(), 0);
  EXPECT_NE(sink.err().find("event=sink.pipelined_after_starttls"), std::string::npos) << sink.err();
}

TEST_F(SinkTlsTest, PipelinedTransactionsUnderTlsAreAllAccepted) {
  SinkProcess sink(tlsSettings() + "[[sink.rule]]\nreply_latency = \"1ms\"\n");
  ASSERT_TRUE(sink.start()) << sink.err();
  // Several transactions in one TLS write: the sink drains what it decrypted, batch by batch,
  // each waiting for its latency.
  std::string after = "EHLO c.test\\r\\n";
  for (int i = 0; i < 5; ++i) {
    after += "MAIL FROM:<a@sender.test>\\r\\nRCPT TO:<b" + std::to_string(i) +
             "@example.test>\\r\\nDATA\\r\\nSubject: " + std::to_string(i) + "\\r\\n\\r\\nbody\\r\\n.\\r\\n";
  }
  std::string transcript = python(sink, "EHLO c.test\\r\\nSTARTTLS\\r\\n", after + "QUIT\\r\\n");
  for (int i = 1; i <= 5; ++i) {
    EXPECT_NE(transcript.find("Ok: queued as " + std::to_string(i)), std::string::npos) << transcript;
  }
  EXPECT_EQ(sink.stop(), 0);
  EXPECT_EQ(sink.messageLog().size(), 5u);
}

TEST_F(SinkTlsTest, GarbageInsteadOfAHandshakeIsCountedAndClosed) {
  SinkProcess sink(tlsSettings());
  ASSERT_TRUE(sink.start()) << sink.err();
  SmtpClient c(sink.smtp());
  EXPECT_EQ(c.code(), 220);
  ASSERT_TRUE(c.send("EHLO c.test\r\n"));
  EXPECT_EQ(c.code(), 250);
  ASSERT_TRUE(c.send("STARTTLS\r\n"));
  EXPECT_EQ(c.reply(), "220 2.0.0 Ready to start TLS\r\n");
  ASSERT_TRUE(c.send("MAIL FROM:<not@tls.test>\r\n"));
  c.readUntilClosed();  // the handshake fails: an alert at most, then the end
  EXPECT_TRUE(c.closed());
  EXPECT_EQ(metricValue(sink.metrics(), "lbmail_sink_tls_failures_total"), 1);
  EXPECT_EQ(metricValue(sink.metrics(), "lbmail_sink_tls_sessions_total"), 0);
  EXPECT_EQ(sink.stop(), 0);
  EXPECT_NE(sink.err().find("event=sink.tls_failed"), std::string::npos) << sink.err();
}

TEST_F(SinkTlsTest, AClientThatStallsInTheHandshakeIsCutOffAtTheCommandTimeout) {
  SinkProcess sink(tlsSettings() + "command_timeout = \"300ms\"\n");
  ASSERT_TRUE(sink.start()) << sink.err();
  SmtpClient c(sink.smtp());
  EXPECT_EQ(c.code(), 220);
  ASSERT_TRUE(c.send("EHLO c.test\r\nSTARTTLS\r\n"));
  EXPECT_EQ(c.code(), 250);
  EXPECT_EQ(c.code(), 220);
  // No ClientHello follows: the sink closes without a 421 it could only send in plaintext.
  EXPECT_EQ(c.readUntilClosed(), "");
  EXPECT_TRUE(c.closed());
  EXPECT_EQ(metricValue(sink.metrics(), "lbmail_sink_tls_failures_total"), 1);
  EXPECT_EQ(sink.stop(), 0);
  EXPECT_NE(sink.err().find("TLS handshake timed out"), std::string::npos) << sink.err();
}

TEST_F(SinkTlsTest, WithoutACertificateStartTlsIsNeitherOfferedNorTaken) {
  SinkProcess sink("");
  ASSERT_TRUE(sink.start()) << sink.err();
  SmtpClient c(sink.smtp());
  EXPECT_EQ(c.code(), 220);
  ASSERT_TRUE(c.send("EHLO c.test\r\nSTARTTLS\r\n"));
  EXPECT_EQ(c.reply().find("STARTTLS"), std::string::npos);
  EXPECT_EQ(c.reply(), "502 5.5.1 STARTTLS not available\r\n");
  EXPECT_EQ(sink.stop(), 0);
}

TEST_F(SinkTlsTest, AKeyThatIsNotTheCertificatesStopsTheStartWithTheReason) {
  test::TestCertificate other = pki_.leaf("other", {"other.test"});
  ASSERT_TRUE(pki_.ok()) << pki_.error();
  SinkProcess sink("tls_certificate = \"" + cert_.cert + "\"\ntls_key = \"" + other.key + "\"\n");
  EXPECT_FALSE(sink.start());
  EXPECT_NE(sink.err().find("does not match " + cert_.cert), std::string::npos) << sink.err();
}

TEST_F(SinkTlsTest, AKeyOthersCanReadStopsTheStart) {
  chmod(cert_.key.c_str(), 0644);
  SinkProcess sink(tlsSettings());
  EXPECT_FALSE(sink.start());
  EXPECT_NE(sink.err().find(cert_.key), std::string::npos) << sink.err();
}

}  // namespace
}  // namespace lbmail
