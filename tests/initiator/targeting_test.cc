// Tests for src/initiator/targeting.cc and the pieces a recipient passes through on its way to
// a gateway: recipient_attributes.cc (the database's JSON), domain_rate_limiter.cc (on an
// injected clock) and accounting_log.cc (the CSV lines and the header of a new file).
#include "targeting.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdio>
#include <fstream>
#include <sstream>

#include "accounting_log.h"
#include "domain_rate_limiter.h"
#include "recipient_attributes.h"
#include "temp_path.h"

namespace lbmail {
namespace {

RecipientAttributes attrs(std::string_view json) {
  auto a = RecipientAttributes::parse(json);
  EXPECT_TRUE(a) << json << ": " << a.error();
  return a ? *a : RecipientAttributes();
}

std::string value(const RecipientAttributes& a, std::string_view name) {
  const std::string* v = a.find(name);
  return v ? *v : "<missing>";
}

std::string parseError(std::string_view json) {
  auto a = RecipientAttributes::parse(json);
  return a ? "<parsed>" : a.error();
}

TEST(Attributes, StringsWithEveryEscape) {
  RecipientAttributes a =
      attrs(R"({ "nl" : "a\nb", "quote": "say \"hi\"", "slash": "c:\\dir\/x", "ctl": "\t\r\b\f",)"
            R"( "e_acute": "caf\u00e9", "euro": "\u20AC", "smile": "\ud83d\ude00", "nul": "x\u0000y" })");
  EXPECT_EQ(a.size(), 8u);
  EXPECT_EQ(value(a, "nl"), "a\nb");
  EXPECT_EQ(value(a, "quote"), "say \"hi\"");
  EXPECT_EQ(value(a, "slash"), "c:\\dir/x");
  EXPECT_EQ(value(a, "ctl"), "\t\r\b\f");
  EXPECT_EQ(value(a, "e_acute"), "caf\xC3\xA9");
  EXPECT_EQ(value(a, "euro"), "\xE2\x82\xAC");
  EXPECT_EQ(value(a, "smile"), "\xF0\x9F\x98\x80");
  EXPECT_EQ(value(a, "nul"), std::string("x\0y", 3));
}

TEST(Attributes, ScalarsAreKeptAsTheirText) {
  RecipientAttributes a = attrs(R"({"n": -12.5e+3, "i":42, "t": true, "f":false, "z": null, "s": "42"})");
  EXPECT_EQ(a.size(), 6u);
  EXPECT_EQ(value(a, "n"), "-12.5e+3");
  EXPECT_EQ(value(a, "i"), "42");
  EXPECT_EQ(value(a, "t"), "true");
  EXPECT_EQ(value(a, "f"), "false");
  EXPECT_EQ(value(a, "z"), "null");
  EXPECT_EQ(value(a, "s"), "42");
}

TEST(Attributes, EmptyObjectAndMissingName) {
  RecipientAttributes a = attrs(" { } \n");
  EXPECT_EQ(a.size(), 0u);
  EXPECT_EQ(a.find("x"), nullptr);
  RecipientAttributes b = attrs(R"({"x":"1"})");
  EXPECT_EQ(b.find("y"), nullptr);
  EXPECT_EQ(b.find("X"), nullptr);  // names are case-sensitive
  ASSERT_NE(b.find("x"), nullptr);
}

TEST(Attributes, ErrorsSayWhatAndWhere) {
  EXPECT_EQ(parseError(""), "attributes: expected a JSON object at offset 0");
  EXPECT_EQ(parseError("  [1]"), "attributes: expected a JSON object at offset 2");
  EXPECT_EQ(parseError(R"("x")"), "attributes: expected a JSON object at offset 0");
  EXPECT_EQ(parseError(R"({"a":{"b":"c"}})"), "attributes: nested values are not attributes at offset 5");
  EXPECT_EQ(parseError(R"({"a": ["b"]})"), "attributes: nested values are not attributes at offset 6");
  EXPECT_EQ(parseError(R"({"a":"abc)"), "attributes: expected a value at offset 9");
  EXPECT_EQ(parseError(R"({"a":"abc\)"), "attributes: expected a value at offset 10");
  EXPECT_EQ(parseError(R"({"a":"\udc00"})"), "attributes: expected a value at offset 12");
  EXPECT_EQ(parseError(R"({"a":"\ud83d"})"), "attributes: expected a value at offset 12");        // high alone
  EXPECT_EQ(parseError(R"({"a":"\ud83d\u0041"})"), "attributes: expected a value at offset 18");  // high + not low
  EXPECT_EQ(parseError(R"({"a":"\u12g4"})"), "attributes: expected a value at offset 11");
  EXPECT_EQ(parseError(R"({"a":"\q"})"), "attributes: expected a value at offset 8");
  EXPECT_EQ(parseError("{\"a\":\"x\ny\"}"), "attributes: expected a value at offset 8");  // raw control char
  EXPECT_EQ(parseError("{\"a\":\"x\x01y\"}"), "attributes: expected a value at offset 8");
  EXPECT_EQ(parseError(R"({"a":"b"} x)"), "attributes: text after the object at offset 10");
  EXPECT_EQ(parseError(R"({} {})"), "attributes: text after the object at offset 3");
  EXPECT_EQ(parseError(R"({"a":"b",})"), "attributes: expected a quoted name at offset 9");
  EXPECT_EQ(parseError(R"({"a" "b"})"), "attributes: expected ':' at offset 5");
  EXPECT_EQ(parseError(R"({"a":})"), "attributes: expected a value at offset 5");
  EXPECT_EQ(parseError(R"({"a":"b" "c":"d"})"), "attributes: expected ',' or '}' at offset 9");
  EXPECT_EQ(parseError(R"({a:"b"})"), "attributes: expected a quoted name at offset 1");
  EXPECT_EQ(parseError(R"({"a":"b")"), "attributes: expected ',' or '}' at offset 8");
}

std::string manyAttributes(int n) {
  std::string json = "{";
  for (int i = 0; i < n; ++i) json += (i ? ",\"k" : "\"k") + std::to_string(i) + "\":\"v\"";
  return json + "}";
}

TEST(Attributes, AtMost1024Attributes) {
  auto ok = RecipientAttributes::parse(manyAttributes(1024));
  ASSERT_TRUE(ok) << ok.error();
  EXPECT_EQ(ok->size(), 1024u);
  EXPECT_EQ(value(*ok, "k1023"), "v");
  std::string json = manyAttributes(1025);
  auto bad = RecipientAttributes::parse(json);
  ASSERT_FALSE(bad);
  EXPECT_NE(bad.error().find("more than 1024 attributes at offset "), std::string::npos) << bad.error();
  // The offset is where the 1025th name starts.
  EXPECT_EQ(bad.error(),
            "attributes: more than 1024 attributes at offset " + std::to_string(json.rfind(",\"k1024") + 1));
}

Condition cond(std::string field, ConditionOp op, std::vector<std::string> values = {}, double number = 0,
               bool exists = true) {
  Condition c;
  c.field = std::move(field);
  c.op = op;
  c.values = std::move(values);
  c.number = number;
  c.exists = exists;
  return c;
}

class TargetingTest : public ::testing::Test {
 protected:
  bool holds(const Condition& c) const { return Targeting::holds(c, view()); }
  RecipientView view() const { return RecipientView{"ana@mail.example", "mail.example", attributes_}; }

  RecipientAttributes attributes_ = attrs(
      R"({"tier":"gold","country":"NL","spend":"120.5","age":" 40 ","bio":"likes tea","note":"n/a","big":"Infinity","odd":"nan"})");
};

TEST_F(TargetingTest, EqualsAndNotEquals) {
  EXPECT_TRUE(holds(cond("tier", ConditionOp::kEquals, {"gold"})));
  EXPECT_FALSE(holds(cond("tier", ConditionOp::kEquals, {"Gold"})));
  EXPECT_FALSE(holds(cond("missing", ConditionOp::kEquals, {""})));
  EXPECT_FALSE(holds(cond("tier", ConditionOp::kNotEquals, {"gold"})));
  EXPECT_TRUE(holds(cond("tier", ConditionOp::kNotEquals, {"silver"})));
  // A recipient without the attribute does not have the value asked for.
  EXPECT_TRUE(holds(cond("missing", ConditionOp::kNotEquals, {"gold"})));
}

TEST_F(TargetingTest, OneOfAndContains) {
  EXPECT_TRUE(holds(cond("country", ConditionOp::kOneOf, {"BE", "NL"})));
  EXPECT_FALSE(holds(cond("country", ConditionOp::kOneOf, {"BE", "DE"})));
  EXPECT_FALSE(holds(cond("missing", ConditionOp::kOneOf, {"BE", "NL"})));
  EXPECT_TRUE(holds(cond("bio", ConditionOp::kContains, {"tea"})));
  EXPECT_TRUE(holds(cond("bio", ConditionOp::kContains, {""})));
  EXPECT_FALSE(holds(cond("bio", ConditionOp::kContains, {"coffee"})));
  EXPECT_FALSE(holds(cond("missing", ConditionOp::kContains, {""})));
}

TEST_F(TargetingTest, NumericComparisons) {
  EXPECT_TRUE(holds(cond("spend", ConditionOp::kLess, {}, 121)));
  EXPECT_FALSE(holds(cond("spend", ConditionOp::kLess, {}, 120.5)));
  EXPECT_TRUE(holds(cond("spend", ConditionOp::kLessEqual, {}, 120.5)));
  EXPECT_FALSE(holds(cond("spend", ConditionOp::kLessEqual, {}, 120)));
  EXPECT_TRUE(holds(cond("spend", ConditionOp::kGreater, {}, 100)));
  EXPECT_FALSE(holds(cond("spend", ConditionOp::kGreater, {}, 120.5)));
  EXPECT_TRUE(holds(cond("spend", ConditionOp::kGreaterEqual, {}, 120.5)));
  EXPECT_FALSE(holds(cond("spend", ConditionOp::kGreaterEqual, {}, 121)));
  EXPECT_TRUE(holds(cond("age", ConditionOp::kGreaterEqual, {}, 40)));  // blanks around a number
  EXPECT_TRUE(holds(cond("age", ConditionOp::kLessEqual, {}, 40)));
  // A value that is not a number, or no value, satisfies no comparison either way.
  for (ConditionOp op :
       {ConditionOp::kLess, ConditionOp::kLessEqual, ConditionOp::kGreater, ConditionOp::kGreaterEqual}) {
    EXPECT_FALSE(holds(cond("note", op, {}, 0))) << static_cast<int>(op);
    EXPECT_FALSE(holds(cond("tier", op, {}, 0))) << static_cast<int>(op);
    EXPECT_FALSE(holds(cond("missing", op, {}, 0))) << static_cast<int>(op);
    EXPECT_FALSE(holds(cond("big", op, {}, 0))) << static_cast<int>(op);  // from_chars reads these; we don't
    EXPECT_FALSE(holds(cond("odd", op, {}, 0))) << static_cast<int>(op);
  }
}

TEST_F(TargetingTest, Exists) {
  EXPECT_TRUE(holds(cond("tier", ConditionOp::kExists, {}, 0, true)));
  EXPECT_FALSE(holds(cond("tier", ConditionOp::kExists, {}, 0, false)));
  EXPECT_FALSE(holds(cond("missing", ConditionOp::kExists, {}, 0, true)));
  EXPECT_TRUE(holds(cond("missing", ConditionOp::kExists, {}, 0, false)));
}

TEST_F(TargetingTest, EmailAndDomainPseudoFields) {
  EXPECT_TRUE(holds(cond("email", ConditionOp::kEquals, {"ana@mail.example"})));
  EXPECT_TRUE(holds(cond("email", ConditionOp::kContains, {"ana@"})));
  EXPECT_TRUE(holds(cond("domain", ConditionOp::kOneOf, {"other.example", "mail.example"})));
  EXPECT_FALSE(holds(cond("domain", ConditionOp::kEquals, {"other.example"})));
  EXPECT_TRUE(holds(cond("domain", ConditionOp::kExists, {}, 0, true)));
  // The pseudo-fields win over attributes of the same name.
  RecipientAttributes shadow = attrs(R"({"domain":"attr.example","email":"attr@attr.example"})");
  RecipientView v{"bob@real.example", "real.example", shadow};
  EXPECT_TRUE(Targeting::holds(cond("domain", ConditionOp::kEquals, {"real.example"}), v));
  EXPECT_TRUE(Targeting::holds(cond("email", ConditionOp::kEquals, {"bob@real.example"}), v));
}

TEST(Targeting, AllAndAnyCombined) {
  TargetingRule rule;
  rule.material = 1;
  rule.all = {cond("tier", ConditionOp::kEquals, {"gold"})};
  rule.any = {cond("spend", ConditionOp::kGreaterEqual, {}, 100), cond("country", ConditionOp::kOneOf, {"NL", "BE"})};
  Targeting t({rule}, 0);
  auto pick = [&](std::string_view json) {
    RecipientAttributes a = attrs(json);
    return t.materialFor(RecipientView{"x@y.example", "y.example", a});
  };
  EXPECT_EQ(pick(R"({"tier":"gold","spend":"150","country":"DE"})"), 1);  // all + first of any
  EXPECT_EQ(pick(R"({"tier":"gold","spend":"50","country":"BE"})"), 1);   // all + second of any
  EXPECT_EQ(pick(R"({"tier":"gold","spend":"50","country":"DE"})"), 0);   // all, but none of any
  EXPECT_EQ(pick(R"({"tier":"std","spend":"150","country":"NL"})"), 0);   // any, but not all
  EXPECT_EQ(pick(R"({"tier":"gold"})"), 0);

  // Only `any`: one is enough. Only `all`: every one is needed.
  TargetingRule any_only;
  any_only.material = 2;
  any_only.any = {cond("a", ConditionOp::kExists), cond("b", ConditionOp::kExists)};
  TargetingRule all_only;
  all_only.material = 3;
  all_only.all = {cond("c", ConditionOp::kExists), cond("d", ConditionOp::kExists)};
  Targeting t2({any_only, all_only}, -1);
  auto pick2 = [&](std::string_view json) {
    RecipientAttributes a = attrs(json);
    return t2.materialFor(RecipientView{"x@y.example", "y.example", a});
  };
  EXPECT_EQ(pick2(R"({"b":"1"})"), 2);
  EXPECT_EQ(pick2(R"({"c":"1","d":"1"})"), 3);
  EXPECT_EQ(pick2(R"({"c":"1"})"), -1);
}

TEST(Targeting, FirstMatchingRuleWinsThenDefaultThenNone) {
  TargetingRule gold;
  gold.material = 2;
  gold.all = {cond("tier", ConditionOp::kEquals, {"gold"})};
  TargetingRule dutch;
  dutch.material = 1;
  dutch.all = {cond("domain", ConditionOp::kEquals, {"mail.nl"})};
  TargetingRule gold_again;
  gold_again.material = 3;
  gold_again.all = {cond("tier", ConditionOp::kExists)};

  RecipientAttributes gold_attrs = attrs(R"({"tier":"gold"})");
  RecipientAttributes std_attrs = attrs(R"({"tier":"std"})");
  RecipientAttributes none = attrs("{}");
  Targeting with_default({gold, dutch, gold_again}, 0);
  EXPECT_EQ(with_default.materialFor({"a@mail.nl", "mail.nl", gold_attrs}), 2);  // rule 1 before rule 2
  EXPECT_EQ(with_default.materialFor({"a@mail.nl", "mail.nl", none}), 1);
  EXPECT_EQ(with_default.materialFor({"a@mail.de", "mail.de", std_attrs}), 3);
  EXPECT_EQ(with_default.materialFor({"a@mail.de", "mail.de", none}), 0);

  Targeting without_default({gold, dutch}, -1);
  EXPECT_EQ(without_default.materialFor({"a@mail.de", "mail.de", std_attrs}), -1);
  EXPECT_EQ(without_default.materialFor({"a@mail.de", "mail.de", gold_attrs}), 2);
  EXPECT_EQ(Targeting().materialFor({"a@mail.de", "mail.de", none}), -1);
  EXPECT_EQ(Targeting({}, 4).materialFor({"a@mail.de", "mail.de", none}), 4);
}

TEST(RateLimit, PerDomainTokenBucketOnAnInjectedClock) {
  RateLimits limits;
  limits.per_domain = 10;
  DomainRateLimiter r(limits);
  EXPECT_TRUE(r.limited());
  const uint64_t t0 = 1'000'000;
  for (int i = 0; i < 10; ++i) EXPECT_TRUE(r.tryTake(0, "a.example", t0)) << i;
  EXPECT_FALSE(r.tryTake(0, "a.example", t0));
  EXPECT_FALSE(r.tryTake(0, "a.example", t0 + 99));  // 0.99 of a token
  EXPECT_TRUE(r.tryTake(0, "a.example", t0 + 100));
  EXPECT_FALSE(r.tryTake(0, "a.example", t0 + 100));
  // Another domain has its own bucket.
  for (int i = 0; i < 10; ++i) EXPECT_TRUE(r.tryTake(1, "b.example", t0 + 100)) << i;
  EXPECT_FALSE(r.tryTake(1, "b.example", t0 + 100));
  // A long pause refills at most one second's worth: no burst after it.
  int taken = 0;
  while (r.tryTake(0, "a.example", t0 + 60'000) && taken < 100) ++taken;
  EXPECT_EQ(taken, 10);
}

TEST(RateLimit, DomainOverride) {
  RateLimits limits;
  limits.per_domain = 10;
  limits.domains = {{"slow.example", 2}, {"fast.example", 100}};
  DomainRateLimiter r(limits);
  EXPECT_TRUE(r.tryTake(0, "slow.example", 0));
  EXPECT_TRUE(r.tryTake(0, "slow.example", 0));
  EXPECT_FALSE(r.tryTake(0, "slow.example", 0));
  EXPECT_FALSE(r.tryTake(0, "slow.example", 499));
  EXPECT_TRUE(r.tryTake(0, "slow.example", 500));
  int fast = 0;
  while (r.tryTake(1, "fast.example", 0) && fast < 1000) ++fast;
  EXPECT_EQ(fast, 100);
  int other = 0;
  while (r.tryTake(2, "other.example", 0) && other < 1000) ++other;
  EXPECT_EQ(other, 10);
}

TEST(RateLimit, OverrideOnlyLeavesOtherDomainsUnlimited) {
  RateLimits limits;
  limits.domains = {{"slow.example", 1}};
  DomainRateLimiter r(limits);
  EXPECT_TRUE(r.limited());
  EXPECT_TRUE(r.tryTake(0, "slow.example", 0));
  EXPECT_FALSE(r.tryTake(0, "slow.example", 999));
  EXPECT_TRUE(r.tryTake(0, "slow.example", 1000));
  for (int i = 0; i < 1000; ++i) ASSERT_TRUE(r.tryTake(1, "other.example", 0)) << i;
}

TEST(RateLimit, NoLimitsAlwaysAllow) {
  DomainRateLimiter r{RateLimits{}};
  EXPECT_FALSE(r.limited());
  for (int i = 0; i < 10000; ++i) ASSERT_TRUE(r.tryTake(static_cast<uint32_t>(i % 3), "a.example", 0)) << i;
}

StateChange sampleChange() {
  StateChange c;
  c.recipient_id = 7;
  c.state = RecipientState::kDelivered;
  c.attempts = 2;
  c.material = "gold";
  c.gateway = "gw1";
  c.smtp_code = 250;
  c.enhanced_code = "2.0.0";
  c.delivery_ms = 12.34;
  c.at = 1700000000.25;  // 2023-11-14T22:13:20.250Z
  c.email = "ana@mail.example";
  c.domain = "mail.example";
  c.tls = "TLSv1.3";
  c.tls_verified = true;
  return c;
}

TEST(AccountingLog, LineFollowsTheHeaderColumns) {
  EXPECT_STREQ(AccountingLog::kHeader,
               "time,recipient,domain,material,gateway,outcome,smtp_code,enhanced_code,delivery_ms,attempt,tls,"
               "tls_verified\n");
  std::string line;
  AccountingLog::formatLine(sampleChange(), line);
  EXPECT_EQ(line,
            "2023-11-14T22:13:20.250Z,ana@mail.example,mail.example,gold,gw1,delivered,250,2.0.0,12.3,2,TLSv1.3,true\n");
  // As many columns as the header.
  auto columns = [](const std::string& s) { return std::count(s.begin(), s.end(), ',') + 1; };
  EXPECT_EQ(columns(line), columns(AccountingLog::kHeader));

  // No SMTP code (a failure before any reply): an empty column; lines append to out.
  StateChange c = sampleChange();
  c.state = RecipientState::kFailed;
  c.smtp_code = 0;
  c.enhanced_code.clear();
  c.delivery_ms = 0;
  c.attempts = 1;
  c.at = 0;
  c.tls.clear();  // no RESULT said: both TLS columns empty
  c.tls_verified = true;
  AccountingLog::formatLine(c, line);
  EXPECT_EQ(line,
            "2023-11-14T22:13:20.250Z,ana@mail.example,mail.example,gold,gw1,delivered,250,2.0.0,12.3,2,TLSv1.3,true\n"
            "1970-01-01T00:00:00.000Z,ana@mail.example,mail.example,gold,gw1,failed,,,0.0,1,,\n");
}

TEST(AccountingLog, APlainSessionIsNoneAndUnverified) {
  StateChange c = sampleChange();
  c.tls = "none";
  c.tls_verified = false;
  std::string line;
  AccountingLog::formatLine(c, line);
  EXPECT_TRUE(line.ends_with(",12.3,2,none,false\n")) << line;
}

TEST(AccountingLog, TimeIsIso8601UtcWithMilliseconds) {
  auto timeOf = [](double at) {
    StateChange c = sampleChange();
    c.at = at;
    std::string line;
    AccountingLog::formatLine(c, line);
    return line.substr(0, line.find(','));
  };
  EXPECT_EQ(timeOf(0.5), "1970-01-01T00:00:00.500Z");
  EXPECT_EQ(timeOf(951782400.125), "2000-02-29T00:00:00.125Z");  // a leap day
  EXPECT_EQ(timeOf(1767225599.9990234375), "2025-12-31T23:59:59.999Z");
  EXPECT_EQ(timeOf(4102444800), "2100-01-01T00:00:00.000Z");
}

TEST(AccountingLog, FieldsAreQuotedPerRfc4180) {
  StateChange c = sampleChange();
  c.material = "spring, \"gold\"";
  c.gateway = "gw\n1";
  c.enhanced_code = "5.1.1\r";
  c.email = "plain@mail.example";
  c.tls = "TLS,\"1\"";  // a gateway's text, never trusted to be plain
  std::string line;
  AccountingLog::formatLine(c, line);
  EXPECT_EQ(line,
            "2023-11-14T22:13:20.250Z,plain@mail.example,mail.example,\"spring, \"\"gold\"\"\",\"gw\n1\",delivered,250,"
            "\"5.1.1\r\",12.3,2,\"TLS,\"\"1\"\"\",true\n");
}

std::string readAll(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

TEST(AccountingLog, HeaderOnceAcrossReopens) {
  std::string path = test::tempPath("accounting.csv");
  std::remove(path.c_str());
  std::vector<StateChange> changes{sampleChange()};
  std::string line;
  AccountingLog::formatLine(changes[0], line);
  {
    auto log = AccountingLog::open(path);
    ASSERT_TRUE(log) << log.error();
    EXPECT_EQ(readAll(path), AccountingLog::kHeader);  // written (and flushed) at open
    ASSERT_TRUE((*log)->append(changes));
  }
  {
    auto log = AccountingLog::open(path);
    ASSERT_TRUE(log) << log.error();
    ASSERT_TRUE((*log)->append(changes));
    ASSERT_TRUE((*log)->append({}));
  }
  EXPECT_EQ(readAll(path), std::string(AccountingLog::kHeader) + line + line);

  // An existing empty file gets the header too.
  std::ofstream(path, std::ios::trunc).close();
  ASSERT_TRUE(AccountingLog::open(path));
  EXPECT_EQ(readAll(path), AccountingLog::kHeader);

  auto bad = AccountingLog::open(test::tempPath("no-such-dir") + "/accounting.csv");
  ASSERT_FALSE(bad);
  EXPECT_NE(bad.error().find("no-such-dir/accounting.csv: "), std::string::npos) << bad.error();
}

// Lines with the TLS columns under an older header would not match it: such a file is refused
// and left as it is.
TEST(AccountingLog, AFileBegunByAnOlderVersionIsRefusedUntouched) {
  std::string path = test::tempPath("accounting-old.csv");
  std::string old =
      "time,recipient,domain,material,gateway,outcome,smtp_code,enhanced_code,delivery_ms,attempt\n"
      "2023-11-14T22:13:20.250Z,ana@mail.example,mail.example,gold,gw1,delivered,250,2.0.0,12.3,2\n";
  std::ofstream(path, std::ios::trunc | std::ios::binary) << old;
  auto log = AccountingLog::open(path);
  ASSERT_FALSE(log);
  EXPECT_NE(log.error().find(path + ": its header is not this version's columns (time,"), std::string::npos)
      << log.error();
  EXPECT_NE(log.error().find("tls_verified); move the file aside"), std::string::npos) << log.error();
  EXPECT_EQ(readAll(path), old);
}

}  // namespace
}  // namespace lbmail
