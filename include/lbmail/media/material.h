// A material: what one campaign creative sends. Templates for the subject and the text and
// HTML bodies, attachments and inline images named by media hash, From, Reply-To and
// List-Unsubscribe. Defining it does every check and all the work that does not depend on the
// recipient: templates compiled, literals pre-encoded, MIME structure laid out, media mapped.
#pragma once

#include <cstdint>
#include <memory>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "lbmail/core/expected.h"
#include "lbmail/media/media_cache.h"
#include "lbmail/media/message_template.h"
#include "lbmail/media/quoted_printable.h"

namespace lbmail::media {

struct MaterialSpec {
  std::string subject;
  std::string text;                 // text/plain body template
  std::string html;                 // text/html body template; may reference inline images by cid:
  std::string from;                 // "Display Name <addr>" or "addr"
  std::string reply_to;             // optional, same form
  std::string list_unsubscribe;     // optional: "<https://...{{id}}>, <mailto:...>" (RFC 2369)
  std::string list_id;              // optional: "Name <id.domain>" or "<id.domain>" (RFC 2919)
  std::string feedback_id;          // optional: Gmail's feedback loop "a:b:c:SenderId"
  std::vector<std::string> fields;  // the merge fields the templates may use ('email' is built in)

  struct Media {
    MediaHash hash{};
    bool is_inline = false;
    std::string name;  // attachment: file name shown; inline: Content-ID used as cid:NAME
  };
  std::vector<Media> media;
};

struct MaterialError {
  std::string text;
  std::vector<MediaHash> missing_media;  // hashes the cache lacks, for REJECT(missing media)
};

class Material {
 public:
  // One step of a message after its top-level headers: bytes every message shares (part
  // headers, boundaries, media), or the per-recipient text or HTML body.
  struct Step {
    enum class Kind { kShared, kText, kHtml };
    Kind kind = Kind::kShared;
    std::string_view bytes;      // kShared: owned by the material or one of its mappings
    bool end_with_crlf = false;  // kText/kHtml: a single-part body ends its last line
    // kShared: whole non-empty CRLF lines without SP or HTAB (a media file's base64), which are
    // already canonical for DKIM's body hash and need no scan (dkim::BodyHasher).
    bool plain_lines = false;
  };

  // A body template split for quoted-printable: literals pre-encoded, fields encoded per message.
  struct BodySegment {
    int field = TemplateSegment::kLiteral;
    EncodedLiteral literal;
    std::string default_text;
    bool has_default = false;
    bool url_encode = false;  // {{field|url}}
  };

  static Expected<std::shared_ptr<const Material>, MaterialError> define(const MaterialSpec& spec,
                                                                         const MediaCache& cache);
  // The Content-IDs an HTML body refers to as cid:NAME (RFC 2392), each of which needs an
  // inline image: define() refuses a body without one, and the initiator checks at load.
  static std::set<std::string> cidReferences(std::string_view html);

  const FieldTable& fields() const { return fields_; }
  const MessageTemplate& subject() const { return subject_; }
  const MessageTemplate& listUnsubscribe() const { return list_unsubscribe_; }
  const std::vector<BodySegment>& text() const { return text_; }
  const std::vector<BodySegment>& html() const { return html_; }
  const std::vector<Step>& steps() const { return steps_; }
  // From, Reply-To, List-Unsubscribe-Post when it applies, List-Id and Feedback-ID: the same
  // for every message.
  std::string_view fixedHeaders() const { return fixed_headers_; }
  // From's domain: it picks the DKIM keys, and goes right of '@' in generated Message-IDs.
  std::string_view fromDomain() const { return from_domain_; }
  // Whether declared field i appears in a header, where CR and LF are refused.
  bool inHeader(size_t i) const { return in_header_[i]; }
  bool used(size_t i) const { return used_[i]; }
  // Whether declared field i appears somewhere without a default, so a request must give it.
  bool requiresValue(size_t i) const { return requires_value_[i]; }
  uint64_t mediaBytes() const { return media_bytes_; }

 private:
  Material() = default;
  Expected<bool, MaterialError> compile(const MaterialSpec& spec, const MediaCache& cache);
  Expected<bool, std::string> compileBody(std::string_view text, std::vector<BodySegment>& out);
  Expected<bool, std::string> compileAddresses(const MaterialSpec& spec);
  Expected<bool, std::string> compileListUnsubscribe(std::string_view text);
  void markFields(const std::vector<TemplateSegment>& segments, bool header);
  void layOut(const MaterialSpec& spec, const std::vector<const MediaEntry*>& media);

  FieldTable fields_;
  MessageTemplate subject_;
  MessageTemplate list_unsubscribe_;
  std::vector<BodySegment> text_;
  std::vector<BodySegment> html_;
  std::vector<Step> steps_;
  std::vector<std::unique_ptr<std::string>> shared_text_;  // bytes kShared steps point into
  std::vector<std::shared_ptr<const MappedFile>> mappings_;
  std::string fixed_headers_;
  std::string from_domain_;
  std::vector<bool> in_header_;
  std::vector<bool> used_;
  std::vector<bool> requires_value_;
  uint64_t media_bytes_ = 0;
};

}  // namespace lbmail::media
