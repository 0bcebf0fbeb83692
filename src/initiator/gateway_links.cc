// Gateway links, MATERIAL and SEND frames, missing media and orphans.
#include "gateway_links.h"

#include <xxhash.h>

#include <algorithm>
#include <random>
#include <utility>

#include "lbmail/core/log.h"
#include "lbmail/core/units.h"
#include "lbmail/feedback/feedback_token.h"

namespace lbmail {
namespace {

constexpr int kRecipientIdBits = 40;
constexpr uint64_t kRecipientMask = (1ull << kRecipientIdBits) - 1;
constexpr uint64_t kAttemptMask = (1ull << (64 - kRecipientIdBits - 1)) - 1;  // 23 bits: ids stay below 2^63
constexpr uint64_t kMaxDeadlineMarginMs = 60000;

proto::GatewayLinkConfig linkConfig(const InitiatorConfig& c, const GatewayEndpoint& g, uint64_t instance) {
  proto::GatewayLinkConfig l;
  l.gateway = g.address;
  l.link.node_name = c.service.node_name;
  l.link.instance = instance;
  // RESULTs say how each message travelled and what its reply means for the route; the gateways
  // report the sites they shape (issue 20); they send bounces, complaints and unsubscribes
  // (FEEDBACK, issue 21); RESULTs carry the gateway's queue for the learning policies (issue 22).
  l.link.capabilities = proto::kCapabilityResultTls | proto::kCapabilityShaping | proto::kCapabilityFeedback |
                        proto::kCapabilityLoad;
  return l;
}

}  // namespace

uint64_t GatewayLinks::requestId(uint64_t attempt, uint64_t recipient_id) {
  return ((attempt & kAttemptMask) << kRecipientIdBits) | (recipient_id & kRecipientMask);
}

uint64_t GatewayLinks::recipientOf(uint64_t request_id) { return request_id & kRecipientMask; }

uint64_t GatewayLinks::messageKey(uint64_t salt, uint64_t recipient_id) {
  return XXH3_64bits_withSeed(&recipient_id, sizeof recipient_id, salt) | 1;
}

uint32_t GatewayLinks::deadlineMs(uint64_t result_timeout_ms) {
  uint64_t deadline = result_timeout_ms - std::min(result_timeout_ms / 2, kMaxDeadlineMarginMs);
  return static_cast<uint32_t>(std::clamp<uint64_t>(deadline, 1, UINT32_MAX));
}

GatewayLinks::GatewayLinks(uv_loop_t* loop, const InitiatorConfig& config, Listener& listener)
    : loop_(loop), config_(config), campaign_(config.campaign), listener_(listener), slots_(config.gateways.size()) {
  for (size_t i = 0; i < slots_.size(); ++i) {
    slots_[i].endpoint = config.gateways[i];
    slots_[i].missing_media.assign(campaign_.materials.size(), false);
  }
}

GatewayLinks::~GatewayLinks() = default;

bool GatewayLinks::loadKeys() {
  for (Slot& s : slots_) {
    auto security = proto::LinkSecurity::load(proto::Role::kInitiator, s.endpoint.credentials, s.endpoint.name);
    if (!security) {
      logError("campaign.key_failed", {{"gateway", s.endpoint.name}, {"error", security.error()}});
      return false;
    }
    s.security = std::move(*security);
  }
  const InitiatorFeedback& f = config_.feedback;
  if (!f.enabled()) return true;
  auto key = feedback::FeedbackKey::load(f.key_file, f.key_id);
  if (!key) {
    logError("campaign.feedback_key_failed", {{"error", key.error()}});
    return false;
  }
  feedback_key_ = std::move(*key);
  return true;
}

void GatewayLinks::connect(uint64_t instance, uint32_t campaign_number) {
  instance_ = instance;
  campaign_number_ = campaign_number;
  next_attempt_ = std::random_device()();
  for (Slot& s : slots_) {
    s.link = std::make_unique<proto::GatewayLink>(loop_, linkConfig(config_, s.endpoint, instance), *s.security,
                                                  static_cast<proto::GatewayLink::Handler&>(*this));
    s.link->start();
  }
}

void GatewayLinks::stop(std::function<void()> done) {
  auto remaining = std::make_shared<size_t>(slots_.size());
  if (slots_.empty()) return done();
  for (Slot& s : slots_) {
    s.link->stop([remaining, done] {
      if (--*remaining == 0) done();
    });
  }
}

std::vector<std::string> GatewayLinks::names() const {
  std::vector<std::string> names;
  for (const Slot& s : slots_) names.push_back(s.endpoint.name);
  return names;
}

void GatewayLinks::markMediaMissing(size_t g, size_t material, std::string_view text) {
  if (!slots_[g].missing_media[material]) {
    logWarn("campaign.media_missing",
            {{"gateway", slots_[g].endpoint.name}, {"material", campaign_.materials[material].name}, {"text", text}});
  }
  slots_[g].missing_media[material] = true;
}

proto::SendFrame GatewayLinks::sendFrame(PendingRecipient& p, std::vector<proto::MergeField>& fields) {
  proto::SendFrame send;
  fields.clear();
  fields.reserve(p.values.size() + 2);
  for (size_t i = 0; i < p.values.size(); ++i) {
    if (p.values[i]) fields.push_back({campaign_.merge_fields[i].first, *p.values[i]});
  }
  send.request_id = requestId(next_attempt_++, p.id);
  send.message_key = messageKey(instance_, p.id);
  send.deadline_ms = deadlineMs(toMillis(campaign_.result_timeout));
  send.sender = campaign_.sender;
  if (feedback_key_) {
    mintTokens(p);
    if (campaign_.verp) send.sender = verp_sender_;
    if (config_.feedback.unsubscribeFields()) {
      fields.push_back({kUnsubscribeTokenField, p.unsubscribe_token});
      fields.push_back({kUnsubscribeUrlField, unsubscribe_url_});
    }
  }
  send.recipient = p.email;
  send.material_id = static_cast<uint64_t>(p.material) + 1;
  send.fields = proto::MergeFields(fields);
  return send;
}

void GatewayLinks::mintTokens(PendingRecipient& p) {
  const InitiatorFeedback& f = config_.feedback;
  feedback::TokenFields t;
  t.campaign = campaign_number_;
  t.recipient = p.id;
  t.day = feedback::dayOf(unixNowMs());
  if (campaign_.verp) {
    t.purpose = feedback::TokenPurpose::kBounce;
    t.attempt = static_cast<uint8_t>(std::min<uint32_t>(p.attempts + 1, 255));
    verp_sender_.assign(f.bounce_local).push_back('+');
    feedback::appendToken(*feedback_key_, t, verp_sender_);
    verp_sender_.append("@").append(f.bounce_domain);
  }
  if (f.unsubscribeFields()) {
    if (p.unsubscribe_token.empty()) {
      t.purpose = feedback::TokenPurpose::kUnsubscribe;
      t.attempt = 0;
      feedback::appendToken(*feedback_key_, t, p.unsubscribe_token);
    }
    unsubscribe_url_.assign(f.unsubscribe_url).push_back('/');
    unsubscribe_url_.append(p.unsubscribe_token);
  }
}

bool GatewayLinks::ackFeedback(size_t g, uint64_t sequence) {
  proto::GatewayLink* link = slots_[g].link.get();
  if (!link || !link->isUp()) return false;
  link->send(proto::FeedbackAckFrame{sequence});
  return true;
}

bool GatewayLinks::probe(size_t g, uint64_t token) {
  proto::GatewayLink* link = slots_[g].link.get();
  if (!link || !(link->peerCapabilities() & proto::kCapabilityLoad)) return false;
  return link->send(proto::ProbeFrame{token});
}

void GatewayLinks::sendMaterials(Slot& slot) {
  std::string field_names;
  for (const auto& [field, attribute] : campaign_.merge_fields) {
    if (!field_names.empty()) field_names += ',';
    field_names += field;
  }
  if (config_.feedback.unsubscribeFields()) {
    for (const char* field : {kUnsubscribeTokenField, kUnsubscribeUrlField}) {
      if (!field_names.empty()) field_names += ',';
      field_names += field;
    }
  }
  for (size_t i = 0; i < campaign_.materials.size(); ++i) {
    const CampaignMaterial& m = campaign_.materials[i];
    proto::MaterialFrame f;
    f.material_id = i + 1;
    using Kind = proto::MaterialPartKind;
    f.parts.push_back({Kind::kFrom, m.from});
    if (!m.reply_to.empty()) f.parts.push_back({Kind::kReplyTo, m.reply_to});
    if (!m.subject.empty()) f.parts.push_back({Kind::kSubject, m.subject});
    if (!m.text.empty()) f.parts.push_back({Kind::kText, m.text});
    if (!m.html.empty()) f.parts.push_back({Kind::kHtml, m.html});
    if (!m.list_unsubscribe.empty()) f.parts.push_back({Kind::kListUnsubscribe, m.list_unsubscribe});
    // Only when set: a gateway older than kinds 8 and 9 refuses them (docs/protocol.md).
    if (!m.list_id.empty()) f.parts.push_back({Kind::kListId, m.list_id});
    if (!m.feedback_id.empty()) f.parts.push_back({Kind::kFeedbackId, m.feedback_id});
    if (!field_names.empty()) f.parts.push_back({Kind::kFields, field_names});
    for (const CampaignMaterial::Media& media : m.media) {
      proto::MediaRef ref;
      std::copy(media.hash.begin(), media.hash.end(), ref.hash.begin());
      ref.disposition = media.is_inline ? proto::MediaDisposition::kInline : proto::MediaDisposition::kAttachment;
      ref.name = media.name;
      f.media.push_back(ref);
    }
    slot.link->send(f);
  }
}

void GatewayLinks::orphan(size_t g, std::vector<uint64_t> request_ids, uint64_t due_ms) {
  Slot& s = slots_[g];
  s.orphans.insert(s.orphans.end(), request_ids.begin(), request_ids.end());
  s.orphans_due_ms = due_ms;
}

std::vector<uint64_t> GatewayLinks::takeDueOrphans(size_t g, uint64_t now_ms) {
  Slot& s = slots_[g];
  if (s.orphans.empty() || now_ms < s.orphans_due_ms) return {};
  return std::exchange(s.orphans, {});
}

uint64_t GatewayLinks::bytesSent() const {
  uint64_t n = 0;
  for (const Slot& s : slots_) n += s.link ? s.link->bytesSent() : 0;
  return n;
}

uint64_t GatewayLinks::bytesReceived() const {
  uint64_t n = 0;
  for (const Slot& s : slots_) n += s.link ? s.link->bytesReceived() : 0;
  return n;
}

size_t GatewayLinks::slotOf(const proto::GatewayLink& link) const {
  for (size_t i = 0; i < slots_.size(); ++i) {
    if (slots_[i].link.get() == &link) return i;
  }
  return 0;
}

void GatewayLinks::onGatewayUp(proto::GatewayLink& link) {
  size_t g = slotOf(link);
  Slot& slot = slots_[g];
  // A gateway that comes back may have a new media cache: ask it again.
  slot.missing_media.assign(campaign_.materials.size(), false);
  ++slot.ups;
  sendMaterials(slot);
  logInfo("campaign.gateway_up", {{"gateway", slot.endpoint.name}, {"peer", link.gatewayName()}});
  listener_.onLinkUp(g);
}

void GatewayLinks::onGatewayFrame(proto::GatewayLink& link, const proto::Frame& frame) {
  listener_.onLinkFrame(slotOf(link), frame);
}

void GatewayLinks::onGatewayDown(proto::GatewayLink& link, std::string_view reason) {
  listener_.onLinkDown(slotOf(link), reason);
}

void GatewayLinks::onGatewayFailed(proto::GatewayLink& link, std::string_view) { listener_.onLinkFailed(slotOf(link)); }

}  // namespace lbmail
