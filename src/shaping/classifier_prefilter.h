// A cheap necessary condition for a pattern rule: libstdc++'s std::regex tries every start
// position of the 512-octet subject, which costs about a microsecond per position for a long
// alternation, so each pattern first looks for plain words it cannot match without. Private to
// src/shaping/.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace lbmail::shaping {

// Lower-case literals of an ECMAScript pattern such that the pattern can only match a subject
// that holds one of them (compared in lower case): for each top-level alternative, the longest
// run of plain characters it always matches (outside classes, escapes and optional
// characters), or the literals of a group it always passes through, when those are longer.
// Empty when some alternative has no literal of two or more characters: then the pattern is
// always tried.
std::vector<std::string> requiredLiterals(std::string_view pattern);


}  // namespace lbmail::shaping
