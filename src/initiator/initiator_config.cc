// Reading the initiator's configuration.
#include "initiator_config.h"

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>

#include "lbmail/core/config_path.h"
#include "lbmail/core/mailbox.h"
#include "lbmail/media/list_headers.h"
#include "lbmail/media/material.h"
#include "lbmail/media/media_manifest.h"
#include "lbmail/media/message_template.h"
#include "lbmail/proto/frames.h"
#include "recipient_import.h"

namespace lbmail {
namespace {

using namespace std::chrono_literals;

constexpr size_t kMaxTemplateBytes = 1 << 20;
constexpr size_t kMaxMaterialBytes = 960 << 10;

std::string readTemplateFile(ConfigTable& t, std::string_view key, const std::string& path) {
  // A regular file only (not /dev/zero, not a FIFO that never ends), read to its bound.
  std::error_code ec;
  if (!std::filesystem::is_regular_file(path, ec)) t.fail(key, "a readable regular file (" + path + ")");
  std::ifstream in(path, std::ios::binary);
  if (!in) t.fail(key, "a readable file (" + path + ")");
  std::string text(kMaxTemplateBytes + 1, '\0');
  in.read(text.data(), static_cast<std::streamsize>(text.size()));
  text.resize(static_cast<size_t>(in.gcount()));
  if (text.size() > kMaxTemplateBytes) t.fail(key, "a template of at most 1 MiB (" + path + ")");
  return text;
}

// A material goes to the gateways in one MATERIAL frame, which must fit the link's 1 MiB.
void checkMaterialSize(ConfigTable& t, const CampaignMaterial& m) {
  size_t bytes = m.from.size() + m.reply_to.size() + m.subject.size() + m.text.size() + m.html.size() +
                 m.list_unsubscribe.size() + m.list_id.size() + m.feedback_id.size();
  for (const CampaignMaterial::Media& media : m.media) bytes += media.name.size() + 32;
  if (bytes > kMaxMaterialBytes) t.fail("text", "a material of at most 960 KiB in all (it is sent in one frame)");
  if (m.media.size() > proto::kMaxMaterialMedia) t.fail("attachments", "at most 4096 media");
  for (const CampaignMaterial::Media& media : m.media) {
    if (media.name.size() > proto::kMaxNameBytes) t.fail("inline", "file names and Content-IDs of at most 255 bytes");
  }
}

// A part given inline (`text = "..."`) or by file (`text_file = "..."`), not both.
std::string templatePart(ConfigTable& t, const std::string& config_file, const std::string& key) {
  std::optional<std::string> inline_text = t.optionalString(key);
  std::optional<std::string> file = t.optionalString(key + "_file");
  if (inline_text && file) t.fail(key + "_file", "either " + key + " or " + key + "_file, not both");
  if (file) return readTemplateFile(t, key + "_file", resolveConfigPath(config_file, *file));
  return inline_text.value_or("");
}

void checkTemplate(ConfigTable& t, std::string_view key, const std::string& text, const media::FieldTable& fields) {
  auto compiled = media::MessageTemplate::compile(text, fields);
  if (!compiled) t.fail(key, "a template using only [campaign.merge_fields] and email (" + compiled.error() + ")");
}

// A gateway refuses a bad List-Id or Feedback-ID when it defines the material, which would fail
// every recipient of it: the same checks at load, where --check-config sees them.
void checkListHeaders(ConfigTable& t, const CampaignMaterial& m) {
  if (auto ok = media::formatListHeaders(m.list_id, ""); !ok)
    t.fail("list_id", "\"Name <id.domain>\" or \"<id.domain>\" (" + ok.error() + ")");
  if (auto ok = media::formatListHeaders("", m.feedback_id); !ok)
    t.fail("feedback_id", "\"a:b:c:SenderId\" (" + ok.error() + ")");
}

// The address in "Name <addr>" or the whole text.
std::string_view angleAddress(std::string_view s) {
  size_t open = s.rfind('<');
  size_t close = s.rfind('>');
  if (open != std::string_view::npos && close != std::string_view::npos && close > open) {
    return s.substr(open + 1, close - open - 1);
  }
  return s;
}

// A gateway refuses an HTML body whose cid: has no inline image when the material is defined,
// which would fail every recipient of it: say so at load, where --check-config sees it.
void checkInlineImages(ConfigTable& t, const CampaignMaterial& m) {
  for (const std::string& cid : media::Material::cidReferences(m.html)) {
    bool found = std::any_of(m.media.begin(), m.media.end(),
                             [&](const CampaignMaterial::Media& i) { return i.is_inline && i.name == cid; });
    if (!found) {
      t.fail("inline", "an inline image for each cid: of the HTML (material '" + m.name + "' refers to cid:" + cid +
                           ": add inline = [{ file = \"...\", cid = \"" + cid + "\" }])");
    }
  }
}

class MaterialReader {
 public:
  MaterialReader(const std::string& config_file, std::string media_dir, const media::FieldTable& fields,
                 std::string default_list_unsubscribe)
      : config_file_(config_file),
        media_dir_(std::move(media_dir)),
        fields_(fields),
        default_list_unsubscribe_(std::move(default_list_unsubscribe)) {}

  CampaignMaterial read(ConfigTable& t) {
    CampaignMaterial m;
    m.name = t.string("name", "");
    if (m.name.empty()) t.fail("name", "a name for the material (targeting rules refer to it)");
    m.from = t.string("from", "");
    if (m.from.empty() || !validMailbox(angleAddress(m.from))) t.fail("from", "\"Name <address>\" or an address");
    m.reply_to = t.string("reply_to", "");
    if (!m.reply_to.empty() && !validMailbox(angleAddress(m.reply_to))) {
      t.fail("reply_to", "\"Name <address>\" or an address");
    }
    m.subject = t.string("subject", "");
    m.text = templatePart(t, config_file_, "text");
    m.html = templatePart(t, config_file_, "html");
    if (m.text.empty() && m.html.empty()) t.fail("text", "a text or html body (or both)");
    m.list_unsubscribe = t.string("list_unsubscribe", default_list_unsubscribe_);
    m.list_id = t.string("list_id", "");
    m.feedback_id = t.string("feedback_id", "");
    checkListHeaders(t, m);
    checkTemplate(t, "subject", m.subject, fields_);
    checkTemplate(t, "text", m.text, fields_);
    checkTemplate(t, "html", m.html, fields_);
    checkTemplate(t, "list_unsubscribe", m.list_unsubscribe, fields_);
    for (const std::string& file : t.stringArray("attachments")) {
      size_t slash = file.rfind('/');
      m.media.push_back(
          {hashOf(t, "attachments", file), false, slash == std::string::npos ? file : file.substr(slash + 1)});
    }
    for (ConfigTable& i : t.tableArray("inline")) {
      std::string file = i.string("file", "");
      std::string cid = i.string("cid", "");
      if (file.empty() || cid.empty()) i.fail("cid", "an inline image as { file = \"logo.png\", cid = \"logo\" }");
      m.media.push_back({hashOf(i, "file", file), true, cid});
    }
    checkMaterialSize(t, m);
    checkInlineImages(t, m);
    return m;
  }

 private:
  media::MediaHash hashOf(ConfigTable& t, std::string_view key, const std::string& file) {
    if (media_dir_.empty()) t.fail(key, "media named in the manifest of [campaign] media (which is not set)");
    if (!manifest_) {
      auto entries = media::readManifest(media_dir_);
      if (!entries) t.fail(key, "media from a readable manifest (" + entries.error() + ")");
      manifest_.emplace();
      for (const media::ManifestEntry& e : *entries) (*manifest_)[e.name] = e.hash;
    }
    auto it = manifest_->find(file);
    if (it == manifest_->end()) {
      t.fail(key,
             "file names listed in " + media_dir_ + "/manifest.tsv ('" + file + "' is not: run lbmail media build)");
    }
    return it->second;
  }

  const std::string& config_file_;
  std::string media_dir_;
  const media::FieldTable& fields_;
  std::string default_list_unsubscribe_;
  std::optional<std::map<std::string, media::MediaHash>> manifest_;
};

ConditionOp readCondition(ConfigTable& c, Condition& out) {
  static const std::pair<const char*, ConditionOp> kOps[] = {
      {"equals", ConditionOp::kEquals}, {"not_equals", ConditionOp::kNotEquals},
      {"one_of", ConditionOp::kOneOf},  {"contains", ConditionOp::kContains},
      {"lt", ConditionOp::kLess},       {"le", ConditionOp::kLessEqual},
      {"gt", ConditionOp::kGreater},    {"ge", ConditionOp::kGreaterEqual},
      {"exists", ConditionOp::kExists}};
  const char* kExpected =
      "a condition such as { field = \"tier\", equals = \"gold\" } with one operator of: "
      "equals, not_equals, one_of, contains, lt, le, gt, ge, exists";
  out.field = c.string("field", "");
  if (out.field.empty()) c.fail("field", kExpected);
  int found = 0;
  for (const auto& [key, op] : kOps) {
    if (!c.has(key)) continue;
    ++found;
    out.op = op;
    switch (op) {
      case ConditionOp::kOneOf:
        out.values = c.stringArray(key);
        if (out.values.empty()) c.fail(key, "a non-empty array of strings");
        break;
      case ConditionOp::kLess:
      case ConditionOp::kLessEqual:
      case ConditionOp::kGreater:
      case ConditionOp::kGreaterEqual: out.number = c.real(key, 0, -1e300, 1e300); break;
      case ConditionOp::kExists: out.exists = c.boolean(key, true); break;
      default: out.values = {c.string(key, "")}; break;
    }
  }
  if (found != 1) c.fail("field", kExpected);
  return out.op;
}

int materialIndex(ConfigTable& t, std::string_view key, const std::string& name,
                  const std::vector<CampaignMaterial>& materials) {
  for (size_t i = 0; i < materials.size(); ++i) {
    if (materials[i].name == name) return static_cast<int>(i);
  }
  t.fail(key, "the name of a [[campaign.material]]");
}

Targeting readTargeting(ConfigTable& campaign, const std::vector<CampaignMaterial>& materials) {
  std::vector<TargetingRule> rules;
  for (ConfigTable& r : campaign.tableArray("target")) {
    TargetingRule rule;
    rule.material = static_cast<size_t>(materialIndex(r, "material", r.string("material", ""), materials));
    for (ConfigTable& c : r.tableArray("all")) readCondition(c, rule.all.emplace_back());
    for (ConfigTable& c : r.tableArray("any")) readCondition(c, rule.any.emplace_back());
    if (rule.all.empty() && rule.any.empty()) r.fail("all", "conditions in all = [...] or any = [...] (or both)");
    rules.push_back(std::move(rule));
  }
  int fallback = -1;
  std::string name = campaign.string("default_material", "");
  if (!name.empty()) fallback = materialIndex(campaign, "default_material", name, materials);
  // Without rules, one material is everyone's.
  if (rules.empty() && fallback < 0 && materials.size() == 1) fallback = 0;
  if (rules.empty() && fallback < 0)
    campaign.fail("default_material", "a default when no [[campaign.target]] rule is set");
  return Targeting(std::move(rules), fallback);
}

std::vector<Duration> readSchedule(ConfigTable& t, const std::vector<Duration>& fallback) {
  if (!t.has("retry_schedule")) {
    t.stringArray("retry_schedule");
    return fallback;
  }
  std::vector<Duration> out;
  for (const std::string& s : t.stringArray("retry_schedule")) {
    std::optional<Duration> d = parseDuration(s);
    if (!d || *d < 1ms) t.fail("retry_schedule", "an array of durations such as [\"1m\", \"5m\", \"1h\"]");
    out.push_back(*d);
  }
  if (out.empty()) t.fail("retry_schedule", "at least one duration");
  return out;
}

// The fields the initiator fills itself (unsubscribe_token, unsubscribe_url) come after the
// campaign's own, in the same order GatewayLinks sends them.
void declareFeedbackFields(ConfigTable& t, const InitiatorFeedback& feedback, media::FieldTable& fields) {
  if (!feedback.unsubscribeFields()) return;
  for (const char* name : {kUnsubscribeTokenField, kUnsubscribeUrlField}) {
    if (fields.declare(name)) {
      t.fail("merge_fields", std::string("no field named ") + name + " ([feedback] unsubscribe_url fills it)");
    }
  }
}

CampaignSettings readCampaign(ConfigTable t, const std::string& config_file, const InitiatorFeedback& feedback) {
  CampaignSettings c;
  c.name = t.string("name", c.name);
  if (c.name.empty() || c.name.size() > 64) t.fail("name", "a campaign name of 1 to 64 characters");
  std::optional<std::string> db = t.optionalString("database");
  if (!db || db->empty()) t.fail("database", "the recipient database's path (required; lbmail import makes it)");
  c.database = resolveConfigPath(config_file, *db);
  c.sender = t.string("sender", "");
  if (!validMailbox(c.sender)) t.fail("sender", "the envelope sender address (required)");
  std::string accounting = t.string("accounting_file", "");
  c.accounting_file = resolveConfigPath(config_file, accounting);

  media::FieldTable fields;
  ConfigTable mapping = t.table("merge_fields");
  for (const std::string& field : mapping.keys()) {
    std::string attribute = mapping.string(field, "");
    if (const char* err = fields.declare(field)) mapping.fail(field, std::string("a merge field name (") + err + ")");
    if (attribute.empty()) mapping.fail(field, "the attribute that fills the field");
    if (c.merge_fields.size() == proto::kMaxMergeFields) mapping.fail(field, "at most 1024 merge fields");
    c.merge_fields.emplace_back(field, attribute);
  }
  declareFeedbackFields(t, feedback, fields);
  MaterialReader reader(config_file, resolveConfigPath(config_file, t.string("media", "")), fields,
                        feedback.unsubscribeFields() ? defaultListUnsubscribe(feedback) : "");
  std::set<std::string> names;
  for (ConfigTable& m : t.tableArray("material")) {
    c.materials.push_back(reader.read(m));
    if (!names.insert(c.materials.back().name).second) m.fail("name", "a name no other material has");
  }
  if (c.materials.empty()) t.fail("material", "at least one [[campaign.material]]");
  c.targeting = readTargeting(t, c.materials);

  c.retry_schedule = readSchedule(t, c.retry_schedule);
  c.max_attempts = static_cast<uint32_t>(t.integer("max_attempts", c.max_attempts, 1, 1000));
  c.max_age = t.duration("max_age", c.max_age, 1s, 24h * 30);
  c.failover_grace = t.duration("failover_grace", c.failover_grace, 0s, 1h);
  c.result_timeout = t.duration("result_timeout", c.result_timeout, 1s, 24h);
  c.exit_when_done = t.boolean("exit_when_done", c.exit_when_done);
  c.progress_interval = t.duration("progress_interval", c.progress_interval, 100ms, 1h);
  c.batch_size = static_cast<uint32_t>(t.integer("batch_size", c.batch_size, 1, 100000));
  c.batch_interval = t.duration("batch_interval", c.batch_interval, 1ms, 10s);
  c.durable_commits = t.choice("durability", {"full", "normal"}, 0) == 0;
  c.verp = t.boolean("verp", feedback.verpPossible());
  if (c.verp && !feedback.verpPossible()) t.fail("verp", "false, or a [feedback] bounce_domain and key_file");
  return c;
}

SelectionConfig readSelection(ConfigTable t) {
  SelectionConfig s;
  // The rivals from the literature (issue 22) after them: c3, prequal, peak_ewma_p2c, least_request_p2c.
  static const std::initializer_list<std::string_view> kPolicies = {
      "ewma", "round_robin", "random", "least_loaded", "fixed", "c3", "prequal", "peak_ewma_p2c", "least_request_p2c"};
  size_t policy = t.choice("policy", kPolicies, 0);
  s.selector.policy = *parseSelectionPolicy(kPolicies.begin()[policy]);
  s.half_life = t.duration("half_life", s.half_life, 100ms, 24h);
  s.selector.exploration = t.real("exploration", s.selector.exploration, 0, 0.5);
  s.selector.hysteresis = t.real("hysteresis", s.selector.hysteresis, 0, 10);
  s.selector.stale_after_ms = static_cast<uint64_t>(
      std::chrono::duration_cast<std::chrono::milliseconds>(t.duration("stale_after", 60s, 100ms, 24h)).count());
  s.selector.seed = static_cast<uint64_t>(t.integer("seed", 1, 0, INT64_MAX));
  // c3's n: the initiators that share these gateways (each sees only its own requests in flight).
  s.selector.initiators = static_cast<uint32_t>(t.integer("initiators", 1, 1, 10000));
  // ewma: what a gateway carries to one destination at once before the next message waits.
  s.selector.destination_concurrency = static_cast<uint32_t>(t.integer("destination_concurrency", 10, 1, 100000));
  s.slow_sample = t.duration("slow_sample", s.slow_sample, 0s, 1h);
  return s;
}

// [[selection.route]] (policy fixed): a domain, or ".parent" for every name below it, and the
// name of its gateway.
void readRoutes(ConfigTable t, InitiatorConfig& c) {
  for (ConfigTable& r : t.tableArray("route")) {
    std::string domain = r.string("domain", "");
    if (domain.empty()) r.fail("domain", "a recipient domain, or \".parent\" for every name below it");
    for (char& ch : domain) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
    std::string name = r.string("gateway", "");
    int index = -1;
    for (size_t g = 0; g < c.gateways.size(); ++g) {
      if (c.gateways[g].name == name) index = static_cast<int>(g);
    }
    if (index < 0) r.fail("gateway", "the name of a [[gateway]]");
    c.selection.selector.routes.emplace_back(domain, index);
  }
}

RateLimits readRateLimits(ConfigTable t) {
  RateLimits r;
  r.per_domain = t.real("per_domain", 0, 0, 1e9);
  for (ConfigTable& d : t.tableArray("domain")) {
    DomainRate rate;
    // Normalised as imported addresses are (lower case, IDN to A-label), so that it matches.
    auto normalised = normaliseAddress("postmaster@" + d.string("name", ""));
    if (!normalised) d.fail("name", "the recipient domain the rate applies to");
    rate.domain = normalised->substr(normalised->find('@') + 1);
    rate.per_second = d.real("per_second", 0, 0.001, 1e9);
    if (!d.has("per_second")) d.fail("per_second", "messages per second (required)");
    r.domains.push_back(rate);
  }
  return r;
}

std::vector<GatewayEndpoint> readGateways(ConfigTable& root, const std::string& config_file) {
  std::vector<GatewayEndpoint> out;
  std::set<std::string> names;
  for (ConfigTable& g : root.tableArray("gateway")) {
    GatewayEndpoint e;
    e.name = g.string("name", "");
    if (e.name.empty() || e.name.size() > 64) g.fail("name", "a gateway name of 1 to 64 characters");
    if (!names.insert(e.name).second) g.fail("name", "a name no other gateway has");
    if (!g.has("address")) g.fail("address", "the gateway's link address such as \"127.0.0.1:7301\" (required)");
    e.address = g.address("address", SocketAddress());
    e.credentials = proto::readLinkCredentials(g, config_file);
    out.push_back(std::move(e));
  }
  if (out.empty()) root.fail("gateway", "at least one [[gateway]]");
  if (out.size() > 256) root.fail("gateway", "at most 256 gateways");
  return out;
}

}  // namespace

Expected<InitiatorConfig, std::string> loadInitiatorConfig(const std::string& file) {
  return loadConfigFile<InitiatorConfig>(file, [&](ConfigTable& root) {
    InitiatorConfig c;
    c.service = readServiceConfig(root, Mode::kInitiator);
    c.feedback = readInitiatorFeedback(root.table("feedback"), file);
    c.campaign = readCampaign(root.table("campaign"), file, c.feedback);
    c.selection = readSelection(root.table("selection"));
    c.rate_limit = readRateLimits(root.table("rate_limit"));
    c.gateways = readGateways(root, file);
    readRoutes(root.table("selection"), c);
    return c;
  });
}

}  // namespace lbmail
