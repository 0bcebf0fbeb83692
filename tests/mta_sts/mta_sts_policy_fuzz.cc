// libFuzzer target: any bytes as an MTA-STS policy body and as a _mta-sts TXT record. Neither
// parser may crash; a policy that parses, written out again, parses to the same policy; every
// exact mx name it holds matches itself; an id is 1 to 32 letters and digits.
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "lbmail/mta_sts/mta_sts_policy.h"
#include "lbmail/mta_sts/mta_sts_record.h"

namespace {

using namespace lbmail::mta_sts;

std::string serialize(const MtaStsPolicy& p) {
  std::string out = "version: STSv1\r\nmode: " + std::string(modeName(p.mode)) + "\r\n";
  for (const std::string& mx : p.mx) out += "mx: " + mx + "\r\n";
  return out + "max_age: " + std::to_string(p.max_age.count()) + "\r\n";
}

void checkPolicy(std::string_view body) {
  auto p = parseMtaStsPolicy(body);
  if (!p) return;
  if (p->max_age > kMaxPolicyAge) std::abort();
  if (p->mx.empty() && p->mode != MtaStsPolicy::Mode::kNone) std::abort();
  for (const std::string& mx : p->mx) {
    if (!mx.starts_with("*.") && !p->matches(mx)) std::abort();
  }
  auto again = parseMtaStsPolicy(serialize(*p));
  if (!again || again->mode != p->mode || again->mx != p->mx || again->max_age != p->max_age) std::abort();
}

void checkRecord(std::string_view txt) {
  auto id = parseMtaStsRecord(txt);
  if (!id) return;
  if (id->empty() || id->size() > 32) std::abort();
  for (char c : *id) {
    bool alnum = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
    if (!alnum) std::abort();
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  checkPolicy(text);
  checkRecord(text);
  return 0;
}
