// Headless Chromium for tests: one browser per page, a fresh profile, the DOM on stdout.
#include "chromium_page.h"

#include <stdlib.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <system_error>
#include <thread>
#include <vector>

#include "child_process.h"
#include "temp_path.h"

namespace lbmail::test {

std::string chromiumPath() {
  const char* env = std::getenv("LBMAIL_CHROMIUM");
  std::string path = env != nullptr && *env != '\0' ? env : "/usr/bin/chromium";
  return ::access(path.c_str(), X_OK) == 0 ? path : std::string();
}

std::optional<std::string> renderedDom(const std::string& url, std::chrono::seconds bound) {
  std::string chromium = chromiumPath();
  if (chromium.empty()) return std::nullopt;
  std::string dir = tempPath("chromium-XXXXXX");
  if (::mkdtemp(dir.data()) == nullptr) return std::nullopt;

  // Chromium keeps its crash database under $XDG_CONFIG_HOME and a dconf cache under
  // $XDG_CACHE_HOME whatever --user-data-dir says, so HOME and both go to the scratch directory
  // too: the test leaves nothing in the real home. env(1) execs Chromium in its own pid, which
  // ChildProcess then waits on and kills.
  std::vector<std::string> argv = {
      "/usr/bin/env",
      "HOME=" + dir,
      "XDG_CONFIG_HOME=" + dir + "/config",
      "XDG_CACHE_HOME=" + dir + "/cache",
      "DBUS_SESSION_BUS_ADDRESS=disabled:",  // no session bus in a container: fail fast, quietly
      chromium,
      "--headless",
      "--no-sandbox",  // the sandbox refuses to run as root, and containers lack its namespaces
      "--disable-gpu",
      "--disable-dev-shm-usage",  // a container's /dev/shm is small; shared memory goes to /tmp
      "--user-data-dir=" + dir + "/profile",
      "--no-first-run",
      "--no-default-browser-check",
      "--disable-extensions",
      "--disable-background-networking",  // no update checks or downloads: tests run offline
      "--disable-component-update",
      "--disable-sync",
      "--disable-crash-reporter",
      "--mute-audio",
      "--virtual-time-budget=4000",
      "--dump-dom",
      url,
  };
  std::optional<std::string> dom;
  {
    ChildProcess browser(argv);
    if (browser.started() && exitCode(browser.wait(bound)) == 0 && !browser.out().empty()) dom = browser.out();
  }

  // After a kill, Chromium's helper processes die a moment after the browser and may still be
  // writing to the profile, so removal gets a few tries.
  for (int attempt = 0; attempt < 20; ++attempt) {
    std::error_code ec;
    std::filesystem::remove_all(dir, ec);
    if (!ec && !std::filesystem::exists(dir, ec)) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  return dom;
}

}  // namespace lbmail::test
