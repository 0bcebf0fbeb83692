// DKIM header canonicalization (RFC 6376 3.4.1, 3.4.2).
#include "lbmail/dkim/canonicalization.h"

#include "dkim_text.h"

namespace lbmail::dkim {
namespace {

// The relaxed value: CRLFs removed (unfolding), WSP runs as one SP, no WSP at either end.
void appendRelaxedValue(std::string& out, std::string_view value) {
  bool pending_space = false;
  bool started = false;
  for (size_t i = 0; i < value.size(); ++i) {
    char c = value[i];
    if (c == '\r' && i + 1 < value.size() && value[i + 1] == '\n') {
      ++i;
      continue;
    }
    if (isWsp(c)) {
      pending_space = started;
      continue;
    }
    if (pending_space) out.push_back(' ');
    pending_space = false;
    started = true;
    out.push_back(c);
  }
}

}  // namespace

std::string_view canonicalizationName(Canonicalization c) {
  return c == Canonicalization::kSimple ? "simple" : "relaxed";
}

void appendCanonicalHeader(std::string& out, std::string_view field, Canonicalization c) {
  if (c == Canonicalization::kSimple) {
    out.append(field);
    out.append("\r\n");
    return;
  }
  size_t colon = field.find(':');
  std::string_view name = field.substr(0, colon);
  while (!name.empty() && isWsp(name.back())) name.remove_suffix(1);
  for (char ch : name) out.push_back(asciiLower(ch));
  if (colon != std::string_view::npos) {
    out.push_back(':');
    appendRelaxedValue(out, field.substr(colon + 1));
  }
  out.append("\r\n");
}

}  // namespace lbmail::dkim
