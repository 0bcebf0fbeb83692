// Making the simulated world.
#include "sim_world.h"

#include <sys/stat.h>
#include <unistd.h>

#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>

#include "lbmail/media/media_cache_builder.h"
#include "sim_selection.h"
#include "lbmail/tls/self_signed_certificate.h"
#include "recipient_store.h"

namespace lbmail {
namespace {

// Child configs are tables written by toml++, so every value is quoted and escaped as TOML
// requires, whatever a path or a name holds.
std::string tomlText(const toml::table& table) {
  std::ostringstream out;
  out << table << "\n";
  return out.str();
}

// Random bytes that do not compress, as real PDFs and PNGs mostly do not.
bool writeRandomFile(const std::string& file, uint64_t size, uint64_t seed) {
  std::ofstream out(file, std::ios::binary | std::ios::trunc);
  std::mt19937_64 rng(seed);
  std::string block(64 * 1024, '\0');
  for (uint64_t left = size; left > 0;) {
    for (size_t i = 0; i < block.size(); i += 8) {
      uint64_t v = rng();
      std::memcpy(block.data() + i, &v, 8);
    }
    size_t n = static_cast<size_t>(std::min<uint64_t>(left, block.size()));
    out.write(block.data(), static_cast<std::streamsize>(n));
    left -= n;
  }
  return static_cast<bool>(out);
}

}  // namespace

SimWorld::SimWorld(const SimSettings& settings, std::string binary, std::string dnsmasq)
    : settings_(settings),
      binary_(std::move(binary)),
      dnsmasq_(settings.receiver.empty() ? std::move(dnsmasq) : std::string()),
      second_octet_(100 + static_cast<int>(getpid() % 100)),
      group_recipients_(settings.groups, 0) {
  for (uint32_t g = 0; g < settings.gateways; ++g) {
    gateway_names_.push_back("gw" + std::to_string(g + 1));
    gateway_index_.emplace(gateway_names_.back(), g);
  }
  for (uint32_t d = 0; d < settings.domains; ++d) {
    uint32_t group = d % settings.groups;
    domain_names_.push_back("d" + std::to_string(d) + ".g" + std::to_string(group + 1) + ".sim");
    domain_group_.emplace(domain_names_.back(), group);
  }
}

std::string SimWorld::ip(int third, uint32_t fourth) const {
  return "127." + std::to_string(second_octet_) + "." + std::to_string(third) + "." + std::to_string(fourth);
}

std::optional<uint32_t> SimWorld::gatewayIndex(const std::string& name) const {
  auto it = gateway_index_.find(name);
  if (it == gateway_index_.end()) return std::nullopt;
  return it->second;
}

std::optional<uint32_t> SimWorld::groupOfDomain(const std::string& domain) const {
  auto it = domain_group_.find(domain);
  if (it == domain_group_.end()) return std::nullopt;
  return it->second;
}

std::string SimWorld::build() {
  namespace fs = std::filesystem;
  std::error_code ec;
  // A work folder used before: its logs, accounting files and report go (readiness is read
  // from the logs, and the numbers from the rest).
  fs::remove_all(path("logs"), ec);
  fs::remove_all(path("configs"), ec);
  for (const auto& entry : fs::directory_iterator(settings_.work_dir, ec)) {
    std::string ext = entry.path().extension().string();
    if (ext == ".csv" || entry.path().stem() == "report") fs::remove(entry.path(), ec);
  }
  ec.clear();
  fs::create_directories(path("logs"), ec);
  fs::create_directories(path("configs"), ec);
  fs::create_directories(path("media-src"), ec);
  if (ec) return settings_.work_dir + ": " + ec.message();

  // A list's domains are skewed: a few big ones, a long tail (Zipf, s = 1).
  std::vector<double> cumulative(settings_.domains);
  double sum = 0;
  for (uint32_t d = 0; d < settings_.domains; ++d) cumulative[d] = sum += 1.0 / (d + 1);
  std::mt19937_64 rng(settings_.seed);
  std::uniform_real_distribution<double> pick(0, sum);

  std::string db = path("recipients.db");
  for (const char* suffix : {"", "-wal", "-shm"}) fs::remove(db + suffix, ec);
  auto store = RecipientStore::open(db);
  if (!store) return store.error();
  (*store)->beginBatch();
  std::string attributes;
  for (uint64_t i = 0; i < settings_.recipients; ++i) {
    auto d =
        static_cast<uint32_t>(std::lower_bound(cumulative.begin(), cumulative.end(), pick(rng)) - cumulative.begin());
    d = std::min(d, settings_.domains - 1);
    ++group_recipients_[d % settings_.groups];
    std::string domain = domainName(d);
    attributes = "{\"first_name\":\"Name" + std::to_string(i) + "\",\"tier\":\"" + (i % 10 == 0 ? "gold" : "std") +
                 "\",\"city\":\"City" + std::to_string(i % 50) + "\"}";
    if ((*store)->upsert("user" + std::to_string(i) + "@" + domain, domain, attributes) ==
        RecipientStore::Upsert::kFailed) {
      return db + ": " + (*store)->lastError();
    }
  }
  if (!(*store)->commitBatch()) return db + ": " + (*store)->lastError();

  // Media: the offer (attachment_size) and a logo shown inline.
  if (settings_.attachment_size > 0 &&
      !writeRandomFile(path("media-src/offer.pdf"), settings_.attachment_size, settings_.seed + 1)) {
    return path("media-src/offer.pdf") + ": cannot write";
  }
  if (!writeRandomFile(path("media-src/logo.png"), 6 * 1024, settings_.seed + 2)) {
    return path("media-src/logo.png") + ": cannot write";
  }
  auto built = media::buildMediaCache(path("media-src"), path("media"));
  if (!built) return built.error();

  std::ofstream(path("link.key")) << "lbmail simulation link key " << settings_.seed << "-" << getpid() << "\n";
  ::chmod(path("link.key").c_str(), 0600);
  return writeSinkCertificates();
}

std::string SimWorld::writeSinkCertificates() const {
  if (!settings_.tls || !settings_.receiver.empty()) return "";
  std::error_code ec;
  std::filesystem::create_directories(path("tls"), ec);
  if (ec) return path("tls") + ": " + ec.message();
  // Self-signed: the gateways' "encrypt" takes any certificate, as opportunistic senders do.
  for (uint32_t k = 0; k < settings_.groups; ++k) {
    std::string name = "mx.g" + std::to_string(k + 1) + ".sim";
    std::string err = tls::writeSelfSignedCertificate(sinkCertificate(k), sinkKey(k), {name, sinkIp(k)});
    if (!err.empty()) return err;
  }
  return "";
}

std::vector<std::string> SimWorld::dnsmasqArgs() const {
  std::vector<std::string> a = {dnsmasq_,
                                "--keep-in-foreground",
                                "--no-daemon",
                                "--conf-file=/dev/null",
                                "--no-resolv",
                                "--no-hosts",
                                "--port=5353",
                                "--listen-address=" + ip(0, 1),
                                "--bind-interfaces",
                                "--local=/sim/",
                                "--local-ttl=300",
                                "--log-facility=-",
                                "--pid-file="};
  if (::getuid() == 0) a.push_back("--user=root");
  for (uint32_t k = 0; k < settings_.groups; ++k) {
    a.push_back("--host-record=mx.g" + std::to_string(k + 1) + ".sim," + sinkIp(k));
  }
  for (uint32_t d = 0; d < settings_.domains; ++d) {
    a.push_back("--mx-host=" + domainName(d) + ",mx.g" + std::to_string(d % settings_.groups + 1) + ".sim,10");
  }
  return a;
}

void SimWorld::addSinkRules(toml::array& rules, uint32_t group, const std::vector<SimLatency>& matrix,
                            const std::string& after) const {
  for (const SimLatency& l : matrix) {
    if (l.group != group) continue;
    toml::table rule{{"client", gatewaySource(l.gateway)},
                     {"data_latency", l.data_latency},
                     {"reply_latency", l.reply_latency},
                     {"defer_rcpt", l.defer},
                     {"bounce_rcpt", l.bounce}};
    if (!after.empty()) rule.insert("after", after);
    if (l.max_connections > 0) rule.insert("max_connections_per_client", int64_t{l.max_connections});
    rules.push_back(std::move(rule));
  }
}

uint32_t SimWorld::shiftedBest() const { return (fastestGateway(settings_.matrix, 0) + 1) % settings_.gateways; }

std::string SimWorld::sinkConfig(uint32_t group, const RunWorld& run, const std::string& run_name) const {
  toml::array rules;
  std::vector<SimLatency> matrix = scenario_.matrix(run);
  if (run.shifted && group == 0 && settings_.gateways > 1) {
    // The shift: group 0's fastest gateway and the next one trade places. Rules with `after`
    // come first: the first rule in force decides.
    std::vector<SimLatency> swapped = matrix;
    uint32_t a = fastestGateway(settings_.matrix, 0), b = shiftedBest();
    SimLatency* la = nullptr;
    SimLatency* lb = nullptr;
    for (SimLatency& l : swapped) {
      if (l.group == 0 && l.gateway == a) la = &l;
      if (l.group == 0 && l.gateway == b) lb = &l;
    }
    if (la && lb) {
      std::swap(la->data_latency, lb->data_latency);
      std::swap(la->reply_latency, lb->reply_latency);
      std::swap(la->defer, lb->defer);
    }
    auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(settings_.shift_after).count();
    addSinkRules(rules, group, swapped, std::to_string(ms) + "ms");
  }
  addSinkRules(rules, group, matrix, "");
  scenario_.sinkRules(run, group, rules);
  std::string n = std::to_string(group + 1);
  toml::table sink{{"listen", sinkIp(group) + ":" + std::to_string(kSmtpPort)}, {"hostname", "mx.g" + n + ".sim"}};
  if (!rules.empty()) sink.insert("rule", std::move(rules));
  if (run.scenario != "default" && !run_name.empty()) sink.insert("refusal_log", refusalLog(run_name, group));
  if (settings_.tls) {
    sink.insert("tls_certificate", sinkCertificate(group));
    sink.insert("tls_key", sinkKey(group));
  }
  return tomlText(toml::table{{"node", toml::table{{"name", "sink-g" + n}}},
                              {"admin", toml::table{{"listen", sinkIp(group) + ":0"}}},
                              {"sink", std::move(sink)}});
}

toml::table SimWorld::gatewayDns() const {
  // A burst of first lookups from every gateway can overflow dnsmasq's socket: on loopback a
  // lost query is retried after 300 ms, not after the default 5 s.
  if (useDnsmasq()) {
    return toml::table{{"servers", toml::array{dnsAddress()}},
                       {"query_timeout", "300ms"},
                       {"query_tries", 4},
                       {"max_in_flight", 32}};
  }
  // Without dnsmasq: static routes for every domain to its group's sink, or to the outside
  // receiver.
  toml::array routes;
  for (uint32_t d = 0; d < settings_.domains; ++d) {
    std::string to = settings_.receiver.empty() ? sinkIp(d % settings_.groups) + ":" + std::to_string(kSmtpPort)
                                                : settings_.receiver;
    routes.push_back(toml::table{{"domain", domainName(d)}, {"addresses", toml::array{to}}});
  }
  toml::table dns;
  if (!routes.empty()) dns.insert("route", std::move(routes));
  return dns;
}

std::string SimWorld::gatewayConfig(uint32_t g, const RunWorld& run, const std::string& run_name) const {
  toml::table smtp{{"port", kSmtpPort},
                   {"helo_name", gatewayName(g) + ".sim"},
                   {"source_addresses", toml::array{gatewaySource(g)}},
                   {"backoff", "1s"},
                   {"max_connections", 40},
                   // The sinks' MX hosts are on loopback.
                   {"allow_private_destinations", true}};
  // TLS required, any certificate: the sinks' are self-signed.
  if (settings_.tls) smtp.insert("tls_policy", "encrypt");
  toml::table root{{"node", toml::table{{"name", gatewayName(g)}}},
                              {"admin", toml::table{{"listen", ip(2, g + 1) + ":0"}}},
                              {"gateway", toml::table{{"listen", gatewayLink(g)},
                                                      {"key_file", path("link.key")},
                                                      {"capacity", 400},
                                                      {"media_cache", path("media")},
                                                      {"drain_timeout", "5s"}}},
                   {"dns", gatewayDns()}};
  scenario_.gatewayTables(run, g, run_name, smtp, root);
  root.insert("smtp", std::move(smtp));
  return tomlText(root);
}

// The two materials: the offer with its attachment and inline logo, and the gold members' one.
toml::array SimWorld::materials() const {
  toml::table offer{
      {"name", "offer"},
      {"from", "Shop <news@shop.sim>"},
      {"subject", "{{first_name|Hello}}, the spring offer"},
      {"text", "Dear {{first_name|customer}},\nthe spring offer for {{city|your city}} is attached.\n"},
      {"html",
       "<p>Dear {{first_name|customer}},</p><p>the spring offer for {{city|your city}}.</p>"
       "<img src=\"cid:logo\">\n"},
      {"inline", toml::array{toml::table{{"file", "logo.png"}, {"cid", "logo"}}}}};
  toml::table gold{{"name", "gold"},
                   {"from", "Shop <vip@shop.sim>"},
                   {"subject", "{{first_name|Hello}}, a gold member offer"},
                   {"text", "Dear {{first_name|customer}},\nas a gold member you get 20% off.\n"}};
  if (settings_.attachment_size > 0) {
    offer.insert("attachments", toml::array{"offer.pdf"});
    gold.insert("attachments", toml::array{"offer.pdf"});
  }
  return toml::array{std::move(offer), std::move(gold)};
}

std::string SimWorld::initiatorConfig(const std::string& run, const std::string& policy,
                                      const RunWorld& world) const {
  toml::table campaign{
      {"name", run},
      {"database", path("recipients.db")},
      {"sender", "bounces@shop.sim"},
      {"media", path("media")},
      {"accounting_file", path(run + ".csv")},
      {"default_material", "offer"},
      {"retry_schedule", toml::array{"1s", "2s"}},
      {"max_attempts", 3},
      {"progress_interval", "2s"},
      {"exit_when_done", true},
      {"merge_fields", toml::table{{"first_name", "first_name"}, {"city", "city"}}},
      {"material", materials()},
      {"target", toml::array{toml::table{{"material", "gold"},
                                         {"all", toml::array{toml::table{{"field", "tier"}, {"equals", "gold"}}}}}}}};
  toml::table selection{{"policy", policy},
                        {"half_life", std::to_string(static_cast<int>(sim_selection::kHalfLifeS * 1000)) + "ms"},
                        {"stale_after", std::to_string(sim_selection::kStaleAfterMs) + "ms"},
                        {"exploration", sim_selection::kExploration},
                        {"hysteresis", sim_selection::kHysteresis}};
  if (policy == "fixed") selection.insert("route", scenario_.oracleRoutes(world));
  toml::array gateways;
  for (uint32_t g = 0; g < settings_.gateways; ++g) {
    gateways.push_back(
        toml::table{{"name", gatewayName(g)}, {"address", gatewayLink(g)}, {"key_file", path("link.key")}});
  }
  toml::table config{{"node", toml::table{{"name", "initiator"}}},
                     {"admin", toml::table{{"listen", ip(4, 1) + ":0"}}},
                     {"log", toml::table{{"level", "info"}}},
                     {"campaign", std::move(campaign)},
                     {"selection", std::move(selection)},
                     {"gateway", std::move(gateways)}};
  if (world.scenario == "warmup") {
    config.insert("rate_limit", toml::table{{"per_domain", SimScenario::kWarmupDomainRate}});
  }
  return tomlText(config);
}

}  // namespace lbmail
