// Evaluating targeting rules.
#include "targeting.h"

#include <charconv>
#include <cmath>
#include <optional>

namespace lbmail {
namespace {

std::optional<double> number(std::string_view s) {
  while (!s.empty() && s.front() == ' ') s.remove_prefix(1);
  while (!s.empty() && s.back() == ' ') s.remove_suffix(1);
  double v = 0;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  // "inf" and "nan" parse, but no one means them as an attribute's number.
  if (ec != std::errc() || end != s.data() + s.size() || s.empty() || !std::isfinite(v)) return std::nullopt;
  return v;
}

}  // namespace

bool Targeting::holds(const Condition& c, const RecipientView& r) {
  std::string_view value;
  bool present = true;
  if (c.field == "email") {
    value = r.email;
  } else if (c.field == "domain") {
    value = r.domain;
  } else if (const std::string* v = r.attributes.find(c.field)) {
    value = *v;
  } else {
    present = false;
  }
  if (c.op == ConditionOp::kExists) return present == c.exists;
  // A missing attribute satisfies only "not equals": it is not the value asked for.
  if (!present) return c.op == ConditionOp::kNotEquals;
  switch (c.op) {
    case ConditionOp::kEquals: return value == c.values[0];
    case ConditionOp::kNotEquals: return value != c.values[0];
    case ConditionOp::kContains: return value.find(c.values[0]) != std::string_view::npos;
    case ConditionOp::kOneOf:
      for (const std::string& v : c.values) {
        if (value == v) return true;
      }
      return false;
    case ConditionOp::kExists: break;
    default: {
      // A value that is not a number satisfies no numeric comparison.
      std::optional<double> x = number(value);
      if (!x) return false;
      switch (c.op) {
        case ConditionOp::kLess: return *x < c.number;
        case ConditionOp::kLessEqual: return *x <= c.number;
        case ConditionOp::kGreater: return *x > c.number;
        case ConditionOp::kGreaterEqual: return *x >= c.number;
        default: return false;
      }
    }
  }
  return false;
}

int Targeting::materialFor(const RecipientView& r) const {
  for (const TargetingRule& rule : rules_) {
    bool ok = true;
    for (const Condition& c : rule.all) {
      if (!holds(c, r)) {
        ok = false;
        break;
      }
    }
    if (ok && !rule.any.empty()) {
      ok = false;
      for (const Condition& c : rule.any) {
        if (holds(c, r)) {
          ok = true;
          break;
        }
      }
    }
    if (ok) return static_cast<int>(rule.material);
  }
  return default_;
}

}  // namespace lbmail
