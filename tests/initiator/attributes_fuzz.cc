// libFuzzer target for the recipient attributes parser: any bytes, as the database may hold
// them; never a crash, and what parses is within the attribute limit and can be targeted.
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "recipient_attributes.h"
#include "targeting.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view input(reinterpret_cast<const char*>(data), size);
  auto parsed = lbmail::RecipientAttributes::parse(input);
  if (!parsed) {
    if (parsed.error().find(" at offset ") == std::string_view::npos) std::abort();
    return 0;
  }
  const lbmail::RecipientAttributes& a = *parsed;
  // Every attribute came from a quoted name and a value of at least a quote pair or a literal.
  if (a.size() > 1024 || a.size() * 4 > size) std::abort();
  lbmail::RecipientView view{"user@example.test", "example.test", a};
  using lbmail::ConditionOp;
  static const char* const kFields[] = {"tier", "spend", "a", "", "email", "domain"};
  for (const char* field : kFields) {
    const std::string* v = a.find(field);
    if (v && v->size() > size) std::abort();
    for (ConditionOp op : {ConditionOp::kEquals, ConditionOp::kNotEquals, ConditionOp::kOneOf, ConditionOp::kContains,
                           ConditionOp::kLess, ConditionOp::kLessEqual, ConditionOp::kGreater,
                           ConditionOp::kGreaterEqual, ConditionOp::kExists}) {
      lbmail::Condition c;
      c.field = field;
      c.op = op;
      c.values = {"gold", "1"};
      c.number = 100;
      bool holds = lbmail::Targeting::holds(c, view);
      // equals and not_equals are each other's opposite when the attribute is present.
      if (op == ConditionOp::kEquals) {
        c.op = ConditionOp::kNotEquals;
        bool present = v || std::string_view(field) == "email" || std::string_view(field) == "domain";
        if (present && holds == lbmail::Targeting::holds(c, view)) std::abort();
      }
      if (op == ConditionOp::kExists) {
        c.exists = false;
        if (holds == lbmail::Targeting::holds(c, view)) std::abort();
      }
    }
  }
  lbmail::TargetingRule rule;
  rule.material = 1;
  rule.all.push_back({"tier", ConditionOp::kEquals, {"gold"}, 0, true});
  rule.any.push_back({"spend", ConditionOp::kGreaterEqual, {}, 100, true});
  rule.any.push_back({"country", ConditionOp::kOneOf, {"NL", "BE"}, 0, true});
  lbmail::Targeting targeting({rule}, 0);
  int m = targeting.materialFor(view);
  if (m != 0 && m != 1) std::abort();
  return 0;
}
