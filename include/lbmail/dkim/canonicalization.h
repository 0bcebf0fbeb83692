// DKIM canonicalization algorithms (RFC 6376 section 3.4).
#pragma once

#include <optional>
#include <string_view>
#include <utility>

namespace lbmail::dkim {

enum class Canonicalization { kSimple, kRelaxed };

// The c= tag's value: "header/body"; one word alone means that header algorithm with a simple
// body (RFC 6376 section 3.5, c=). nullopt for anything else.
std::optional<std::pair<Canonicalization, Canonicalization>> parseCanonicalization(std::string_view text);

}  // namespace lbmail::dkim
