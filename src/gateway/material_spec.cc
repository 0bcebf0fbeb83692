// From link frames to the media library's types.
#include "material_spec.h"

namespace lbmail {

// Every field a MATERIAL declares can be given a value in one SEND.
static_assert(media::kMaxFields == proto::kMaxMergeFields);

media::MaterialSpec materialSpecFromFrame(const proto::MaterialFrame& frame, const media::MediaCache& cache) {
  using Kind = proto::MaterialPartKind;
  media::MaterialSpec spec;
  for (const proto::MaterialPart& p : frame.parts) {
    switch (p.kind) {
      case Kind::kSubject: spec.subject = p.content; break;
      case Kind::kText: spec.text = p.content; break;
      case Kind::kHtml: spec.html = p.content; break;
      case Kind::kFrom: spec.from = p.content; break;
      case Kind::kReplyTo: spec.reply_to = p.content; break;
      case Kind::kListUnsubscribe: spec.list_unsubscribe = p.content; break;
      case Kind::kListId: spec.list_id = p.content; break;
      case Kind::kFeedbackId: spec.feedback_id = p.content; break;
      case Kind::kFields: {
        std::string_view rest = p.content;
        while (!rest.empty()) {
          size_t end = rest.find_first_of(", \t\r\n");
          std::string_view name = rest.substr(0, end);
          if (!name.empty()) spec.fields.emplace_back(name);
          rest = end == std::string_view::npos ? std::string_view() : rest.substr(end + 1);
        }
        break;
      }
    }
  }
  for (const proto::MediaRef& ref : frame.media) {
    media::MaterialSpec::Media m;
    std::copy(ref.hash.begin(), ref.hash.end(), m.hash.begin());
    m.is_inline = ref.disposition == proto::MediaDisposition::kInline;
    m.name = ref.name;
    if (m.name.empty() && !m.is_inline) {
      if (const media::MediaEntry* e = cache.find(m.hash)) {
        size_t slash = e->name.rfind('/');
        m.name = slash == std::string::npos ? e->name : e->name.substr(slash + 1);
      }
    }
    spec.media.push_back(std::move(m));
  }
  return spec;
}

void bindFields(const media::Material& material, const proto::MergeFields& fields,
                std::vector<std::optional<std::string_view>>& values) {
  values.assign(material.fields().size(), std::nullopt);
  fields.forEach([&](const proto::MergeField& f) {
    int i = material.fields().find(f.name);
    if (i >= 0) values[static_cast<size_t>(i)] = f.value;
  });
}

}  // namespace lbmail
