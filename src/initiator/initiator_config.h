// The initiator's configuration: the campaign (database, sender, materials, targeting, merge
// fields, retries, output), gateway selection, per-domain rate limits and the gateways.
// Materials are checked when the file is loaded: their templates compile against the merge
// fields and their media resolve to hashes through the media manifest the gateways share.
#pragma once

#include <string>
#include <utility>
#include <vector>

#include "initiator_feedback.h"
#include "lbmail/routing/gateway_selector.h"
#include "lbmail/core/service_config.h"
#include "lbmail/media/media_hash.h"
#include "lbmail/proto/link_credentials.h"
#include "targeting.h"

namespace lbmail {

struct CampaignMaterial {
  std::string name;
  std::string from;
  std::string reply_to;
  std::string subject;
  std::string text;
  std::string html;
  std::string list_unsubscribe;
  std::string list_id;      // the List-Id header (RFC 2919), the same in every message
  std::string feedback_id;  // the Feedback-ID header (Gmail's feedback loop)
  struct Media {
    media::MediaHash hash{};
    bool is_inline = false;
    std::string name;  // attachment: the file name shown; inline: the Content-ID
  };
  std::vector<Media> media;
};

struct GatewayEndpoint {
  std::string name;  // the gateway's [node] name: bound into the link's TLS handshake
  SocketAddress address;
  proto::LinkCredentials credentials;
};

struct DomainRate {
  std::string domain;
  double per_second = 0;
};

struct CampaignSettings {
  std::string name = "campaign";
  std::string database;  // required
  std::string sender;    // the envelope sender (return path), required
  std::string accounting_file;
  std::vector<CampaignMaterial> materials;
  Targeting targeting;
  // Template field name → recipient attribute; every material may use these fields.
  std::vector<std::pair<std::string, std::string>> merge_fields;
  // The wait before each retry of a deferred recipient; the last one repeats.
  std::vector<Duration> retry_schedule = {std::chrono::minutes(1), std::chrono::minutes(5), std::chrono::minutes(15),
                                          std::chrono::hours(1)};
  uint32_t max_attempts = 10;
  Duration max_age = std::chrono::hours(48);  // from the first attempt; then a deferral fails
  Duration failover_grace = std::chrono::seconds(5);
  Duration result_timeout = std::chrono::minutes(10);
  bool exit_when_done = true;
  Duration progress_interval = std::chrono::seconds(10);
  uint32_t batch_size = 1000;  // state changes per transaction at most
  Duration batch_interval = std::chrono::milliseconds(200);
  // durability = "full" (true): each ledger commit is on disk before it counts (SQLite
  // synchronous=FULL); "normal": a power loss may roll back the last batches, whose recipients
  // are then sent again.
  bool durable_commits = true;
  // VERP return paths (<bounce_local>+<token>@<bounce_domain>): on by default when [feedback]
  // has a bounce_domain; false keeps the plain sender.
  bool verp = false;
};

struct SelectionConfig {
  SelectorSettings selector;
  Duration half_life = std::chrono::minutes(5);
  Duration slow_sample = std::chrono::seconds(30);  // a deferral or failure counts as at least this
};

struct RateLimits {
  double per_domain = 0;  // messages per second to any one domain across all gateways; 0: none
  std::vector<DomainRate> domains;
};

struct InitiatorConfig {
  ServiceConfig service;
  CampaignSettings campaign;
  InitiatorFeedback feedback;
  SelectionConfig selection;
  RateLimits rate_limit;
  std::vector<GatewayEndpoint> gateways;
};

Expected<InitiatorConfig, std::string> loadInitiatorConfig(const std::string& file);

}  // namespace lbmail
