// What one campaign run of the simulation measured, read back from the recipient database and
// the run's accounting file once the initiator has exited.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "sim_world.h"

namespace lbmail {

struct RunStats {
  std::string name;       // the campaign name: the policy, "oracle" or "ewma-shift"
  std::string policy;     // as the initiator ran it
  bool finished = false;  // the initiator exited 0 in time
  uint64_t recipients = 0;
  uint64_t finals = 0;  // recipients with one final state (must equal recipients)
  uint64_t delivered = 0, bounced = 0, failed = 0, deferrals = 0;
  double seconds = 0;  // initiator start to exit
  double msgs_per_second = 0;
  double mb_per_second = 0;                                // SMTP octets the gateways delivered
  double mean_ms = 0, p50_ms = 0, p90_ms = 0, p99_ms = 0;  // delivered: SEND to RESULT
  struct Gateway {
    std::string name;
    uint64_t delivered = 0;
    double mean_ms = 0;
  };
  std::vector<Gateway> gateways;
  std::vector<std::vector<uint64_t>> group_share;  // [group][gateway]: deliveries
  uint64_t link_bytes = 0;                         // both directions, every gateway
  uint64_t smtp_bytes = 0;
  // The shift run: the share of group 0's deliveries on the new best gateway, per half second
  // after the shift, and the seconds until it passed one half (-1: never).
  std::vector<double> shift_share;
  double shift_seconds = -1;

  // The scenarios (sim_scenario.h).
  std::string scenario = "default";
  bool capped = true;        // warmup: false for the comparison run without the cap
  double started_unix = 0;   // when the sinks started: second 0 of the series below
  // [group][second][gateway]: deliveries per second since the sinks started.
  std::vector<std::vector<std::vector<uint32_t>>> share_over_time;
  // What each group's sink saw from each gateway's source (its sink.client_totals line).
  struct SinkClient {
    uint64_t mails = 0, accepted = 0, refused_421 = 0, refused_other = 0;
    std::vector<uint32_t> mails_per_second, refused_421_per_second;
  };
  std::vector<std::vector<SinkClient>> sink;  // [group][gateway]
  // Recipients refused for policy (a 5.7.x reply in their history) and how they ended.
  struct Refused {
    uint64_t recipients = 0, replies = 0;
    uint64_t delivered_elsewhere = 0, delivered_same = 0, bounced = 0, failed = 0, deferred = 0;
    uint64_t bounced_mailbox = 0;  // then bounced elsewhere for the address itself (5.1.1): not lost
  };
  Refused refused;
};

// The accounting file: "2026-12-02T07:28:19.161Z" to Unix seconds; a line's fields (no field
// of the sim's worlds is quoted).
double parseAccountingTime(const std::string& s);
std::vector<std::string> accountingFields(const std::string& line);

// The scenarios' numbers from the accounting file: deliveries per group, second and gateway,
// and the recipients refused for policy (scenario_stats.cc).
void readScenarioAccounting(const SimWorld& world, const SimSettings& settings, RunStats& stats);

// Adds one sink's per-client totals (its log's sink.client_totals lines) as group's.
void readSinkTotals(const SimWorld& world, const std::string& log, uint32_t group, RunStats& stats);

// Fills stats from the database and accounting file (blocking: off the loop).
// shift_at: Unix time of the shift in this run, 0 for none.
std::string analyseRun(const SimWorld& world, const SimSettings& settings, RunStats& stats, double shift_at);

}  // namespace lbmail
