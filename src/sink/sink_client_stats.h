// Per client address: the MAIL commands the sink saw and the limit replies (421 and other 4xx) it
// gave, second by second since start, so that a simulation can tell push-back before and after
// the senders adapted. Written to the log once, when the sink stops.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace lbmail {

class SinkClientStats {
 public:
  // Bounds: the series of a sink running longer fold into their last second, and clients
  // beyond kMaxClients into "other".
  static constexpr size_t kMaxClients = 1000;
  static constexpr size_t kMaxSeconds = 3600;

  void mail(const std::string& client, uint64_t second);
  void accepted(const std::string& client) { ++of(client).accepted_total; }
  // A limit reply to client: max_message_rate, max_messages_per_connection or
  // max_connections_per_client.
  void limited(const std::string& client, int code, uint64_t second);
  // One sink.client_totals line per client: totals, and mails / 421s per second.
  void log() const;

 private:
  struct Series {
    std::vector<uint32_t> mails, refused_421;
    uint64_t mails_total = 0, accepted_total = 0, refused_421_total = 0, refused_other_total = 0;
  };
  Series& of(const std::string& client);
  static void add(std::vector<uint32_t>& series, uint64_t second);
  static std::string joined(const std::vector<uint32_t>& series);

  std::map<std::string, Series> clients_;
};

}  // namespace lbmail
