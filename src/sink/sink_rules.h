// The sink's behaviour rules: per client address and recipient domain, the latency, failures
// and push-back a receiver shows, possibly changing at set times since start.
#pragma once

#include <cstdint>
#include <optional>
#include <random>
#include <string>
#include <string_view>
#include <vector>

#include "lbmail/core/units.h"

namespace lbmail {

// A reply delay: fixed ("20ms"), uniform in a range ("10ms..30ms") or exponential with a
// mean ("exp:20ms"). Every duration in a spec is at most kMax.
class LatencySpec {
 public:
  static constexpr Duration kMax = std::chrono::hours(24);

  static std::optional<LatencySpec> parse(std::string_view text);
  Duration draw(std::mt19937_64& rng) const;
  bool isZero() const { return kind_ == Kind::kFixed && low_.count() == 0; }

 private:
  enum class Kind { kFixed, kUniform, kExponential };
  Kind kind_ = Kind::kFixed;
  Duration low_{0};
  Duration high_{0};
};

// A whole reply line a rule gives instead of the built-in one: "554 5.7.1 Client host [127.0.0.5]
// blocked using zen.spamhaus.org". The enhanced code (RFC 3463) is optional; its class must be
// the code's first digit.
struct SinkReply {
  int code = 0;
  std::string enhanced;
  std::string text;

  // The line, or nothing when it has a CR or LF, its code is not of klass (4 or 5) hundred, or
  // an enhanced code of another class.
  static std::optional<SinkReply> parse(std::string_view line, int klass);
};

struct SinkRule {
  std::string client;  // exact IP address; empty matches any
  std::string domain;  // exact domain, or ".example.com" for it and its subdomains; empty: any
  Duration after{0};   // in force from this long after the sink started
  LatencySpec greeting_latency;
  LatencySpec reply_latency;  // each batch of replies to commands
  LatencySpec data_latency;   // the reply to end of data
  double defer_rcpt = 0;      // probabilities, 0..1
  double bounce_rcpt = 0;
  double defer_data = 0;
  double bounce_data = 0;
  double drop_in_data = 0;    // close the connection mid-DATA without a reply
  uint32_t max_messages_per_connection = 0;  // then 421; 0 = no limit
  double max_message_rate = 0;               // messages per second per client address; 0 = no limit
  uint32_t max_connections_per_client = 0;   // extra connections get 421; 0 = no limit
  // bounce_rcpt's reply, and the reply to a MAIL over max_message_rate (none: the built-in
  // 421 4.7.0; a 421 closes the connection, another 4xx leaves it open).
  SinkReply bounce_reply{550, "5.1.1", "Recipient address rejected: user unknown"};
  std::optional<SinkReply> rate_reply;
};

class SinkRules {
 public:
  SinkRules() = default;
  explicit SinkRules(std::vector<SinkRule> rules) : rules_(std::move(rules)) {}

  // The first rule in force at `elapsed` that matches; a rule with a domain matches only when
  // a domain is given. Without any match, the all-default rule (accept everything at once).
  const SinkRule& match(std::string_view client, std::string_view domain, Duration elapsed) const;
  size_t size() const { return rules_.size(); }

  static bool domainMatches(std::string_view pattern, std::string_view domain);

 private:
  std::vector<SinkRule> rules_;
  SinkRule default_;
};

}  // namespace lbmail
