// The _mta-sts TXT record (RFC 8461 section 3.1): "v=STSv1; id=...;", whose id says when the
// policy behind it changed.
#pragma once

#include <span>
#include <string>
#include <string_view>

#include "lbmail/core/expected.h"

namespace lbmail::mta_sts {

// One record's text (its character-strings joined) -> its id (1 to 32 letters and digits).
// v=STSv1 must come first; extension fields are ignored; the error says why it is refused.
Expected<std::string, std::string> parseMtaStsRecord(std::string_view txt);

// All TXT texts at _mta-sts.<domain> -> the id. Texts not starting with "v=STSv1" are
// discarded; none or more than one left means the domain has no policy (RFC 8461 section 3.1).
Expected<std::string, std::string> selectMtaStsRecord(std::span<const std::string> texts);

}  // namespace lbmail::mta_sts
