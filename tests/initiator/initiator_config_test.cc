// Tests for src/initiator/initiator_config.cc: the example loads, required keys are required,
// materials are checked at load (templates against the merge fields, media against the
// manifest), targeting rules and paths relative to the file's folder.
#include "initiator_config.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "lbmail/media/media_manifest.h"
#include "temp_path.h"
#include "validate.h"

namespace lbmail {
namespace {

using namespace std::chrono_literals;

// The pieces of a config file; each test changes one.
struct ConfigText {
  std::string campaign = "name = \"t\"\ndatabase = \"recipients.db\"\nsender = \"bounces@shop.example\"\n";
  std::string merge_fields = "[campaign.merge_fields]\nfirst_name = \"first_name\"\n";
  std::string material =
      "[[campaign.material]]\nname = \"standard\"\nfrom = \"Shop <news@shop.example>\"\n"
      "subject = \"{{first_name|Hello}}, our offer\"\ntext = \"Dear {{first_name|customer}} ({{email}})\\n\"\n";
  std::string extra;
  std::string gateways = "[[gateway]]\nname = \"gw1\"\naddress = \"127.0.0.1:7301\"\nkey_file = \"link.key\"\n";

  std::string str() const { return "[campaign]\n" + campaign + merge_fields + material + extra + gateways; }
};

// A fresh folder per test, for the config file and whatever it refers to.
std::string testDir() {
  const ::testing::TestInfo* info = ::testing::UnitTest::GetInstance()->current_test_info();
  std::string dir =
      std::filesystem::path(test::tempPath(std::string("initiator-config-") + info->name())).lexically_normal();
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  return dir;
}

Expected<InitiatorConfig, std::string> load(const std::string& text, const std::string& dir = testDir()) {
  std::string path = dir + "/initiator.toml";
  std::ofstream(path) << text;
  return loadInitiatorConfig(path);
}

Expected<InitiatorConfig, std::string> load(const ConfigText& t) { return load(t.str()); }

// The error of loading text, or "<loaded>".
std::string errorOf(const Expected<InitiatorConfig, std::string>& c) { return c ? "<loaded>" : c.error(); }

#define EXPECT_ERROR_HAS(result, text) \
  EXPECT_NE(errorOf(result).find(text), std::string::npos) << "error: " << errorOf(result) << "\nwanted: " << (text)

TEST(InitiatorConfig, ExampleConfigLoads) {
  auto c = loadInitiatorConfig(test::testEnv("LBMAIL_SOURCE_ROOT") + "/configs/initiator.toml");
  ASSERT_TRUE(c) << c.error();
  EXPECT_EQ(c->service.mode, Mode::kInitiator);
  EXPECT_EQ(c->service.admin.listen.port(), defaultAdminPort(Mode::kInitiator));
  EXPECT_EQ(c->campaign.name, "spring-2026");
  EXPECT_EQ(c->campaign.database, "/var/lib/lbmail/recipients.db");
  EXPECT_EQ(c->campaign.sender, "bounces@shop.example");
  EXPECT_EQ(c->campaign.accounting_file, "");
  ASSERT_EQ(c->campaign.materials.size(), 2u);
  EXPECT_EQ(c->campaign.materials[0].name, "standard");
  EXPECT_EQ(c->campaign.materials[1].name, "gold");
  EXPECT_EQ(c->campaign.materials[0].from, "Shop <news@shop.example>");
  EXPECT_TRUE(c->campaign.materials[0].media.empty());
  EXPECT_EQ(c->campaign.merge_fields, (std::vector<std::pair<std::string, std::string>>{{"first_name", "first_name"}}));
  EXPECT_EQ(c->campaign.retry_schedule, (std::vector<Duration>{1min, 5min, 15min, 1h}));
  EXPECT_EQ(c->campaign.max_attempts, 10u);
  ASSERT_EQ(c->gateways.size(), 1u);
  EXPECT_EQ(c->gateways[0].name, "gateway-1");
  EXPECT_EQ(c->gateways[0].address.toString(), "127.0.0.1:7301");
  EXPECT_EQ(c->gateways[0].credentials.key_file, "/etc/lbmail/link.key");
  EXPECT_EQ(c->rate_limit.per_domain, 0);

  // The rule: tier = gold and (spend >= 100 or country in NL, BE) → gold; else the default.
  const Targeting& t = c->campaign.targeting;
  auto pick = [&](std::string_view json) {
    auto a = RecipientAttributes::parse(json);
    EXPECT_TRUE(a) << a.error();
    return t.materialFor(RecipientView{"a@b.example", "b.example", *a});
  };
  EXPECT_EQ(pick(R"({"tier":"gold","spend":"100"})"), 1);
  EXPECT_EQ(pick(R"({"tier":"gold","spend":"99","country":"BE"})"), 1);
  EXPECT_EQ(pick(R"({"tier":"gold","spend":"99","country":"DE"})"), 0);
  EXPECT_EQ(pick(R"({"tier":"std","spend":"1000"})"), 0);
}

TEST(InitiatorConfig, MinimalConfigAndRelativePaths) {
  std::string dir = testDir();
  ConfigText t;
  t.campaign += "accounting_file = \"out/accounting.csv\"\n";
  auto c = load(t.str(), dir);
  ASSERT_TRUE(c) << c.error();
  EXPECT_EQ(c->campaign.database, dir + "/recipients.db");
  EXPECT_EQ(c->campaign.accounting_file, dir + "/out/accounting.csv");
  EXPECT_EQ(c->gateways[0].credentials.key_file, dir + "/link.key");
  // One material and no rules: everyone gets it.
  auto none = RecipientAttributes::parse("{}");
  EXPECT_EQ(c->campaign.targeting.materialFor(RecipientView{"a@b.example", "b.example", *none}), 0);
}

TEST(InitiatorConfig, LedgerDurabilityIsFullUnlessNormalIsAsked) {
  ConfigText t;
  auto c = load(t);
  ASSERT_TRUE(c) << c.error();
  EXPECT_TRUE(c->campaign.durable_commits);
  t.campaign += "durability = \"normal\"\n";
  c = load(t);
  ASSERT_TRUE(c) << c.error();
  EXPECT_FALSE(c->campaign.durable_commits);
  t.campaign = ConfigText().campaign + "durability = \"off\"\n";
  EXPECT_ERROR_HAS(load(t), "campaign.durability: expected one of \"full\" \"normal\"");
}

TEST(InitiatorConfig, DatabaseIsRequired) {
  ConfigText t;
  t.campaign = "name = \"t\"\nsender = \"bounces@shop.example\"\n";
  EXPECT_ERROR_HAS(load(t), "campaign.database: expected the recipient database's path");
  t.campaign = "name = \"t\"\ndatabase = \"\"\nsender = \"bounces@shop.example\"\n";
  EXPECT_ERROR_HAS(load(t), "campaign.database: expected");
}

TEST(InitiatorConfig, SenderIsRequiredAndChecked) {
  ConfigText t;
  t.campaign = "name = \"t\"\ndatabase = \"r.db\"\n";
  EXPECT_ERROR_HAS(load(t), "campaign.sender: expected the envelope sender address (required)");
  t.campaign = "name = \"t\"\ndatabase = \"r.db\"\nsender = \"not an address\"\n";
  EXPECT_ERROR_HAS(load(t), "campaign.sender: expected the envelope sender address");
  t.campaign = "name = \"t\"\ndatabase = \"r.db\"\nsender = \"a@b.example\\r\\nRCPT TO:<x@y.example>\"\n";
  EXPECT_ERROR_HAS(load(t), "campaign.sender: expected");
}

TEST(InitiatorConfig, AtLeastOneGateway) {
  ConfigText t;
  t.gateways.clear();
  EXPECT_ERROR_HAS(load(t), "gateway: expected at least one [[gateway]]");
}

TEST(InitiatorConfig, GatewayNeedsKeyFileAndAddress) {
  ConfigText t;
  t.gateways = "[[gateway]]\nname = \"gw1\"\naddress = \"127.0.0.1:7301\"\n";
  EXPECT_ERROR_HAS(load(t), "gateway.key_file: expected the path of the link's pre-shared key file (required)");
  t.gateways = "[[gateway]]\nname = \"gw1\"\nkey_file = \"k\"\n";
  EXPECT_ERROR_HAS(load(t), "gateway.address: expected");
}

TEST(InitiatorConfig, GatewayNamesAreUnique) {
  ConfigText t;
  t.gateways += "[[gateway]]\nname = \"gw1\"\naddress = \"127.0.0.1:7302\"\nkey_file = \"link.key\"\n";
  EXPECT_ERROR_HAS(load(t), "gateway.name: expected a name no other gateway has, got string \"gw1\"");
  t.gateways =
      "[[gateway]]\nname = \"gw1\"\naddress = \"127.0.0.1:7301\"\nkey_file = \"link.key\"\n"
      "[[gateway]]\nname = \"gw2\"\naddress = \"127.0.0.1:7302\"\nkey_file = \"link.key\"\n";
  auto c = load(t);
  ASSERT_TRUE(c) << c.error();
  ASSERT_EQ(c->gateways.size(), 2u);
  EXPECT_EQ(c->gateways[1].name, "gw2");
  EXPECT_EQ(c->gateways[1].address.port(), 7302);
}

TEST(InitiatorConfig, TemplatesUseOnlyMergeFieldsAndEmail) {
  ConfigText t;
  t.material =
      "[[campaign.material]]\nname = \"standard\"\nfrom = \"news@shop.example\"\n"
      "subject = \"Hi {{nope}}\"\ntext = \"Dear {{first_name}}\"\n";
  EXPECT_ERROR_HAS(load(t), "campaign.material.subject: expected a template using only [campaign.merge_fields]");
  EXPECT_ERROR_HAS(load(t), "nope");
  t.material =
      "[[campaign.material]]\nname = \"standard\"\nfrom = \"news@shop.example\"\n"
      "subject = \"Hi {{first_name}}\"\ntext = \"Dear {{nope|x}}\"\n";
  EXPECT_ERROR_HAS(load(t), "campaign.material.text: expected a template using only [campaign.merge_fields]");
  // Without the merge field, first_name is unknown too; email always is known.
  t.merge_fields.clear();
  t.material =
      "[[campaign.material]]\nname = \"standard\"\nfrom = \"news@shop.example\"\n"
      "subject = \"Hi\"\ntext = \"Dear {{first_name}}\"\n";
  EXPECT_ERROR_HAS(load(t), "campaign.material.text: expected");
  t.material =
      "[[campaign.material]]\nname = \"standard\"\nfrom = \"news@shop.example\"\n"
      "subject = \"Hi {{email}}\"\ntext = \"Dear\"\n";
  EXPECT_EQ(errorOf(load(t)), "<loaded>");
}

TEST(InitiatorConfig, MaterialsNeedNameFromAndBody) {
  ConfigText t;
  t.material = "[[campaign.material]]\nname = \"standard\"\nfrom = \"news@shop.example\"\nsubject = \"Hi\"\n";
  EXPECT_ERROR_HAS(load(t), "campaign.material.text: expected a text or html body");
  t.material = "[[campaign.material]]\nname = \"standard\"\nfrom = \"Shop <nope>\"\ntext = \"x\"\n";
  EXPECT_ERROR_HAS(load(t), "campaign.material.from: expected");
  t.material =
      "[[campaign.material]]\nname = \"a\"\nfrom = \"news@shop.example\"\ntext = \"x\"\n"
      "[[campaign.material]]\nname = \"a\"\nfrom = \"news@shop.example\"\ntext = \"y\"\n";
  EXPECT_ERROR_HAS(load(t), "campaign.material.name: expected a name no other material has");
  t.material.clear();
  EXPECT_ERROR_HAS(load(t), "campaign.material: expected at least one [[campaign.material]]");
}

TEST(InitiatorConfig, ListIdAndFeedbackIdAreCheckedAtLoad) {
  ConfigText t;
  t.material += "list_id = \"Shop News <news.shop.example>\"\nfeedback_id = \"spring:list7:shopmail\"\n";
  auto c = load(t);
  ASSERT_TRUE(c) << c.error();
  EXPECT_EQ(c->campaign.materials[0].list_id, "Shop News <news.shop.example>");
  EXPECT_EQ(c->campaign.materials[0].feedback_id, "spring:list7:shopmail");
  t = ConfigText();
  c = load(t);
  ASSERT_TRUE(c) << c.error();
  EXPECT_EQ(c->campaign.materials[0].list_id, "");  // both optional
  EXPECT_EQ(c->campaign.materials[0].feedback_id, "");

  struct Refusal {
    const char* line;
    const char* error;
  };
  for (const Refusal& r : {
           Refusal{"list_id = \"news.shop.example\"",
                   "campaign.material.list_id: expected \"Name <id.domain>\" or \"<id.domain>\" (List-Id: "},
           Refusal{"list_id = \"{{first_name}} <news.shop.example>\"", "merge fields are not allowed"},
           Refusal{"feedback_id = \"a:b:c:d:shopmail\"",
                   "campaign.material.feedback_id: expected \"a:b:c:SenderId\" (Feedback-ID: more than four"},
           Refusal{"feedback_id = \"spring:abc\"", "the SenderId (the last field) must be 5 to 15 characters"},
       }) {
    t = ConfigText();
    t.material += std::string(r.line) + "\n";
    EXPECT_ERROR_HAS(load(t), r.error);
  }
}

TEST(InitiatorConfig, TargetRulesNameKnownMaterials) {
  ConfigText t;
  t.extra = "[[campaign.target]]\nmaterial = \"platinum\"\nall = [{ field = \"tier\", equals = \"gold\" }]\n";
  EXPECT_ERROR_HAS(load(t), "campaign.target.material: expected the name of a [[campaign.material]]");
  EXPECT_ERROR_HAS(load(t), "platinum");
  t.campaign += "default_material = \"nope\"\n";
  t.extra.clear();
  EXPECT_ERROR_HAS(load(t), "campaign.default_material: expected the name of a [[campaign.material]]");
}

TEST(InitiatorConfig, RulesWithoutDefaultNeedOneWhenSeveralMaterials) {
  ConfigText t;
  t.material += "[[campaign.material]]\nname = \"gold\"\nfrom = \"news@shop.example\"\ntext = \"x\"\n";
  EXPECT_ERROR_HAS(load(t), "campaign.default_material: expected a default when no [[campaign.target]] rule is set");
  t.extra = "[[campaign.target]]\nmaterial = \"gold\"\nall = [{ field = \"tier\", equals = \"gold\" }]\n";
  auto c = load(t);
  ASSERT_TRUE(c) << c.error();
  auto std_tier = RecipientAttributes::parse(R"({"tier":"std"})");
  auto gold_tier = RecipientAttributes::parse(R"({"tier":"gold"})");
  EXPECT_EQ(c->campaign.targeting.materialFor({"a@b.example", "b.example", *gold_tier}), 1);
  EXPECT_EQ(c->campaign.targeting.materialFor({"a@b.example", "b.example", *std_tier}), -1);
}

TEST(InitiatorConfig, ConditionsHaveExactlyOneOperator) {
  ConfigText t;
  t.extra =
      "[[campaign.target]]\nmaterial = \"standard\"\nall = [{ field = \"tier\", equals = \"gold\", "
      "not_equals = \"std\" }]\n";
  EXPECT_ERROR_HAS(load(t), "campaign.target.all.field: expected a condition such as");
  t.extra = "[[campaign.target]]\nmaterial = \"standard\"\nany = [{ field = \"tier\" }]\n";
  EXPECT_ERROR_HAS(load(t), "campaign.target.any.field: expected a condition such as");
  t.extra = "[[campaign.target]]\nmaterial = \"standard\"\nall = [{ equals = \"gold\" }]\n";
  EXPECT_ERROR_HAS(load(t), "campaign.target.all.field: expected a condition such as");
  t.extra = "[[campaign.target]]\nmaterial = \"standard\"\nall = [{ field = \"tier\", one_of = [] }]\n";
  EXPECT_ERROR_HAS(load(t), "campaign.target.all.one_of: expected a non-empty array of strings");
  t.extra = "[[campaign.target]]\nmaterial = \"standard\"\nall = [{ field = \"spend\", ge = \"100\" }]\n";
  EXPECT_ERROR_HAS(load(t), "campaign.target.all.ge: expected a number from -1e+300 to 1e+300, got string \"100\"");
  t.extra = "[[campaign.target]]\nmaterial = \"standard\"\nall = [{ field = \"spend\", lt = nan }]\n";
  EXPECT_ERROR_HAS(load(t), "campaign.target.all.lt: expected a number from -1e+300 to 1e+300, got float");
  t.extra = "[[campaign.target]]\nmaterial = \"standard\"\nall = [{ field = \"spend\", gt = inf }]\n";
  EXPECT_ERROR_HAS(load(t), "campaign.target.all.gt: expected a number from -1e+300 to 1e+300, got float");
  t.extra = "[[campaign.target]]\nmaterial = \"standard\"\n";
  EXPECT_ERROR_HAS(load(t), "campaign.target.all: expected conditions in all = [...] or any = [...]");
  t.extra = "[[campaign.target]]\nmaterial = \"standard\"\nall = [{ field = \"tier\", equal = \"gold\" }]\n";
  EXPECT_ERROR_HAS(load(t), "campaign.target.all.field: expected a condition such as");  // a misspelt operator
}

TEST(InitiatorConfig, ConditionsAreReadIntoRules) {
  ConfigText t;
  t.extra =
      "[[campaign.target]]\nmaterial = \"standard\"\n"
      "all = [{ field = \"a\", not_equals = \"x\" }, { field = \"b\", one_of = [\"1\", \"2\"] }, "
      "{ field = \"c\", contains = \"y\" }, { field = \"d\", lt = 1.5 }, { field = \"e\", le = 2 }, "
      "{ field = \"f\", gt = -3 }, { field = \"g\", ge = 4 }, { field = \"h\", exists = false }]\n";
  auto c = load(t);
  ASSERT_TRUE(c) << c.error();
  const Targeting& tg = c->campaign.targeting;
  auto pick = [&](std::string_view json) {
    auto a = RecipientAttributes::parse(json);
    EXPECT_TRUE(a) << a.error();
    return tg.materialFor(RecipientView{"a@b.example", "b.example", *a});
  };
  const char* match = R"({"a":"z","b":"2","c":"xyz","d":"1","e":"2","f":"-2","g":"4"})";
  EXPECT_EQ(pick(match), 0);
  // Each condition in turn made false.
  EXPECT_EQ(pick(R"({"a":"x","b":"2","c":"xyz","d":"1","e":"2","f":"-2","g":"4"})"), -1);
  EXPECT_EQ(pick(R"({"a":"z","b":"3","c":"xyz","d":"1","e":"2","f":"-2","g":"4"})"), -1);
  EXPECT_EQ(pick(R"({"a":"z","b":"2","c":"xz","d":"1","e":"2","f":"-2","g":"4"})"), -1);
  EXPECT_EQ(pick(R"({"a":"z","b":"2","c":"xyz","d":"1.5","e":"2","f":"-2","g":"4"})"), -1);
  EXPECT_EQ(pick(R"({"a":"z","b":"2","c":"xyz","d":"1","e":"2.1","f":"-2","g":"4"})"), -1);
  EXPECT_EQ(pick(R"({"a":"z","b":"2","c":"xyz","d":"1","e":"2","f":"-3","g":"4"})"), -1);
  EXPECT_EQ(pick(R"({"a":"z","b":"2","c":"xyz","d":"1","e":"2","f":"-2","g":"3.9"})"), -1);
  EXPECT_EQ(pick(R"({"a":"z","b":"2","c":"xyz","d":"1","e":"2","f":"-2","g":"4","h":""})"), -1);
}

TEST(InitiatorConfig, TextOrTextFileNotBoth) {
  std::string dir = testDir();
  std::ofstream(dir + "/body.txt") << "From a file\n";
  ConfigText t;
  t.material =
      "[[campaign.material]]\nname = \"standard\"\nfrom = \"news@shop.example\"\n"
      "text = \"inline\"\ntext_file = \"body.txt\"\n";
  EXPECT_ERROR_HAS(load(t.str(), dir), "campaign.material.text_file: expected either text or text_file, not both");
}

// A template file is read to its bound and no further; a material must fit its one frame.
TEST(InitiatorConfig, TemplateFilesAndMaterialsAreBounded) {
  std::string dir = testDir();
  ConfigText t;
  t.material = "[[campaign.material]]\nname = \"standard\"\nfrom = \"news@shop.example\"\ntext_file = \"/dev/zero\"\n";
  EXPECT_ERROR_HAS(load(t.str(), dir), "campaign.material.text_file: expected a readable regular file (/dev/zero)");
  std::ofstream(dir + "/big.txt") << std::string((1 << 20) + 1, 'x');
  t.material = "[[campaign.material]]\nname = \"standard\"\nfrom = \"news@shop.example\"\ntext_file = \"big.txt\"\n";
  EXPECT_ERROR_HAS(load(t.str(), dir), "campaign.material.text_file: expected a template of at most 1 MiB");
  std::ofstream(dir + "/half.txt") << std::string(600 << 10, 'x');
  t.material =
      "[[campaign.material]]\nname = \"standard\"\nfrom = \"news@shop.example\"\n"
      "text_file = \"half.txt\"\nhtml_file = \"half.txt\"\n";
  EXPECT_ERROR_HAS(load(t.str(), dir), "campaign.material.text: expected a material of at most 960 KiB in all");
}

TEST(InitiatorConfig, TemplateFilesAreReadRelativeToTheConfig) {
  std::string dir = testDir();
  std::filesystem::create_directories(dir + "/templates");
  std::ofstream(dir + "/templates/body.txt") << "Dear {{first_name|customer}},\nfrom a file.\n";
  std::ofstream(dir + "/templates/body.html") << "<p>{{email}}</p>\n";
  ConfigText t;
  t.material =
      "[[campaign.material]]\nname = \"standard\"\nfrom = \"news@shop.example\"\nsubject = \"Hi\"\n"
      "text_file = \"templates/body.txt\"\nhtml_file = \"templates/body.html\"\n";
  auto c = load(t.str(), dir);
  ASSERT_TRUE(c) << c.error();
  EXPECT_EQ(c->campaign.materials[0].text, "Dear {{first_name|customer}},\nfrom a file.\n");
  EXPECT_EQ(c->campaign.materials[0].html, "<p>{{email}}</p>\n");

  // A missing file, and a file whose template uses an unknown field.
  t.material =
      "[[campaign.material]]\nname = \"standard\"\nfrom = \"news@shop.example\"\n"
      "text_file = \"templates/absent.txt\"\n";
  EXPECT_ERROR_HAS(load(t.str(), dir),
                   "campaign.material.text_file: expected a readable regular file (" + dir + "/templates/absent.txt)");
  std::ofstream(dir + "/templates/bad.txt") << "{{nope}}";
  t.material =
      "[[campaign.material]]\nname = \"standard\"\nfrom = \"news@shop.example\"\n"
      "text_file = \"templates/bad.txt\"\n";
  EXPECT_ERROR_HAS(load(t.str(), dir), "campaign.material.text: expected a template");
}

// A media cache folder holding only a manifest that lists offer.pdf and logo.png.
struct MediaCache {
  std::string dir;
  media::MediaHash pdf{};
  media::MediaHash logo{};
};

MediaCache makeMediaCache(const std::string& dir) {
  MediaCache m;
  m.dir = dir;
  std::filesystem::create_directories(dir);
  std::string pdf_bytes = "%PDF-1.4 offer";
  std::string logo_bytes = "\x89PNG logo";
  m.pdf = media::hashMedia(std::span(reinterpret_cast<const uint8_t*>(pdf_bytes.data()), pdf_bytes.size()));
  m.logo = media::hashMedia(std::span(reinterpret_cast<const uint8_t*>(logo_bytes.data()), logo_bytes.size()));
  std::vector<media::ManifestEntry> entries(2);
  entries[0] = {m.pdf, pdf_bytes.size(), 24, 1, "application/pdf", "offer.pdf"};
  entries[1] = {m.logo, logo_bytes.size(), 16, 2, "image/png", "img/logo.png"};
  std::ofstream(dir + "/" + std::string(media::kManifestFile), std::ios::binary) << media::formatManifest(entries);
  return m;
}

TEST(InitiatorConfig, MediaResolveThroughTheManifest) {
  std::string dir = testDir();
  MediaCache cache = makeMediaCache(dir + "/media");
  ConfigText t;
  t.campaign += "media = \"media\"\n";
  t.material += "attachments = [\"offer.pdf\"]\ninline = [{ file = \"img/logo.png\", cid = \"logo\" }]\n";
  auto c = load(t.str(), dir);
  ASSERT_TRUE(c) << c.error();
  const auto& media = c->campaign.materials[0].media;
  ASSERT_EQ(media.size(), 2u);
  EXPECT_EQ(media[0].hash, cache.pdf);
  EXPECT_FALSE(media[0].is_inline);
  EXPECT_EQ(media[0].name, "offer.pdf");
  EXPECT_EQ(media[1].hash, cache.logo);
  EXPECT_TRUE(media[1].is_inline);
  EXPECT_EQ(media[1].name, "logo");

  // An attachment in a subfolder is shown by its file name.
  t.material = ConfigText().material + "attachments = [\"img/logo.png\"]\n";
  c = load(t.str(), dir);
  ASSERT_TRUE(c) << c.error();
  ASSERT_EQ(c->campaign.materials[0].media.size(), 1u);
  EXPECT_EQ(c->campaign.materials[0].media[0].name, "logo.png");
  EXPECT_EQ(c->campaign.materials[0].media[0].hash, cache.logo);
}

TEST(InitiatorConfig, MediaAbsentFromTheManifestIsAnError) {
  std::string dir = testDir();
  makeMediaCache(dir + "/media");
  ConfigText t;
  t.campaign += "media = \"media\"\n";
  ConfigText with_attachment = t;
  with_attachment.material += "attachments = [\"offer.pdf\", \"flyer.pdf\"]\n";
  auto c = load(with_attachment.str(), dir);
  EXPECT_ERROR_HAS(c, "campaign.material.attachments: expected file names listed in " + dir + "/media/manifest.tsv");
  EXPECT_ERROR_HAS(c, "'flyer.pdf' is not");
  ConfigText with_inline = t;
  with_inline.material += "inline = [{ file = \"banner.png\", cid = \"banner\" }]\n";
  c = load(with_inline.str(), dir);
  EXPECT_ERROR_HAS(c, "campaign.material.inline.file: expected file names listed in");
  EXPECT_ERROR_HAS(c, "'banner.png' is not");
  // A media folder without a manifest.
  std::filesystem::create_directories(dir + "/empty");
  with_attachment.campaign = ConfigText().campaign + "media = \"empty\"\n";
  EXPECT_ERROR_HAS(
      load(with_attachment.str(), dir),
      "campaign.material.attachments: expected media from a readable manifest (" + dir + "/empty/manifest.tsv");
}

// The gateways refuse such a material when it is defined, so every recipient of it would fail:
// the check belongs where --check-config sees it.
TEST(InitiatorConfig, HtmlCidWithoutItsInlineImageIsAnError) {
  std::string dir = testDir();
  makeMediaCache(dir + "/media");
  ConfigText t;
  t.campaign += "media = \"media\"\n";
  t.material += "html = \"<img src=\\\"cid:logo\\\"><img src='cid:banner'>\"\n"
                "inline = [{ file = \"img/logo.png\", cid = \"logo\" }]\n";
  EXPECT_ERROR_HAS(load(t.str(), dir),
                   "campaign.material.inline: expected an inline image for each cid: of the HTML (material "
                   "'standard' refers to cid:banner");
  t.material = ConfigText().material + "html = \"<p>Hi</p><img src=\\\"cid:logo\\\">\"\n";
  EXPECT_ERROR_HAS(load(t.str(), dir), "material 'standard' refers to cid:logo");
  // Every reference matched, and text that only looks like one, load.
  t.material = ConfigText().material + "html = \"<img src=\\\"cid:logo\\\"> placid: {{first_name}}\"\n" +
               "inline = [{ file = \"img/logo.png\", cid = \"logo\" }]\n";
  auto c = load(t.str(), dir);
  EXPECT_TRUE(c) << c.error();
}

TEST(InitiatorConfig, MediaUnsetWhileAMaterialHasMedia) {
  ConfigText t;
  t.material += "attachments = [\"offer.pdf\"]\n";
  EXPECT_ERROR_HAS(load(t), "campaign.material.attachments: expected media named in the manifest of [campaign] media");
  t.material = ConfigText().material + "inline = [{ file = \"logo.png\", cid = \"logo\" }]\n";
  EXPECT_ERROR_HAS(load(t), "campaign.material.inline.file: expected media named in the manifest");
}

TEST(InitiatorConfig, RetrySchedule) {
  ConfigText t;
  t.campaign += "retry_schedule = [\"30s\", \"2m\"]\n";
  auto c = load(t);
  ASSERT_TRUE(c) << c.error();
  EXPECT_EQ(c->campaign.retry_schedule, (std::vector<Duration>{30s, 2min}));
  t.campaign = ConfigText().campaign + "retry_schedule = [\"1m\", \"soon\"]\n";
  EXPECT_ERROR_HAS(load(t), "campaign.retry_schedule: expected an array of durations");
  t.campaign = ConfigText().campaign + "retry_schedule = [\"0s\"]\n";
  EXPECT_ERROR_HAS(load(t), "campaign.retry_schedule: expected an array of durations");
  t.campaign = ConfigText().campaign + "retry_schedule = []\n";
  EXPECT_ERROR_HAS(load(t), "campaign.retry_schedule: expected at least one duration");
}

TEST(InitiatorConfig, RateLimitDomains) {
  ConfigText t;
  t.extra = "[rate_limit]\nper_domain = 50\n[[rate_limit.domain]]\nname = \"GMail.com\"\nper_second = 200\n";
  auto c = load(t);
  ASSERT_TRUE(c) << c.error();
  EXPECT_EQ(c->rate_limit.per_domain, 50);
  ASSERT_EQ(c->rate_limit.domains.size(), 1u);
  EXPECT_EQ(c->rate_limit.domains[0].domain, "gmail.com");
  EXPECT_EQ(c->rate_limit.domains[0].per_second, 200);
  // Written as users write it, kept as imported domains are: an A-label.
  t.extra = "[[rate_limit.domain]]\nname = \"B\u00fccher.DE\"\nper_second = 5\n";
  c = load(t);
  ASSERT_TRUE(c) << c.error();
  EXPECT_EQ(c->rate_limit.domains[0].domain, "xn--bcher-kva.de");
  t.extra = "[[rate_limit.domain]]\nname = \"gmail.com\"\n";
  EXPECT_ERROR_HAS(load(t), "rate_limit.domain.per_second: expected messages per second (required)");
}

// The rivals from the literature (issue 22) are policies like the others; c3 learns how many
// initiators share the gateways.
TEST(InitiatorConfig, SelectionPolicyNamesTheRivals) {
  ConfigText t;
  for (auto [name, policy] : {std::pair{"c3", SelectionPolicy::kC3}, std::pair{"prequal", SelectionPolicy::kPrequal},
                              std::pair{"peak_ewma_p2c", SelectionPolicy::kPeakEwmaP2c},
                              std::pair{"least_request_p2c", SelectionPolicy::kLeastRequestP2c},
                              std::pair{"least_loaded", SelectionPolicy::kLeastLoaded}}) {
    t.extra = std::string("[selection]\npolicy = \"") + name + "\"\n";
    auto c = load(t);
    ASSERT_TRUE(c) << name << ": " << c.error();
    EXPECT_EQ(c->selection.selector.policy, policy) << name;
    EXPECT_EQ(c->selection.selector.initiators, 1u);
  }
  t.extra = "[selection]\npolicy = \"c3\"\ninitiators = 4\n";
  auto c = load(t);
  ASSERT_TRUE(c) << c.error();
  EXPECT_EQ(c->selection.selector.initiators, 4u);
  t.extra = "[selection]\ninitiators = 0\n";
  EXPECT_ERROR_HAS(load(t), "selection.initiators");
  t.extra = "[selection]\npolicy = \"p2c\"\n";
  EXPECT_ERROR_HAS(load(t), "selection.policy");
}

TEST(InitiatorConfig, UnknownKeyIsAnError) {
  ConfigText t;
  t.campaign += "retry_shedule = [\"1m\"]\n";
  EXPECT_ERROR_HAS(load(t), "campaign.retry_shedule: unknown key (did you mean 'retry_schedule'?)");
  t = ConfigText();
  t.material += "attachment = [\"offer.pdf\"]\n";
  EXPECT_ERROR_HAS(load(t), "campaign.material.attachment: unknown key");
  t = ConfigText();
  t.gateways += "port = 1\n";
  EXPECT_ERROR_HAS(load(t), "gateway.port: unknown key");
}


// Issue 21: [feedback] and [campaign] verp.
class FeedbackConfig : public ::testing::Test {
 protected:
  Expected<InitiatorConfig, std::string> loadWith(const std::string& feedback, const std::string& campaign = "") {
    ConfigText t;
    t.campaign += campaign;
    t.extra = "[feedback]\n" + feedback;
    return load(t);
  }
};

TEST_F(FeedbackConfig, DefaultsWithoutTheSection) {
  auto c = load(ConfigText{});
  ASSERT_TRUE(c) << c.error();
  EXPECT_FALSE(c->feedback.enabled());
  EXPECT_FALSE(c->campaign.verp);
  EXPECT_EQ(c->feedback.bounce_local, "bounce");
  EXPECT_EQ(c->feedback.soft_bounce_limit, 3u);
  EXPECT_EQ(c->feedback.soft_bounce_window, std::chrono::hours(24 * 7));
  EXPECT_DOUBLE_EQ(c->feedback.complaint_warn, 0.001);
  EXPECT_DOUBLE_EQ(c->feedback.complaint_alarm, 0.003);
  EXPECT_DOUBLE_EQ(c->feedback.bounce_warn, 0.02);
  EXPECT_DOUBLE_EQ(c->feedback.bounce_alarm, 0.05);
  EXPECT_TRUE(c->campaign.materials[0].list_unsubscribe.empty());
}

TEST_F(FeedbackConfig, BounceDomainTurnsVerpOnAndUnsubscribeUrlGivesTheDefaultHeaderAndFields) {
  auto c = loadWith(
      "key_file = \"feedback.key\"\nbounce_domain = \"Bounce.Shop.Example\"\n"
      "unsubscribe_url = \"https://u.shop.example/u\"\n");
  ASSERT_TRUE(c) << c.error();
  EXPECT_TRUE(c->campaign.verp);
  EXPECT_EQ(c->feedback.bounce_domain, "bounce.shop.example");
  EXPECT_NE(c->feedback.key_file.find("/feedback.key"), std::string::npos);  // relative to the file
  EXPECT_EQ(c->campaign.materials[0].list_unsubscribe,
            "<https://u.shop.example/u/{{unsubscribe_token}}>, "
            "<mailto:bounce+{{unsubscribe_token}}@bounce.shop.example>");
  auto off = loadWith("key_file = \"feedback.key\"\nbounce_domain = \"bounce.shop.example\"\n", "verp = false\n");
  ASSERT_TRUE(off) << off.error();
  EXPECT_FALSE(off->campaign.verp);
}

TEST_F(FeedbackConfig, MaterialsMayUseTheUnsubscribeFieldsOnlyWhenTheUrlIsSet) {
  ConfigText t;
  t.material += "html = \"<a href='{{unsubscribe_url}}'>unsubscribe</a>\"\n";
  EXPECT_ERROR_HAS(load(t), "html");
  t.extra = "[feedback]\nkey_file = \"k\"\nunsubscribe_url = \"http://u.example\"\n";
  auto c = load(t);
  ASSERT_TRUE(c) << c.error();
  // A campaign field of the same name would be ambiguous.
  t.merge_fields += "unsubscribe_url = \"link\"\n";
  EXPECT_ERROR_HAS(load(t), "unsubscribe_url ([feedback] unsubscribe_url fills it)");
}

TEST_F(FeedbackConfig, ClearErrors) {
  EXPECT_ERROR_HAS(loadWith("bounce_domain = \"bounce.example\"\n"), "feedback.key_file");
  EXPECT_ERROR_HAS(loadWith("unsubscribe_url = \"https://u.example/u\"\n"), "feedback.key_file");
  for (const char* url : {"https://u.example/u/", "ftp://u.example/u", "u.example/u", "https://", "https:///u",
                          "https://u.example/u?x=1", "https://u.example/{{x}}"}) {
    EXPECT_ERROR_HAS(loadWith(std::string("key_file = \"k\"\nunsubscribe_url = \"") + url + "\"\n"),
                     "feedback.unsubscribe_url")
        << url;
  }
  EXPECT_ERROR_HAS(loadWith("complaint_warn = 2\n"), "feedback.complaint_warn");
  EXPECT_ERROR_HAS(loadWith("bounce_alarm = -0.1\n"), "feedback.bounce_alarm");
  EXPECT_ERROR_HAS(loadWith("complaint_warn = 0.01\ncomplaint_alarm = 0.005\n"), "feedback.complaint_alarm");
  EXPECT_ERROR_HAS(loadWith("soft_bounce_limit = 0\n"), "feedback.soft_bounce_limit");
  EXPECT_ERROR_HAS(loadWith("key_file = \"k\"\nbounce_domain = \"not a domain\"\n"), "feedback.bounce_domain");
  EXPECT_ERROR_HAS(loadWith("", "verp = true\n"), "campaign.verp");
}

}  // namespace
}  // namespace lbmail
