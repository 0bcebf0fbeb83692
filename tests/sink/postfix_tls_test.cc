// The Postfix TLS fixture (tests/support/postfix_tls.h) checked with swaks: mail delivered over
// STARTTLS says so in Postfix's Received header, mail in plaintext does not, and the instance
// goes when stopped.
#include "postfix_tls.h"

#include <gtest/gtest.h>
#include <signal.h>

#include <fstream>
#include <sstream>

#include "child_process.h"
#include "test_pki.h"
#include "validate.h"

namespace lbmail::test {
namespace {

std::string readFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

// Gone, or a zombie its new parent (init, in a container maybe slow) has not reaped yet.
bool exited(pid_t pid) {
  std::string stat = readFile("/proc/" + std::to_string(pid) + "/stat");
  size_t paren = stat.rfind(')');
  return stat.empty() || (paren != std::string::npos && stat.compare(paren + 1, 3, " Z ") == 0);
}

int swaks(const PostfixTlsServer& postfix, const std::string& ca_file, const std::string& to) {
  std::vector<std::string> argv = {testEnv("LBMAIL_SWAKS"), "--server", postfix.address().host(), "--port",
                                   std::to_string(postfix.address().port()), "--helo", "client.test", "--from",
                                   "news@sender.test", "--to", to, "--body", "hello", "--silent", "2"};
  if (!ca_file.empty()) argv.insert(argv.end(), {"--tls", "--tls-verify", "--tls-ca-path", ca_file});
  ChildProcess run(argv);
  int status = run.wait();
  EXPECT_EQ(exitCode(status), 0) << run.out() << run.err();
  return exitCode(status);
}

TEST(PostfixTlsServer, SwaksOverStartTlsIsDeliveredWithAReceivedHeaderThatNamesTls) {
  TestPki pki;
  TestCertificate cert = pki.leaf("postfix", {"mx.postfix.test", "127.0.0.1"});
  ASSERT_TRUE(pki.ok()) << pki.error();
  PostfixTlsServer::Options options;
  options.certificate = cert;
  PostfixTlsServer postfix(options);
  std::string err = postfix.start();
  ASSERT_EQ(err, "");

  ASSERT_EQ(swaks(postfix, pki.caFile(), "alice@example.test"), 0);
  std::vector<std::string> files = postfix.waitForMessages("example.test", 1);
  ASSERT_EQ(files.size(), 1u) << postfix.log();
  std::string tls_message = readFile(files[0]);
  EXPECT_NE(tls_message.find("(using TLSv1.3 with cipher "), std::string::npos) << tls_message;
  EXPECT_NE(tls_message.find("by mx.postfix.test (Postfix) with ESMTPS id "), std::string::npos) << tls_message;
  EXPECT_NE(tls_message.find("for <alice@example.test>"), std::string::npos) << tls_message;
  EXPECT_NE(postfix.log().find("TLS connection established from"), std::string::npos) << postfix.log();

  // The same without --tls: the header says plain ESMTP and names no TLS.
  ASSERT_EQ(swaks(postfix, "", "bob@example.test"), 0);
  files = postfix.waitForMessages("example.test", 2);
  ASSERT_EQ(files.size(), 2u) << postfix.log();
  std::string plain = readFile(files[0]) == tls_message ? readFile(files[1]) : readFile(files[0]);
  EXPECT_NE(plain.find("by mx.postfix.test (Postfix) with ESMTP id "), std::string::npos) << plain;
  EXPECT_EQ(plain.find("using TLS"), std::string::npos) << plain;

  pid_t master = postfix.masterPid();
  ASSERT_GT(master, 0);
  postfix.stop();
  EXPECT_TRUE(exited(master));
}

}  // namespace
}  // namespace lbmail::test
