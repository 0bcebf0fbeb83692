// Renders a web page in headless Chromium for a test and returns its DOM after the scripts ran.
#pragma once

#include <chrono>
#include <optional>
#include <string>

namespace lbmail::test {

// The Chromium binary: $LBMAIL_CHROMIUM when set, else /usr/bin/chromium; empty when that is not
// an executable file, so that a test can skip.
std::string chromiumPath();

// Loads url in headless Chromium with a fresh profile, lets the page's timers and requests run
// for 4 s of virtual time, and returns the serialised DOM (Chromium's --dump-dom); nullopt when
// Chromium is absent, fails, or outlives bound. Virtual time stands still while a request is
// pending, so a server that never answers keeps Chromium waiting in real time until bound.
std::optional<std::string> renderedDom(const std::string& url, std::chrono::seconds bound);

}  // namespace lbmail::test
