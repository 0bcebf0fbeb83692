// A DNS server in the test, on its own thread and a free loopback UDP port, that answers each
// query with whatever the test's script makes of it (nothing, to play a dead server).
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <mutex>
#include <span>
#include <string>
#include <thread>
#include <vector>

#include "lbmail/core/socket_address.h"

namespace lbmail::dns::test {

class ScriptedDnsServer {
 public:
  // Returns the reply to send, or nothing to stay silent.
  using Script = std::function<std::vector<uint8_t>(std::span<const uint8_t> query)>;

  explicit ScriptedDnsServer(Script script);
  ~ScriptedDnsServer();
  ScriptedDnsServer(const ScriptedDnsServer&) = delete;
  ScriptedDnsServer& operator=(const ScriptedDnsServer&) = delete;

  SocketAddress address() const;
  // Waits (up to a safety bound) until n queries have arrived; returns how many did.
  size_t waitForQueries(size_t n, std::chrono::seconds bound = std::chrono::seconds(20));

  // The query's header and question turned into a response with this rcode and no records.
  static std::vector<uint8_t> replyWithRcode(std::span<const uint8_t> query, uint8_t rcode);
  // The query's header and question followed by `tail` as the answer section of `count`
  // records; the query's AD bit is cleared unless `authenticated` (RFC 4035 section 3.2.3).
  static std::vector<uint8_t> replyWithAnswer(std::span<const uint8_t> query, const std::vector<uint8_t>& tail,
                                              uint16_t count = 1, bool authenticated = false);
  // The QTYPE of the query's first question; 0 when the query is too short to have one.
  static uint16_t questionType(std::span<const uint8_t> query);
  // The QNAME of the query's first question, dotted, as sent.
  static std::string questionName(std::span<const uint8_t> query);

 private:
  void serve();

  Script script_;
  int fd_ = -1;
  uint16_t port_ = 0;
  std::atomic<bool> stop_{false};
  std::mutex mutex_;
  std::condition_variable arrived_;
  size_t received_ = 0;
  std::thread thread_;
};

}  // namespace lbmail::dns::test
