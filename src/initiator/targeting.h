// Which material a recipient gets: the campaign's rules in order, the first that matches wins,
// else the default (or none: the recipient then fails with that reason). A rule holds
// conditions on attributes combined with and (`all`) and or (`any`); both may be given, and
// then both must hold. `email` and `domain` can be tested like attributes.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "recipient_attributes.h"

namespace lbmail {

enum class ConditionOp { kEquals, kNotEquals, kOneOf, kContains, kLess, kLessEqual, kGreater, kGreaterEqual, kExists };

struct Condition {
  std::string field;
  ConditionOp op = ConditionOp::kEquals;
  std::vector<std::string> values;  // equals, not_equals, contains: one; one_of: several
  double number = 0;                // lt, le, gt, ge
  bool exists = true;               // exists = true / false
};

struct TargetingRule {
  std::vector<Condition> all;
  std::vector<Condition> any;
  size_t material = 0;  // index into the campaign's materials
};

// What a condition can see of a recipient.
struct RecipientView {
  std::string_view email;
  std::string_view domain;
  const RecipientAttributes& attributes;
};

class Targeting {
 public:
  Targeting() = default;
  Targeting(std::vector<TargetingRule> rules, int default_material)
      : rules_(std::move(rules)), default_(default_material) {}

  // The material's index, or -1 when no rule matches and there is no default.
  int materialFor(const RecipientView& r) const;

  static bool holds(const Condition& c, const RecipientView& r);

 private:
  std::vector<TargetingRule> rules_;
  int default_ = -1;
};

}  // namespace lbmail
