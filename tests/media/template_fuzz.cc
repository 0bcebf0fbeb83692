// libFuzzer target for the template parser and the assembly it feeds: the input is a template
// and a merge-field value (split at the first NUL). Whatever the bytes, compiling never
// crashes, and a message built from what compiles keeps every promise: lines of at most 998
// octets, CRLF only, no line starting with '.', and no header but the ones lbmail writes.
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "lbmail/media/material.h"
#include "lbmail/media/message_assembler.h"

namespace {

using namespace lbmail::media;

void check(bool ok) {
  if (!ok) std::abort();
}

void checkMessage(const std::string& msg) {
  size_t header_end = msg.find("\r\n\r\n");
  check(header_end != std::string::npos);
  size_t pos = 0;
  while (pos < msg.size()) {
    size_t eol = msg.find("\r\n", pos);
    check(eol != std::string::npos);
    std::string_view line(msg.data() + pos, eol - pos);
    check(line.size() <= 998);
    check(line.find_first_of("\r\n") == std::string_view::npos);
    check(line.empty() || line.front() != '.');
    if (pos < header_end && !line.empty() && line.front() != ' ') {
      static constexpr std::string_view kAllowed[] = {"Date:",         "From:",         "To:",
                                                      "Subject:",      "Message-ID:",   "X-Lbmail-Id:",
                                                      "MIME-Version:", "Content-Type:", "Content-Transfer-Encoding:"};
      bool known = false;
      for (std::string_view h : kAllowed) known |= line.starts_with(h);
      check(known);
    }
    pos = eol + 2;
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view input(reinterpret_cast<const char*>(data), size);
  size_t nul = input.find('\0');
  std::string_view tmpl = input.substr(0, nul);
  std::string_view value = nul == std::string_view::npos ? std::string_view() : input.substr(nul + 1);

  FieldTable fields;
  fields.declare("a");
  fields.declare("b");
  (void)MessageTemplate::compile(tmpl, fields);

  static const MediaCache kNoMedia;
  MaterialSpec spec;
  spec.from = "Fuzz <fuzz@lbmail.test>";
  spec.fields = {"a", "b"};
  spec.subject = std::string(tmpl.substr(0, 200));
  spec.text = std::string(tmpl);
  spec.html = std::string(tmpl);
  auto material = Material::define(spec, kNoMedia);
  if (!material) {
    // A subject that is not one line fails: try the bodies alone.
    spec.subject = "fixed";
    material = Material::define(spec, kNoMedia);
    if (!material) return 0;
  }
  std::optional<std::string_view> values[] = {value, value.substr(0, value.size() / 2)};
  MessageRequest r;
  r.request_id = size;
  r.recipient = "rcpt@lbmail.test";
  r.fields = values;
  MessageAssembler assembler;
  auto msg = assembler.assemble(*material, r);
  if (msg) checkMessage(msg->flatten());
  return 0;
}
