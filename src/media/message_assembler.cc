// Per-recipient assembly: a few hundred personalised octets, the rest shared slices.
#include "lbmail/media/message_assembler.h"

#include <charconv>

#include "lbmail/core/mailbox.h"
#include "lbmail/media/mime_header.h"

namespace lbmail::media {
namespace {

// Shared bytes shorter than this are copied: cheaper than one more iovec for the writer.
constexpr size_t kCopyBelow = 128;

std::optional<std::string_view> requestValue(int field, const MessageRequest& r) {
  if (field == TemplateSegment::kEmail) return r.recipient;
  size_t i = static_cast<size_t>(field);
  return i < r.fields.size() ? r.fields[i] : std::nullopt;
}

// The text a field stands for: its value, or its default when the value is absent or empty.
// Absent without a default cannot happen here: checkRequest refused such a request.
std::string_view fieldText(int field, const std::string& default_text, bool has_default, const MessageRequest& r) {
  std::optional<std::string_view> v = requestValue(field, r);
  if (v && !(v->empty() && has_default)) return *v;
  return default_text;
}

bool validMessageId(std::string_view id) {
  if (id.size() < 5 || id.size() > 250 || id.front() != '<' || id.back() != '>') return false;
  std::string_view inner = id.substr(1, id.size() - 2);
  if (inner.find('@') == std::string_view::npos) return false;
  for (char c : inner) {
    if (c <= 32 || c >= 127 || c == '<' || c == '>') return false;
  }
  return true;
}

// RFC 3986 section 2.3: unreserved characters stay, every other octet is percent-encoded, so a
// value can neither end the URI nor the header.
void appendPercentEncoded(std::string& out, std::string_view value) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  for (char ch : value) {
    unsigned char c = static_cast<unsigned char>(ch);
    if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '.' ||
        c == '_' || c == '~') {
      out.push_back(ch);
    } else {
      char e[3] = {'%', kHex[c >> 4], kHex[c & 15]};
      out.append(e, 3);
    }
  }
}

void appendNumber(std::string& out, uint64_t v, int base) {
  char buf[24];
  auto r = std::to_chars(buf, buf + sizeof buf, v, base);
  out.append(buf, r.ptr);
}

}  // namespace

std::optional<AssemblyError> MessageAssembler::checkRequest(const Material& m, const MessageRequest& r) const {
  using Kind = AssemblyError::Kind;
  if (const char* err = mailboxError(r.recipient))
    return AssemblyError{Kind::kBadAddress, std::string("recipient: ") + err};
  for (size_t i = 0; i < m.fields().size(); ++i) {
    if (!m.used(i)) continue;
    std::optional<std::string_view> v = i < r.fields.size() ? r.fields[i] : std::nullopt;
    if (!v) {
      if (m.requiresValue(i))
        return AssemblyError{Kind::kMissingField, "field '" + m.fields().name(i) + "' has no value and no default"};
      continue;
    }
    if (v->find('\0') != std::string_view::npos || !validUtf8(*v)) {
      return AssemblyError{Kind::kBadField, "field '" + m.fields().name(i) + "' is not UTF-8 text (NUL or bad octets)"};
    }
    // A line break in a header value would start a header of the sender's choosing.
    if (m.inHeader(i) && v->find_first_of("\r\n") != std::string_view::npos) {
      return AssemblyError{Kind::kBadField,
                           "field '" + m.fields().name(i) + "' is used in a header and contains a line break"};
    }
  }
  if (!r.message_id.empty() && !validMessageId(r.message_id)) {
    return AssemblyError{Kind::kBadField, "Message-ID must be <left@right> in printable ASCII"};
  }
  return std::nullopt;
}

void MessageAssembler::writeHeaders(const Material& m, const MessageRequest& r, std::string& out) {
  if (r.date != date_second_) {
    date_second_ = r.date;
    date_header_ = formatDateHeader(r.date);
  }
  out.append(date_header_);
  out.append(m.fixedHeaders());
  out.append("To: ");
  out.append(r.recipient);
  out.append("\r\n");
  if (!m.subject().empty()) {
    scratch_.clear();
    for (const TemplateSegment& s : m.subject().segments()) {
      if (s.field == TemplateSegment::kLiteral) {
        scratch_.append(s.text);
      } else if (s.url_encode) {
        appendPercentEncoded(scratch_, fieldText(s.field, s.text, s.has_default, r));
      } else {
        scratch_.append(fieldText(s.field, s.text, s.has_default, r));
      }
    }
    appendUnstructuredHeader(out, "Subject", scratch_);
  }
  out.append("Message-ID: ");
  if (r.message_id.empty()) {
    out.append("<lbm.");
    appendNumber(out, r.request_id, 16);
    out.push_back('@');
    out.append(m.fromDomain());
    out.push_back('>');
  } else {
    out.append(r.message_id);
  }
  out.append("\r\nX-Lbmail-Id: ");
  appendNumber(out, r.request_id, 10);
  out.append("\r\n");
}

std::optional<AssemblyError> MessageAssembler::writeListUnsubscribe(const Material& m, const MessageRequest& r,
                                                                    std::string& out) {
  if (m.listUnsubscribe().empty()) return std::nullopt;
  size_t start = out.size();
  out.append("List-Unsubscribe: ");
  for (const TemplateSegment& s : m.listUnsubscribe().segments()) {
    if (s.field == TemplateSegment::kLiteral) {
      out.append(s.text);
    } else {
      appendPercentEncoded(out, fieldText(s.field, s.text, s.has_default, r));
    }
  }
  if (out.size() - start > kMaxHeaderLineOctets) {
    return AssemblyError{AssemblyError::Kind::kTooLong, "List-Unsubscribe longer than 998 octets"};
  }
  out.append("\r\n");
  return std::nullopt;
}

void MessageAssembler::share(std::string_view bytes, std::string& out, bool plain_lines) {
  // A copied slice joins the personalised bytes, so it loses its plain-lines mark: DKIM then
  // scans it with the rest, which is right whatever it holds.
  if (bytes.size() < kCopyBelow) {
    out.append(bytes);
    return;
  }
  endPersonalised(out);
  pieces_.push_back(MessagePiece{bytes.data(), 0, bytes.size(), plain_lines});
}

void MessageAssembler::endPersonalised(const std::string& out) {
  if (out.size() > personalised_from_)
    pieces_.push_back(MessagePiece{nullptr, personalised_from_, out.size() - personalised_from_, false});
  personalised_from_ = out.size();
}

void MessageAssembler::writeBody(const std::vector<Material::BodySegment>& body, const MessageRequest& r, bool html,
                                 bool end_crlf, std::string& out) {
  QuotedPrintableWriter qp(out);
  for (const Material::BodySegment& s : body) {
    if (s.field == TemplateSegment::kLiteral) {
      qp.placeEncoded(s.literal);
      share(s.literal.text, out);
    } else if (s.url_encode) {
      // Encoded for the URL first; HTML escaping (in qp.write) then finds nothing to escape.
      url_encoded_.clear();
      appendPercentEncoded(url_encoded_, fieldText(s.field, s.default_text, s.has_default, r));
      qp.write(url_encoded_, html);
    } else {
      qp.write(fieldText(s.field, s.default_text, s.has_default, r), html);
    }
    if (out.size() > kMaxPersonalisedOctets) return;  // the caller reports it
  }
  if (end_crlf && qp.column() != 0) out.append("\r\n");
}

Expected<AssembledMessage, AssemblyError> MessageAssembler::assemble(const std::shared_ptr<const Material>& material,
                                                                     const MessageRequest& request) {
  const Material& m = *material;
  if (auto err = checkRequest(m, request)) return unexpected(std::move(*err));

  std::string out;
  out.reserve(1024);
  pieces_.clear();
  personalised_from_ = 0;

  writeHeaders(m, request, out);
  if (auto err = writeListUnsubscribe(m, request, out)) return unexpected(std::move(*err));
  for (const Material::Step& step : m.steps()) {
    switch (step.kind) {
      case Material::Step::Kind::kShared: share(step.bytes, out, step.plain_lines); break;
      case Material::Step::Kind::kText: writeBody(m.text(), request, false, step.end_with_crlf, out); break;
      case Material::Step::Kind::kHtml: writeBody(m.html(), request, true, step.end_with_crlf, out); break;
    }
    if (out.size() > kMaxPersonalisedOctets) {
      return unexpected(AssemblyError{AssemblyError::Kind::kTooLong, "personalised parts larger than 8 MiB"});
    }
  }
  endPersonalised(out);
  return AssembledMessage(material, std::move(out), pieces_);
}

}  // namespace lbmail::media
