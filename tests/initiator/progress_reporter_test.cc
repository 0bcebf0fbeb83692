// The progress line and its ETA.
#include "progress_reporter.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <poll.h>
#include <pty.h>
#include <termios.h>
#include <unistd.h>

#include <cstdio>
#include <string>
#include <vector>

#include "lbmail/core/log.h"

namespace lbmail {
namespace {

using namespace std::chrono_literals;

// stderr pointed at a raw pseudo-terminal for the life of the object: what a user's
// terminal would receive, byte for byte.
class StderrOnPty {
 public:
  StderrOnPty() {
    termios raw{};
    cfmakeraw(&raw);
    if (::openpty(&master_, &slave_, nullptr, &raw, nullptr) != 0) return;
    std::fflush(stderr);
    saved_ = ::dup(STDERR_FILENO);
    ::dup2(slave_, STDERR_FILENO);
  }
  ~StderrOnPty() {
    restore();
    if (master_ >= 0) ::close(master_);
  }
  bool ok() const { return saved_ >= 0; }
  void restore() {
    if (saved_ < 0) return;
    std::fflush(stderr);
    ::dup2(saved_, STDERR_FILENO);
    ::close(saved_);
    ::close(slave_);
    saved_ = -1;
  }
  // Everything written so far: the writes are done, so it all waits in the master side.
  std::string drain() {
    std::string out;
    char buf[4096];
    pollfd p{master_, POLLIN, 0};
    while (::poll(&p, 1, 200) == 1 && (p.revents & POLLIN)) {
      ssize_t n = ::read(master_, buf, sizeof buf);
      if (n <= 0) break;
      out.append(buf, static_cast<size_t>(n));
    }
    return out;
  }

 private:
  int master_ = -1;
  int slave_ = -1;
  int saved_ = -1;
};

ProgressReporter::Snapshot halfway() {
  ProgressReporter::Snapshot s;
  s.total = 100;
  s.sent = 50;
  s.delivered = 50;
  s.rate = 10;
  return s;
}

TEST(ProgressReporter, ALogLineOnATerminalClearsTheProgressLineAndRedrawsIt) {
  StderrOnPty pty;
  ASSERT_TRUE(pty.ok());
  ProgressReporter reporter(1s, true);
  reporter.update(halfway(), 1000);
  logWarn("test.between_draws", {{"n", 1}});
  pty.restore();
  std::string screen = pty.drain();
  std::string bar = ProgressReporter::line(halfway());
  size_t drawn = screen.find("\r" + bar + "\033[K");
  ASSERT_NE(drawn, std::string::npos) << screen;
  // The log line starts on a cleared line, not after "ETA 5s", and the bar comes back below it.
  size_t logged = screen.find("\r\033[Kts=", drawn);
  ASSERT_NE(logged, std::string::npos) << screen;
  size_t end = screen.find("event=test.between_draws n=1\n", logged);
  ASSERT_NE(end, std::string::npos) << screen;
  EXPECT_NE(screen.find(bar + "\033[K", end), std::string::npos) << screen;
}

TEST(ProgressReporter, TheLastDrawEndsTheLineAndLaterLogLinesLeaveItAlone) {
  std::string out;
  Logger log([&](std::string_view line) { out.append(line); }, [] { return std::chrono::system_clock::now(); });
  ProgressReporter reporter(1s, true, log);
  reporter.update(halfway(), 1000);
  out.clear();
  reporter.finish(halfway());
  std::string bar = ProgressReporter::line(halfway());
  ASSERT_EQ(out.rfind("\r" + bar + "\033[K\n", 0), 0u) << out;
  out.clear();
  log.log(LogLevel::kInfo, "after.finish", {});
  EXPECT_EQ(out.find('\r'), std::string::npos) << out;  // nothing left to clear or redraw
  EXPECT_EQ(out.find(bar), std::string::npos) << out;
}

TEST(ProgressReporter, LineShowsTheBarCountsRateAndEta) {
  ProgressReporter::Snapshot s;
  s.total = 1000;
  s.sent = 600;
  s.delivered = 400;
  s.bounced = 50;
  s.failed = 50;
  s.deferred = 20;
  s.rate = 100;
  // Half the recipients are final: half the bar; 500 left at 100/s is 5 s.
  EXPECT_EQ(ProgressReporter::line(s),
            "[############............]  50.0% sent 600 delivered 400 deferred 20 bounced 50 failed 50  100/s  ETA 5s");
  ASSERT_TRUE(ProgressReporter::etaSeconds(s));
  EXPECT_DOUBLE_EQ(*ProgressReporter::etaSeconds(s), 5.0);
}

TEST(ProgressReporter, EtaNeedsARateAndLongOnesReadInMinutesAndHours) {
  ProgressReporter::Snapshot s;
  s.total = 1'000'000;
  EXPECT_FALSE(ProgressReporter::etaSeconds(s));
  EXPECT_NE(ProgressReporter::line(s).find("ETA -"), std::string::npos);
  s.rate = 100;
  EXPECT_NE(ProgressReporter::line(s).find("ETA 2h46m"), std::string::npos) << ProgressReporter::line(s);
  s.total = 10'000;
  EXPECT_NE(ProgressReporter::line(s).find("ETA 1m40s"), std::string::npos) << ProgressReporter::line(s);
  s.delivered = 10'000;
  EXPECT_NE(ProgressReporter::line(s).find("100.0%"), std::string::npos);
  EXPECT_DOUBLE_EQ(*ProgressReporter::etaSeconds(s), 0.0);
}

}  // namespace
}  // namespace lbmail
