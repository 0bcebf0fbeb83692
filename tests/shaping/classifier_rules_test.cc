// The rules file of the reply classifier: its format, the order rules apply in, MX matching
// and sites, and the errors a bad file gives (file, line and key named). Tests
// src/shaping/classifier_rules.cc through the public ReplyClassifier.
#include <gtest/gtest.h>

#include <cstdio>
#include <fstream>
#include <initializer_list>
#include <string>

#include "lbmail/shaping/reply_classifier.h"
#include "temp_path.h"

namespace lbmail::shaping {
namespace {

smtp::SmtpReply reply(int code, std::string enhanced, std::string text) {
  smtp::SmtpReply r;
  r.code = code;
  r.enhanced = std::move(enhanced);
  r.text = std::move(text);
  return r;
}

ReplyClassifier parsed(const std::string& toml) {
  auto c = ReplyClassifier::parse(toml, "rules.toml");
  EXPECT_TRUE(c) << (c ? "" : c.error());
  return c ? std::move(*c) : ReplyClassifier();
}

// Parsing toml fails with an error that holds each of parts (file and line, key, expectation).
void expectError(const std::string& toml, std::initializer_list<std::string> parts) {
  auto c = ReplyClassifier::parse(toml, "rules.toml");
  ASSERT_FALSE(c) << toml;
  for (const std::string& part : parts) EXPECT_NE(c.error().find(part), std::string::npos) << c.error();
}

const char* const kOrderRules = R"(
[[rule]]
pattern = 'needle'
class = "block"

[[rule]]
pattern = 'needle|thread'
class = "mailbox"

[[provider]]
name = "p"
mx = [".p.example", "mx.q.example"]
[[provider.rule]]
pattern = 'needle'
class = "throttle"

[[provider]]
name = "second"
mx = [".example"]
)";

TEST(ClassifierRulesTest, ProviderRulesFirstThenGenericInFileOrderThenCodes) {
  ReplyClassifier c = parsed(kOrderRules);
  EXPECT_EQ(c.patternCount(), 3u);
  smtp::SmtpReply r = reply(550, "5.1.1", "a needle here");
  EXPECT_EQ(c.classify(r, "p"), ReplyClass::kThrottle);
  EXPECT_EQ(c.classify(r, ""), ReplyClass::kBlock);        // first generic match wins
  EXPECT_EQ(c.classify(r, "second"), ReplyClass::kBlock);  // a provider without rules
  EXPECT_EQ(c.classify(r, "unknown"), ReplyClass::kBlock);
  EXPECT_EQ(c.classify(reply(550, "5.7.1", "a thread"), "p"), ReplyClass::kMailbox);
  EXPECT_EQ(c.classify(reply(550, "5.7.1", "nothing"), "p"), ReplyClass::kBlock);  // enhanced code
  EXPECT_EQ(c.classify(reply(550, "", "nothing"), "p"), ReplyClass::kMailbox);     // basic code
}

TEST(ClassifierRulesTest, PatternsAreCaseInsensitiveAndSeeCodeAndEnhancedCode) {
  ReplyClassifier c = parsed(R"(
[[rule]]
pattern = '^451 4\.7\.9 .*SLOW down'
class = "throttle"
)");
  EXPECT_EQ(c.classify(reply(451, "4.7.9", "please slow Down now")), ReplyClass::kThrottle);
  EXPECT_EQ(c.classify(reply(451, "4.7.1", "please slow down now")), ReplyClass::kTransient);
  EXPECT_EQ(c.classify(reply(421, "4.7.9", "please slow down now")), ReplyClass::kThrottle);  // 421 4.7.x
}

TEST(ClassifierRulesTest, LinesOfAReplyAreJoinedBySpaces) {
  ReplyClassifier c = parsed("[[rule]]\npattern = 'is likely unsolicited'\nclass = \"mailbox\"\n");
  EXPECT_EQ(c.classify(reply(550, "5.7.1", "this message is\nlikely unsolicited mail")), ReplyClass::kMailbox);
  EXPECT_EQ(c.classify(reply(550, "5.7.1", "this message is likely\nunsolicited mail")), ReplyClass::kMailbox);
}

TEST(ClassifierRulesTest, OnlyTheFirst512OctetsAreSearched) {
  ReplyClassifier c = parsed("[[rule]]\npattern = 'needle'\nclass = \"throttle\"\n");
  // "451 4.7.1 " is 10 octets: a needle ending at octet 512 is seen, one octet later is not.
  std::string fits(512 - 10 - 6, 'x');
  EXPECT_EQ(c.classify(reply(451, "4.7.1", fits + "needle")), ReplyClass::kThrottle);
  EXPECT_EQ(c.classify(reply(451, "4.7.1", fits + "xneedle")), ReplyClass::kTransient);
  std::string huge(1 << 20, 'x');
  EXPECT_EQ(c.classify(reply(451, "4.7.1", huge + "needle")), ReplyClass::kTransient);
}

// Each pattern is first checked for words it cannot match without (classifier_prefilter.cc):
// optional characters, repeats, groups, classes and escapes must never hide a match.
TEST(ClassifierRulesTest, WordPrefilterNeverHidesAMatch) {
  struct Case {
    const char* pattern;
    const char* text;
    bool matches;
  };
  const Case cases[] = {
      {"colou?r", "the COLOR red", true},    {"colou*r", "color", true},
      {"colou{0,2}r", "color", true},        {"ab+c", "abbbc", true},
      {"rate (limit|capp)ed", "rate capped", true},  {"(?:foo)?bar", "xbarx", true},
      {"foo|ba[rz]", "baz", true},           {"foo|ba[rz]", "bat", false},
      {"\\.com\\b", "example.com now", true},  {"a\\|b c", "a|b c", true},
      {"a\\|b c", "b c", false},           {"\\bRBL\\b", "listed in an rbl.", true},
      {"\\bRBL\\b", "herbld", false},        {"^451 .*busy", "try later, busy", true},
      {"x(y|z)*w", "xw", true},              {"[A-Z]{2}-00[1-3]", "SC-002", true},
      {"doesn.t have", "doesn't have", true},  {"(?!spam)ham", "ham", true},
      {"DMARC", "dmarc failure", true},      {"dmarc", "DMARC FAILURE", true},
      {"^451.*(DMARC|SPF)", "an spf fail", true},  {"^451.*(DMARC|SPF)", "a dkim fail", false},
      {"x(ab|cd)?y", "xy", true},            {"(ab|c)de", "cde", true},
      {"(?=abc)abc|q(rs|tu)+v", "qtutuv", true},  {"a((bc|de)f|gh)i", "adefi", true},
      {"(?:ab|cd){0,1}ef", "ef", true},      {"(x|yz)*w", "w", true},
  };
  for (const Case& k : cases) {
    ReplyClassifier c = parsed(std::string("[[rule]]\npattern = '") + k.pattern + "'\nclass = \"throttle\"\n");
    ReplyClass got = c.classify(reply(451, "4.7.1", k.text));
    EXPECT_EQ(got == ReplyClass::kThrottle, k.matches) << k.pattern << " over " << k.text;
  }
}

TEST(ClassifierRulesTest, MxSuffixesAndExactNames) {
  ReplyClassifier c = parsed(kOrderRules);
  EXPECT_EQ(c.providerOf({"mx1.p.example"}), "p");
  EXPECT_EQ(c.providerOf({"MX1.P.EXAMPLE."}), "p");
  EXPECT_EQ(c.providerOf({"mx.q.example"}), "p");                // exact name
  EXPECT_EQ(c.providerOf({"a.mx.q.example"}), "second");         // not the exact name; ".example" matches
  EXPECT_EQ(c.providerOf({"p.example"}), "second");              // a suffix needs a label before it
  EXPECT_EQ(c.providerOf({"x.example", "mx2.p.example"}), "p");  // the first provider in the file wins
  EXPECT_EQ(c.providerOf({"mx.example.org", "notp.example.com"}), "");
  EXPECT_EQ(c.providerOf({}), "");
}

TEST(ClassifierRulesTest, SiteIsTheProviderOrTheSortedMxSet) {
  ReplyClassifier c = parsed(kOrderRules);
  EXPECT_EQ(c.siteOf({"mx2.p.example", "mx.other.org"}), "p");
  EXPECT_EQ(c.siteOf({"mx2.example.org", "MX1.example.org.", "mx1.example.org"}), "mx1.example.org,mx2.example.org");
  EXPECT_EQ(c.siteOf({"route:192.0.2.7:2525"}), "route:192.0.2.7:2525");
  EXPECT_EQ(c.siteOf({}), "");
  std::vector<std::string> many;
  for (int i = 0; i < 40; ++i) many.push_back("mx" + std::to_string(i) + ".a-long-mail-domain.example.org");
  EXPECT_EQ(c.siteOf(many).size(), 255u);
  // Without rules no host has a provider.
  EXPECT_EQ(ReplyClassifier().siteOf({"aspmx.l.google.com"}), "aspmx.l.google.com");
}

TEST(ClassifierRulesTest, BadPatternNamesFileLineAndKey) {
  expectError("# rules\n[[rule]]\npattern = '(unclosed'\nclass = \"block\"\n",
              {"rules.toml:3", "rule.pattern", "regular expression"});
  expectError(
      "[[provider]]\nname = \"p\"\nmx = [\".p.example\"]\n[[provider.rule]]\npattern = 'a[b'\nclass = \"block\"\n",
      {"rules.toml:5"});
  expectError("[[rule]]\npattern = ''\nclass = \"block\"\n", {"rules.toml:2"});
  expectError("[[rule]]\nclass = \"block\"\n", {"pattern"});
  expectError("[[rule]]\npattern = '" + std::string(2049, 'a') + "'\nclass = \"block\"\n", {"rules.toml:2"});
}

TEST(ClassifierRulesTest, UnknownClassNamesFileLineAndKey) {
  expectError("[[rule]]\npattern = 'x'\nclass = \"slow\"\n", {"rules.toml:3", "rule.class", "throttle"});
  // A 2xx never reaches a pattern: "delivered" is refused, not ignored.
  expectError("[[rule]]\npattern = 'x'\nclass = \"delivered\"\n", {"rules.toml:3"});
  expectError("[[rule]]\npattern = 'x'\n", {"class"});
  expectError("[[rule]]\npattern = 'x'\nclass = 3\n", {"rules.toml:3"});
}

TEST(ClassifierRulesTest, UnknownKeysNameFileAndLine) {
  expectError("[[rule]]\npattern = 'x'\nclass = \"block\"\ncolour = \"red\"\n", {"rules.toml:4", "unknown key"});
  expectError("[[provider]]\nname = \"p\"\nmx = [\".p.example\"]\n[[provider.rule]]\npatern = 'x'\nclass = \"block\"\n",
              {"pattern"});  // the missing key, or the typo's suggestion
  expectError("[[provider]]\nname = \"p\"\nmx = [\".p.example\"]\nsuffix = \"x\"\n", {"rules.toml:4"});
  expectError("version = 2\n", {"rules.toml:1"});
}

TEST(ClassifierRulesTest, BadProvidersAreRefused) {
  expectError("[[provider]]\nname = \"p\"\n", {"mx"});
  expectError("[[provider]]\nname = \"p\"\nmx = []\n", {"rules.toml:3"});
  expectError("[[provider]]\nname = \"p\"\nmx = [\"a.example, b.example\"]\n", {"rules.toml:3"});
  expectError("[[provider]]\nmx = [\".p.example\"]\n", {"name"});
  expectError("[[provider]]\nname = \"a,b\"\nmx = [\".p.example\"]\n", {"rules.toml:2"});
  expectError("[[provider]]\nname = \"p\"\nmx = [\".p.example\"]\n[[provider]]\nname = \"p\"\nmx = [\".q.example\"]\n",
              {"rules.toml:5"});
}

TEST(ClassifierRulesTest, LoadReadsAFileAndNamesItInErrors) {
  std::string path = test::tempPath("shaping-rules.toml");
  {
    std::ofstream out(path);
    out << "[[rule]]\npattern = 'x'\nclass = \"block\"\n\n[[rule]]\npattern = 'y('\nclass = \"block\"\n";
  }
  auto bad = ReplyClassifier::load(path);
  ASSERT_FALSE(bad);
  EXPECT_NE(bad.error().find(path + ":6"), std::string::npos) << bad.error();
  auto missing = ReplyClassifier::load(path + ".absent");
  ASSERT_FALSE(missing);
  EXPECT_NE(missing.error().find(path + ".absent"), std::string::npos) << missing.error();
  {
    std::ofstream out(path);
    out << "[[rule]]\npattern = 'x'\nclass = \"block\"\n";
  }
  auto good = ReplyClassifier::load(path);
  ASSERT_TRUE(good) << good.error();
  EXPECT_EQ(good->patternCount(), 1u);
  std::remove(path.c_str());
}

}  // namespace
}  // namespace lbmail::shaping
