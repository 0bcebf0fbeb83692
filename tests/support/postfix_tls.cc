// The private Postfix: main.cf and master.cf written for one test, `postfix -c DIR start`, and
// the master stopped by its pid.
#include "postfix_tls.h"

#include <gtest/gtest.h>
#include <poll.h>
#include <pwd.h>
#include <signal.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "child_process.h"
#include "sink_process.h"
#include "validate.h"

namespace lbmail::test {
namespace {

namespace fs = std::filesystem;

std::string readText(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

// Every daemon the instance needs, none chrooted (the queue is all it has), and smtpd on the
// loopback port. No smtp client: mail that would leave (bounces) goes to the error transport.
std::string masterCf(uint16_t port) {
  return "127.0.0.1:" + std::to_string(port) +
         " inet n - n - - smtpd\n"
         "pickup    unix  n - n 60 1 pickup\n"
         "cleanup   unix  n - n - 0 cleanup\n"
         "qmgr      unix  n - n 300 1 qmgr\n"
         "tlsmgr    unix  - - n 1000? 1 tlsmgr\n"
         "rewrite   unix  - - n - - trivial-rewrite\n"
         "bounce    unix  - - n - 0 bounce\n"
         "defer     unix  - - n - 0 bounce\n"
         "trace     unix  - - n - 0 bounce\n"
         "verify    unix  - - n - 1 verify\n"
         "flush     unix  n - n 1000? 0 flush\n"
         "proxymap  unix  - - n - - proxymap\n"
         "showq     unix  n - n - - showq\n"
         "error     unix  - - n - - error\n"
         "retry     unix  - - n - - error\n"
         "discard   unix  - - n - - discard\n"
         "virtual   unix  - n n - - virtual\n"
         "anvil     unix  - - n - 1 anvil\n"
         "scache    unix  - - n - 1 scache\n"
         "postlog   unix-dgram n - n - 1 postlogd\n";
}

// Reads the pid Postfix's master wrote ("   1234\n").
pid_t readPid(const std::string& path) {
  std::ifstream in(path);
  long pid = -1;
  in >> pid;
  return in ? static_cast<pid_t>(pid) : -1;
}

// Waits until a process that is not our child has gone: its pidfd turns readable then.
bool waitForExit(pid_t pid, std::chrono::milliseconds bound) {
  int fd = static_cast<int>(::syscall(SYS_pidfd_open, pid, 0));
  if (fd < 0) return ::kill(pid, 0) != 0;  // already gone (ESRCH)
  pollfd p{fd, POLLIN, 0};
  bool gone = ::poll(&p, 1, static_cast<int>(bound.count())) == 1;
  ::close(fd);
  return gone;
}

}  // namespace

PostfixTlsServer::PostfixTlsServer(Options options) : options_(std::move(options)) {
  std::string pattern = ::testing::TempDir();
  if (!pattern.empty() && pattern.back() == '/') pattern.pop_back();
  pattern += "/lbmail-postfix-XXXXXX";
  // Postfix's daemons run as postfix and nobody: they must be able to enter the directory.
  if (mkdtemp(pattern.data()) != nullptr && ::chmod(pattern.c_str(), 0755) == 0) dir_ = pattern;
}

PostfixTlsServer::~PostfixTlsServer() {
  stop();
  std::error_code ec;
  if (!dir_.empty()) fs::remove_all(dir_, ec);
}

std::string PostfixTlsServer::writeConfig(uint16_t port) {
  // getpwnam's result lives in a static buffer: each user is copied before the next lookup.
  const passwd* pw = getpwnam("postfix");
  if (!pw) return "no postfix user (scripts/install-deps installs Postfix)";
  const passwd postfix_user = *pw;
  pw = getpwnam("nobody");
  if (!pw) return "no nobody user";
  const passwd nobody_user = *pw;
  const passwd* postfix = &postfix_user;
  const passwd* nobody = &nobody_user;
  std::error_code ec;
  for (const char* sub : {"conf", "queue", "data"}) fs::create_directories(dir_ + "/" + sub, ec);
  // The master locks its data directory as mail_owner; virtual(8) writes as nobody, since it
  // delivers as no uid below virtual_minimum_uid (root included).
  if (ec || ::chown((dir_ + "/data").c_str(), postfix->pw_uid, postfix->pw_gid) != 0) return "cannot prepare " + dir_;
  std::string vmailbox;
  for (const std::string& d : options_.domains) {
    vmailbox += "@" + d + " " + d + "/\n";  // one Maildir per domain, every local part
    for (const char* sub : {"", "/tmp", "/new", "/cur"}) {
      fs::create_directories(maildir(d) + sub, ec);
      if (::chown((maildir(d) + sub).c_str(), nobody->pw_uid, nobody->pw_gid) != 0) return "cannot prepare " + maildir(d);
    }
  }
  ::chown((dir_ + "/mail").c_str(), nobody->pw_uid, nobody->pw_gid);
  std::string domains;
  for (const std::string& d : options_.domains) domains += (domains.empty() ? "" : ", ") + d;
  std::ostringstream main;
  main << "compatibility_level = 3.6\nqueue_directory = " << dir_ << "/queue\ndata_directory = " << dir_
       << "/data\nmail_owner = postfix\nsetgid_group = postdrop\nmyhostname = " << options_.hostname
       << "\nmydomain = postfix.test\nmydestination =\nlocal_recipient_maps =\nalias_maps =\nalias_database =\n"
       << "relay_domains =\ninet_interfaces = 127.0.0.1\ninet_protocols = ipv4\nmynetworks = 127.0.0.0/8\n"
       << "smtpd_relay_restrictions = permit_mynetworks, reject_unauth_destination\n"
       << "smtpd_peername_lookup = no\nin_flow_delay = 0s\nbiff = no\n"
       << "default_transport = error:no mail leaves a test\nrelay_transport = error:no mail leaves a test\n"
       << "maillog_file = " << dir_ << "/postfix.log\nmaillog_file_prefixes = " << dir_ << "\n"
       << "virtual_mailbox_domains = " << domains << "\nvirtual_mailbox_base = " << dir_ << "/mail\n"
       << "virtual_mailbox_maps = texthash:" << dir_ << "/conf/vmailbox\nvirtual_uid_maps = static:" << nobody->pw_uid
       << "\nvirtual_gid_maps = static:" << nobody->pw_gid << "\nvirtual_mailbox_limit = 0\n"
       << "message_size_limit = 67108864\n";
  if (!options_.certificate.cert.empty()) {
    main << "smtpd_tls_security_level = " << options_.tls_security_level << "\nsmtpd_tls_chain_files = "
         << options_.certificate.key << ", " << options_.certificate.cert
         << "\nsmtpd_tls_received_header = yes\nsmtpd_tls_loglevel = 1\n";
  }
  for (const std::string& line : options_.main_cf) main << line << "\n";
  std::ofstream(dir_ + "/conf/main.cf") << main.str();
  std::ofstream master(dir_ + "/conf/master.cf");
  master << masterCf(port);
  for (const std::string& line : options_.master_cf) master << line << "\n";
  std::ofstream(dir_ + "/conf/vmailbox") << vmailbox;
  return "";
}

std::string PostfixTlsServer::start() {
  if (dir_.empty()) return "cannot make a temporary directory";
  if (::geteuid() != 0) return "Postfix's master runs as root: run this test as root";
  // The port can be taken between finding it free and the master binding it: try a few.
  std::string error;
  for (int attempt = 0; attempt < 3; ++attempt) {
    error = startOn(freePort());
    if (error.empty()) return "";
  }
  return error;
}

std::string PostfixTlsServer::startOn(uint16_t port) {
  if (std::string err = writeConfig(port); !err.empty()) return err;
  std::string postfix = testEnv("LBMAIL_POSTFIX");
  if (postfix.empty()) postfix = "/usr/sbin/postfix";
  // postfix-script runs the master with -w: start returns once it has bound its listener.
  ChildProcess run({postfix, "-c", dir_ + "/conf", "start"});
  int status = run.wait(std::chrono::seconds(60));
  if (exitCode(status) != 0) return "postfix start failed: " + run.err() + run.out() + "\n" + log();
  master_pid_ = readPid(dir_ + "/queue/pid/master.pid");
  if (master_pid_ <= 0) return "postfix started but wrote no master.pid\n" + log();
  address_ = *SocketAddress::parse("127.0.0.1:" + std::to_string(port));
  if (!waitUntilAccepting(address_)) {
    stop();
    return "postfix does not accept connections on " + address_.toString() + "\n" + log();
  }
  return "";
}

void PostfixTlsServer::stop() {
  if (master_pid_ <= 0) return;
  // The master stops its children when it terminates (master(8)).
  if (::kill(master_pid_, SIGTERM) == 0 && !waitForExit(master_pid_, std::chrono::seconds(10))) {
    ::kill(master_pid_, SIGKILL);
    waitForExit(master_pid_, std::chrono::seconds(5));
  }
  master_pid_ = -1;
}

std::string PostfixTlsServer::log() const { return readText(dir_ + "/postfix.log"); }

std::vector<std::string> PostfixTlsServer::messages(const std::string& domain) const {
  std::vector<std::string> files;
  std::error_code ec;
  for (const char* sub : {"/new", "/cur"}) {
    for (const auto& e : fs::directory_iterator(maildir(domain) + sub, ec)) files.push_back(e.path().string());
  }
  std::sort(files.begin(), files.end());
  return files;
}

std::vector<std::string> PostfixTlsServer::waitForMessages(const std::string& domain, size_t n,
                                                           std::chrono::seconds bound) {
  // virtual(8) writes into tmp/ and renames into new/ (Maildir): each rename is an event.
  int fd = inotify_init1(IN_CLOEXEC | IN_NONBLOCK);
  if (fd >= 0) inotify_add_watch(fd, (maildir(domain) + "/new").c_str(), IN_MOVED_TO | IN_CREATE);
  auto deadline = std::chrono::steady_clock::now() + bound;
  std::vector<std::string> files = messages(domain);
  while (files.size() < n && fd >= 0) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    pollfd p{fd, POLLIN, 0};
    if (left.count() <= 0 || ::poll(&p, 1, static_cast<int>(left.count())) != 1) break;
    char events[4096];
    while (::read(fd, events, sizeof events) > 0) {
    }
    files = messages(domain);
  }
  if (fd >= 0) ::close(fd);
  return files;
}

}  // namespace lbmail::test
