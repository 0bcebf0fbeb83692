// Defining a material: every check up front, and the MIME layout computed once.
#include "lbmail/media/material.h"

#include <xxhash.h>

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <set>

#include "lbmail/core/mailbox.h"
#include "lbmail/media/content_type.h"
#include "lbmail/media/list_headers.h"
#include "lbmail/media/media_manifest.h"
#include "lbmail/media/mime_header.h"

namespace lbmail::media {
namespace {

constexpr size_t kMaxMedia = 4096;
constexpr size_t kMaxDisplayNameOctets = 255;

bool hasLineBreakOrNul(std::string_view s) { return s.find_first_of(std::string_view("\r\n\0", 3)) != s.npos; }

// Content-ID characters: RFC 5322 atext plus '.' and '@' (RFC 2392 msg-id shape, loosely).
bool validContentId(std::string_view id) {
  if (id.empty() || id.size() > 200) return false;
  return std::all_of(id.begin(), id.end(), [](char c) {
    if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')) return true;
    return std::string_view("!#$%&'*+-/=?^_`{|}~.@").find(c) != std::string_view::npos;
  });
}

// Literal text of a template: in a header it must be one line of UTF-8; in a body any UTF-8
// without NUL.
const char* literalError(const MessageTemplate& t, bool header) {
  for (const TemplateSegment& s : t.segments()) {
    if (s.field != TemplateSegment::kLiteral && !s.has_default) continue;
    if (!validUtf8(s.text)) return "is not valid UTF-8";
    if (s.text.find('\0') != std::string::npos) return "contains NUL";
    if (header && hasLineBreakOrNul(s.text)) return "contains a line break";
  }
  return nullptr;
}

std::string boundarySuffix(const MaterialSpec& spec) {
  uint64_t h = XXH3_64bits(spec.html.data(), spec.html.size()) ^ XXH3_64bits(spec.text.data(), spec.text.size()) ^
               XXH3_64bits(spec.subject.data(), spec.subject.size());
  char hex[17];
  std::snprintf(hex, sizeof hex, "%016llx", static_cast<unsigned long long>(h));
  return hex;
}

}  // namespace

std::set<std::string> Material::cidReferences(std::string_view html) {
  std::set<std::string> refs;
  for (size_t pos = html.find("cid:"); pos != std::string_view::npos; pos = html.find("cid:", pos + 4)) {
    // "cid:" inside a word ("placid:") is text, not a reference.
    if (pos > 0 && std::isalnum(static_cast<unsigned char>(html[pos - 1]))) continue;
    size_t end = pos + 4;
    // The reference ends where an attribute value or CSS url() would: quotes, '{' of a template.
    while (end < html.size() && validContentId(html.substr(end, 1)) && html[end] != '{' && html[end] != '\'') ++end;
    if (end > pos + 4) refs.emplace(html.substr(pos + 4, end - pos - 4));
  }
  return refs;
}

Expected<std::shared_ptr<const Material>, MaterialError> Material::define(const MaterialSpec& spec,
                                                                          const MediaCache& cache) {
  std::shared_ptr<Material> m(new Material());
  auto ok = m->compile(spec, cache);
  if (!ok) return unexpected(ok.error());
  return std::shared_ptr<const Material>(std::move(m));
}

Expected<bool, MaterialError> Material::compile(const MaterialSpec& spec, const MediaCache& cache) {
  auto fail = [](std::string text) { return unexpected(MaterialError{std::move(text), {}}); };
  for (const std::string& name : spec.fields) {
    if (const char* err = fields_.declare(name)) return fail("field '" + name.substr(0, 64) + "': " + err);
  }
  used_.assign(fields_.size(), false);
  in_header_.assign(fields_.size(), false);
  requires_value_.assign(fields_.size(), false);

  if (auto ok = compileAddresses(spec); !ok) return fail(ok.error());

  auto subject = MessageTemplate::compile(spec.subject, fields_);
  if (!subject) return fail("subject: " + subject.error());
  subject_ = std::move(*subject);
  if (const char* err = literalError(subject_, true)) return fail(std::string("subject ") + err);
  markFields(subject_.segments(), true);

  if (spec.text.empty() && spec.html.empty()) return fail("a material needs a text or an HTML body");
  if (auto ok = compileBody(spec.text, text_); !ok) return fail("text body: " + ok.error());
  if (auto ok = compileBody(spec.html, html_); !ok) return fail("HTML body: " + ok.error());
  if (auto ok = compileListUnsubscribe(spec.list_unsubscribe); !ok) return fail("List-Unsubscribe: " + ok.error());
  auto list_headers = formatListHeaders(spec.list_id, spec.feedback_id);
  if (!list_headers) return fail(list_headers.error());
  fixed_headers_ += *list_headers;

  if (spec.media.size() > kMaxMedia) return fail("more than 4096 media");
  MaterialError missing{"", {}};
  std::vector<const MediaEntry*> media;
  std::set<std::string> inline_ids;
  for (const MaterialSpec::Media& ref : spec.media) {
    if (ref.is_inline) {
      if (!validContentId(ref.name))
        return fail("inline image Content-ID '" + ref.name.substr(0, 64) + "' is not valid");
      if (!inline_ids.insert(ref.name).second) return fail("inline image Content-ID '" + ref.name + "' used twice");
    } else if (const char* err = mediaNameError(ref.name); err || !validUtf8(ref.name)) {
      return fail("attachment name '" + ref.name.substr(0, 64) + "': " + (err ? err : "not valid UTF-8"));
    }
    const MediaEntry* entry = cache.find(ref.hash);
    if (!entry) missing.missing_media.push_back(ref.hash);
    media.push_back(entry);
  }
  if (!inline_ids.empty() && spec.html.empty()) return fail("inline images need an HTML body to show them");
  if (!missing.missing_media.empty()) {
    missing.text = "missing media:";
    for (const MediaHash& h : missing.missing_media) missing.text += " " + hashToHex(h);
    return unexpected(std::move(missing));
  }
  for (const std::string& cid : cidReferences(spec.html)) {
    if (!inline_ids.count(cid))
      return fail("HTML body refers to cid:" + cid + " but no inline image has that Content-ID");
  }
  layOut(spec, media);
  return true;
}

Expected<bool, std::string> Material::compileAddresses(const MaterialSpec& spec) {
  struct Header {
    const char* name;
    const std::string& text;
    bool required;
  };
  for (const Header& h : {Header{"From", spec.from, true}, Header{"Reply-To", spec.reply_to, false}}) {
    if (h.text.empty()) {
      if (h.required) return unexpected(std::string(h.name) + " is required");
      continue;
    }
    std::string display;
    std::string_view addr;
    if (!splitNameAddr(h.text, display, addr))
      return unexpected(std::string(h.name) + ": expected 'Name <addr>' or 'addr'");
    if (const char* err = mailboxError(addr)) return unexpected(std::string(h.name) + " address: " + err);
    if (hasLineBreakOrNul(display) || !validUtf8(display) || display.size() > kMaxDisplayNameOctets) {
      return unexpected(std::string(h.name) + " display name: one line of UTF-8, at most 255 octets");
    }
    fixed_headers_ += formatAddressHeader(h.name, display, addr);
    if (h.required) from_domain_ = std::string(mailboxDomain(addr));
  }
  return true;
}

Expected<bool, std::string> Material::compileBody(std::string_view text, std::vector<BodySegment>& out) {
  auto compiled = MessageTemplate::compile(text, fields_);
  if (!compiled) return unexpected(compiled.error());
  if (const char* err = literalError(*compiled, false)) return unexpected(std::string("text ") + err);
  markFields(compiled->segments(), false);
  for (const TemplateSegment& s : compiled->segments()) {
    BodySegment b;
    b.field = s.field;
    if (s.field == TemplateSegment::kLiteral) {
      b.literal = encodeLiteral(s.text);
    } else {
      b.default_text = s.text;
      b.has_default = s.has_default;
      b.url_encode = s.url_encode;
    }
    out.push_back(std::move(b));
  }
  return true;
}

Expected<bool, std::string> Material::compileListUnsubscribe(std::string_view text) {
  if (text.empty()) return true;
  auto compiled = MessageTemplate::compile(text, fields_);
  if (!compiled) return unexpected(compiled.error());
  list_unsubscribe_ = std::move(*compiled);
  // The shape, with every field standing in as "x": one or more <URI> separated by commas
  // (RFC 2369 section 2); literals printable ASCII.
  std::string shape;
  for (const TemplateSegment& s : list_unsubscribe_.segments()) {
    if (s.field != TemplateSegment::kLiteral) {
      shape += "x";
      continue;
    }
    if (!std::all_of(s.text.begin(), s.text.end(), [](char c) { return c >= 32 && c < 127; })) {
      return unexpected(std::string("only printable ASCII (fields are percent-encoded into it)"));
    }
    shape += s.text;
  }
  bool one_click = false;
  std::string_view rest = shape;
  while (!rest.empty()) {
    while (!rest.empty() && (rest.front() == ' ' || rest.front() == ',')) rest.remove_prefix(1);
    if (rest.empty()) break;
    size_t close = rest.find('>');
    if (rest.front() != '<' || close == std::string_view::npos)
      return unexpected(std::string("expected <URI>, <URI>..."));
    std::string_view uri = rest.substr(1, close - 1);
    if (uri.find_first_of("<> ") != std::string_view::npos || uri.find(':') == std::string_view::npos) {
      return unexpected("bad URI <" + std::string(uri) + ">");
    }
    one_click |= uri.starts_with("https://");
    rest.remove_prefix(close + 1);
  }
  if (shape.size() + std::string_view("List-Unsubscribe: ").size() > kMaxHeaderLineOctets) {
    return unexpected(std::string("longer than a header line may be (998 octets)"));
  }
  // RFC 8058: one-click unsubscription needs an HTTPS URI to POST to.
  if (one_click) fixed_headers_ += "List-Unsubscribe-Post: List-Unsubscribe=One-Click\r\n";
  markFields(list_unsubscribe_.segments(), true);
  return true;
}

void Material::markFields(const std::vector<TemplateSegment>& segments, bool header) {
  for (const TemplateSegment& s : segments) {
    if (s.field < 0) continue;
    used_[static_cast<size_t>(s.field)] = true;
    if (header) in_header_[static_cast<size_t>(s.field)] = true;
    if (!s.has_default) requires_value_[static_cast<size_t>(s.field)] = true;
  }
}

// multipart/mixed (attachments) over multipart/alternative (text, and HTML inside
// multipart/related with its inline images), each level present only when it has parts.
void Material::layOut(const MaterialSpec& spec, const std::vector<const MediaEntry*>& media) {
  struct Node {
    enum class Kind { kText, kHtml, kMedia, kMultipart } kind;
    size_t media = 0;
    std::string subtype;
    std::vector<Node> children;
  };
  auto multipart = [](std::string subtype, std::vector<Node> children) {
    if (children.size() == 1) return std::move(children.front());
    return Node{Node::Kind::kMultipart, 0, std::move(subtype), std::move(children)};
  };
  std::vector<Node> related, alternative, mixed;
  if (!spec.html.empty()) related.push_back(Node{Node::Kind::kHtml, 0, {}, {}});
  for (size_t i = 0; i < spec.media.size(); ++i) {
    (spec.media[i].is_inline ? related : mixed).push_back(Node{Node::Kind::kMedia, i, {}, {}});
  }
  if (!spec.text.empty()) alternative.push_back(Node{Node::Kind::kText, 0, {}, {}});
  if (!related.empty()) alternative.push_back(multipart("related", std::move(related)));
  mixed.insert(mixed.begin(), multipart("alternative", std::move(alternative)));
  Node root = multipart("mixed", std::move(mixed));

  std::string pending = "MIME-Version: 1.0\r\n";
  auto flush = [&] {
    if (pending.empty()) return;
    shared_text_.push_back(std::make_unique<std::string>(std::move(pending)));
    steps_.push_back(Step{Step::Kind::kShared, *shared_text_.back(), false, false});
    pending.clear();
  };
  std::string suffix = boundarySuffix(spec);
  auto emit = [&](auto& self, const Node& node, bool top) -> void {
    switch (node.kind) {
      case Node::Kind::kText:
      case Node::Kind::kHtml: {
        bool html = node.kind == Node::Kind::kHtml;
        pending += html ? "Content-Type: text/html; charset=utf-8\r\n" : "Content-Type: text/plain; charset=utf-8\r\n";
        pending += "Content-Transfer-Encoding: quoted-printable\r\n\r\n";
        flush();
        steps_.push_back(Step{html ? Step::Kind::kHtml : Step::Kind::kText, {}, top, false});
        break;
      }
      case Node::Kind::kMedia: {
        const MaterialSpec::Media& ref = spec.media[node.media];
        const MediaEntry& entry = *media[node.media];
        std::string_view type = contentTypeForName(ref.name);
        if (ref.is_inline || type == kDefaultContentType) type = entry.content_type;
        pending += "Content-Type: " + std::string(type) + "\r\nContent-Transfer-Encoding: base64\r\n";
        if (ref.is_inline) {
          pending += "Content-ID: <" + ref.name + ">\r\nContent-Disposition: inline\r\n\r\n";
        } else {
          pending += formatDisposition("attachment", ref.name) + "\r\n";
        }
        flush();
        // The media's encoded bytes go out as a slice of the mapping, never copied; they are
        // base64 lines, so DKIM hashes them without a scan.
        if (!entry.encoded().empty()) steps_.push_back(Step{Step::Kind::kShared, entry.encoded(), false, true});
        mappings_.push_back(entry.file);
        media_bytes_ += entry.encoded().size();
        break;
      }
      case Node::Kind::kMultipart: {
        // "=_" can appear neither in quoted-printable nor in base64, so no body holds the
        // boundary (RFC 2046 section 5.1.1).
        std::string boundary = "=_lbm_" + node.subtype + "_" + suffix;
        pending += "Content-Type: multipart/" + node.subtype + ";\r\n boundary=\"" + boundary + "\"";
        // RFC 2387 section 3.1: related names the type of its root part, the HTML.
        if (node.subtype == "related") pending += ";\r\n type=\"text/html\"";
        pending += "\r\n\r\n";
        for (size_t i = 0; i < node.children.size(); ++i) {
          pending += (i == 0 ? "--" : "\r\n--") + boundary + "\r\n";
          self(self, node.children[i], false);
        }
        pending += "\r\n--" + boundary + "--";
        if (top) pending += "\r\n";
        break;
      }
    }
  };
  emit(emit, root, true);
  flush();
}

}  // namespace lbmail::media
