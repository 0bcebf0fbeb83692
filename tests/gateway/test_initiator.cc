// The test initiator: requests out within credit, answers in.
#include "test_initiator.h"

#include <gtest/gtest.h>

#include "lbmail/proto/frame_codec.h"

namespace lbmail::test {
namespace {


proto::GatewayLinkConfig linkConfig(const SocketAddress& gateway, uint64_t instance, FeedbackMode feedback,
                                    LoadMode load) {
  proto::GatewayLinkConfig c;
  c.gateway = gateway;
  c.link.node_name = "test-initiator";
  c.link.instance = instance;
  c.link.capabilities = proto::kCapabilityResultTls | proto::kCapabilityShaping;  // as lbmail's initiator asks
  if (feedback != FeedbackMode::kNone) c.link.capabilities |= proto::kCapabilityFeedback;
  if (load != LoadMode::kNone) c.link.capabilities |= proto::kCapabilityLoad;
  return c;
}


std::unique_ptr<proto::LinkSecurity> securityFor(const GatewayProcess& gateway) {
  auto key = proto::PreSharedKey::loadFile(gateway.keyFile());
  EXPECT_TRUE(key) << key.error();
  return proto::LinkSecurity::fromKey(proto::Role::kInitiator, key ? *key : proto::PreSharedKey::fromBytes("unreadable key file"),
                                      gateway.name());
}

}  // namespace

TestInitiator::TestInitiator(uv_loop_t* loop, const GatewayProcess& gateway, std::vector<TestMaterial> materials,
                             std::vector<TestRequest> requests, uint64_t instance, FeedbackMode feedback,
                             LoadMode load)
    : security_(securityFor(gateway)),
      link_(loop, linkConfig(gateway.link(), instance, feedback, load), *security_, *this),
      feedback_mode_(feedback),
      load_mode_(load),
      materials_(std::move(materials)),
      requests_(std::move(requests)) {}

void TestInitiator::onGatewayUp(proto::GatewayLink& link) {
  for (const TestMaterial& m : materials_) {
    proto::MaterialFrame f;
    f.material_id = m.id;
    for (const auto& [kind, text] : m.parts) f.parts.push_back({kind, text});
    for (const auto& [hash, disposition, name] : m.media) f.media.push_back({hash, disposition, name});
    link.send(f);
  }
  pump();
}

void TestInitiator::pump() {
  std::vector<proto::MergeField> fields;
  while (next_ < requests_.size() && link_.credit() > 0) {
    const TestRequest& r = requests_[next_];
    fields.clear();
    for (const auto& [name, value] : r.fields) fields.push_back({name, value});
    proto::SendFrame s;
    s.request_id = r.id;
    s.sender = r.sender;
    s.recipient = r.recipient;
    s.material_id = r.material;
    s.fields = proto::MergeFields(fields);
    s.deadline_ms = r.deadline_ms;
    s.message_key = r.message_key;
    if (!link_.sendRequest(s)) break;
    BufferList sized;
    proto::encodeFrame(sized, s);
    bytes_sent_ += sized.size();
    ++next_;
  }
  // Behind the SENDs on the same stream: the gateway has taken them when it answers.
  if (load_mode_ == LoadMode::kProbeWithSends && next_ > 0 && !probed_) probed_ = link_.send(proto::ProbeFrame{next_});
}

void TestInitiator::onGatewayFrame(proto::GatewayLink&, const proto::Frame& frame) {
  BufferList sized;
  std::visit([&](const auto& f) { proto::encodeFrame(sized, f); }, frame);
  bytes_received_ += sized.size();
  if (const auto* r = std::get_if<proto::ResultFrame>(&frame)) {
    TestAnswer a;
    a.outcome = r->outcome;
    a.code = r->smtp_code;
    a.enhanced = r->enhanced_code;
    a.text = r->reply;
    a.mx_host = r->mx_host;
    a.timings = r->timings;
    a.has_tls = r->has_tls;
    a.tls_version = r->tls_version;
    a.tls_verified = r->tls_verified;
    a.tls_policy = r->tls_policy;
    a.has_shaping = r->has_shaping;
    a.reply_class = r->reply_class;
    a.site = r->site;
    a.has_load = r->has_load;
    a.queue = r->queue;
    record(r->request_id, std::move(a));
  } else if (const auto* j = std::get_if<proto::RejectFrame>(&frame)) {
    TestAnswer a;
    a.rejected = true;
    a.reason = j->reason;
    a.text = j->text;
    a.site = j->site;
    record(j->request_id, std::move(a));
  } else if (const auto* sites = std::get_if<proto::SitesFrame>(&frame)) {
    std::vector<TestSite> copy;
    for (const proto::SiteStatus& x : sites->sites) {
      copy.push_back({std::string(x.site), x.suspended_ms, x.rate_millis, x.queued, x.warmup_left});
    }
    std::lock_guard lock(mutex_);
    sites_.push_back(std::move(copy));
    changed_.notify_all();
  } else if (const auto* h = std::get_if<proto::HandoverFrame>(&frame)) {
    std::lock_guard lock(mutex_);
    if (handovers_.empty()) answers_before_handover_ = answer_count_;
    handovers_.push_back(*h);
  } else if (const auto* f = std::get_if<proto::FeedbackFrame>(&frame)) {
    std::lock_guard lock(mutex_);
    feedback_.push_back({f->sequence, f->kind, f->campaign, f->recipient, f->attempt, f->at_ms, std::string(f->status),
                         std::string(f->source), std::string(f->detail)});
    if (feedback_mode_ == FeedbackMode::kAcknowledge) {
      link_.send(proto::FeedbackAckFrame{f->sequence});
      acknowledged_.push_back(f->sequence);
    }
    changed_.notify_all();
  } else if (const auto* p = std::get_if<proto::ProbeReplyFrame>(&frame)) {
    std::lock_guard lock(mutex_);
    probe_replies_.push_back(*p);
    changed_.notify_all();
  } else if (const auto* c = std::get_if<proto::CatalogFrame>(&frame)) {
    std::lock_guard lock(mutex_);
    catalog_size_ = c->hashes.size();
    catalog_seen_ = true;
    changed_.notify_all();
  }
  pump();
}

void TestInitiator::onGatewayDown(proto::GatewayLink&, std::string_view) {}

void TestInitiator::record(uint64_t id, TestAnswer a) {
  std::lock_guard lock(mutex_);
  answers_[id].push_back(std::move(a));
  ++answer_count_;
  changed_.notify_all();
}

bool TestInitiator::waitForAnswers(size_t n, std::chrono::seconds bound) {
  std::unique_lock lock(mutex_);
  return changed_.wait_for(lock, bound, [&] { return answer_count_ >= n; });
}

bool TestInitiator::waitForCatalog(std::chrono::seconds bound) {
  std::unique_lock lock(mutex_);
  return changed_.wait_for(lock, bound, [&] { return catalog_seen_; });
}

std::vector<std::vector<TestSite>> TestInitiator::sites() {
  std::lock_guard lock(mutex_);
  return sites_;
}

std::map<uint64_t, std::vector<TestAnswer>> TestInitiator::answers() {
  std::lock_guard lock(mutex_);
  return answers_;
}

std::vector<proto::HandoverFrame> TestInitiator::handovers() {
  std::lock_guard lock(mutex_);
  return handovers_;
}

size_t TestInitiator::answersBeforeHandover() {
  std::lock_guard lock(mutex_);
  return answers_before_handover_;
}

bool TestInitiator::waitForFeedback(size_t n, std::chrono::seconds bound) {
  std::unique_lock lock(mutex_);
  return changed_.wait_for(lock, bound, [&] { return feedback_.size() >= n; });
}

std::vector<TestFeedback> TestInitiator::feedback() {
  std::lock_guard lock(mutex_);
  return feedback_;
}

std::vector<uint64_t> TestInitiator::acknowledged() {
  std::lock_guard lock(mutex_);
  return acknowledged_;
}

size_t TestInitiator::catalogSize() {
  std::lock_guard lock(mutex_);
  return catalog_size_;
}

bool TestInitiator::waitForProbeReplies(size_t n, std::chrono::seconds bound) {
  std::unique_lock lock(mutex_);
  return changed_.wait_for(lock, bound, [&] { return probe_replies_.size() >= n; });
}

std::vector<proto::ProbeReplyFrame> TestInitiator::probeReplies() {
  std::lock_guard lock(mutex_);
  return probe_replies_;
}

}  // namespace lbmail::test
