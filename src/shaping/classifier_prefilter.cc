// Required literals of a pattern rule (classifier_prefilter.h).
#include "classifier_prefilter.h"

#include <algorithm>
#include <cstdint>
#include "lbmail/core/ascii_case.h"

namespace lbmail::shaping {

namespace {

constexpr size_t kMinLiteral = 2;

bool isQuantifier(char c) { return c == '?' || c == '*' || c == '+' || c == '{'; }

// Index just past the construct that starts at i: an escape (two characters), a class
// ("[...]"), a group ("(...)", nested) or a bounded repeat ("{m,n}").
size_t skipConstruct(std::string_view p, size_t i) {
  if (p[i] == '\\') return std::min(i + 2, p.size());
  if (p[i] == '{') {
    size_t end = p.find('}', i);
    return end == std::string_view::npos ? p.size() : end + 1;
  }
  if (p[i] == '[') {
    for (size_t j = i + 1; j < p.size(); ++j) {
      if (p[j] == '\\') {
        ++j;
      } else if (p[j] == ']') {
        return j + 1;
      }
    }
    return p.size();
  }
  int depth = 0;  // p[i] == '('
  for (size_t j = i; j < p.size(); ++j) {
    if (p[j] == '\\' || p[j] == '[') {
      j = skipConstruct(p, j) - 1;
    } else if (p[j] == '(') {
      ++depth;
    } else if (p[j] == ')' && --depth == 0) {
      return j + 1;
    }
  }
  return p.size();
}

bool plainCharacter(char c) {
  static constexpr std::string_view kSpecial = "^$\\.*+?()[]{}|";
  return c >= 0x20 && c < 0x7f && kSpecial.find(c) == std::string_view::npos;
}

size_t shortest(const std::vector<std::string>& literals) {
  size_t n = SIZE_MAX;
  for (const std::string& l : literals) n = std::min(n, l.size());
  return n;
}

// The literals of the group alt[i, end) ("(...)") when every match of alt passes through it:
// not followed by "?", "*" or "{", and no lookahead; else none.
std::vector<std::string> groupLiterals(std::string_view alt, size_t i, size_t end) {
  if (end < i + 2 || alt[end - 1] != ')') return {};
  if (end < alt.size() && (alt[end] == '?' || alt[end] == '*' || alt[end] == '{')) return {};
  std::string_view inner = alt.substr(i + 1, end - i - 2);
  if (inner.starts_with("?:")) {
    inner.remove_prefix(2);
  } else if (inner.starts_with("?")) {
    return {};
  }
  return requiredLiterals(inner);
}

// Literals one of which every match of alternative holds: its longest run of plain characters
// (in lower case), or the literals of one group it always passes through, when those are
// longer.
std::vector<std::string> alternativeLiterals(std::string_view alt) {
  std::string best, run;
  std::vector<std::string> best_group;
  auto endRun = [&] {
    if (run.size() > best.size()) best = run;
    run.clear();
  };
  for (size_t i = 0; i < alt.size();) {
    char c = alt[i];
    if (isQuantifier(c)) {
      // "x?", "x*", "x{0,1}" may match no x; "x+" always matches one.
      if (c != '+' && !run.empty()) run.pop_back();
      endRun();
      i = c == '{' ? skipConstruct(alt, i) : i + 1;
    } else if (plainCharacter(c)) {
      run += c;
      ++i;
    } else if (c == '(') {
      endRun();
      size_t end = skipConstruct(alt, i);
      std::vector<std::string> group = groupLiterals(alt, i, end);
      if (!group.empty() && (best_group.empty() || shortest(group) > shortest(best_group))) best_group = group;
      i = end;
    } else {
      endRun();
      i = (c == '\\' || c == '[') ? skipConstruct(alt, i) : i + 1;
    }
  }
  endRun();
  if (!best_group.empty() && shortest(best_group) > best.size()) return best_group;
  if (best.size() < kMinLiteral) return {};
  return {asciiLowercase(best)};
}

}  // namespace

std::vector<std::string> requiredLiterals(std::string_view pattern) {
  std::vector<std::string> literals;
  size_t start = 0;
  for (size_t i = 0; i <= pattern.size();) {
    if (i == pattern.size() || pattern[i] == '|') {
      std::vector<std::string> alt = alternativeLiterals(pattern.substr(start, i - start));
      if (alt.empty()) return {};
      literals.insert(literals.end(), alt.begin(), alt.end());
      start = ++i;
    } else if (pattern[i] == '\\' || pattern[i] == '[' || pattern[i] == '(') {
      i = skipConstruct(pattern, i);
    } else {
      ++i;
    }
  }
  return literals;
}

}  // namespace lbmail::shaping
