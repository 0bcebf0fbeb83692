// DKIM-Signature header fields (RFC 6376 3.5, 3.7, 5; RFC 8463) over a message's slices.
#include "lbmail/dkim/dkim_signer.h"

#include <algorithm>
#include <utility>

#include "dkim_text.h"
#include "lbmail/dkim/body_hasher.h"
#include "lbmail/dkim/header_fields.h"

namespace lbmail::dkim {
namespace {

constexpr size_t kLineLimit = 78;  // RFC 5322 2.1.1's SHOULD, CRLF not counted

bool sameName(std::string_view a, std::string_view lower_b) {
  if (a.size() != lower_b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (asciiLower(a[i]) != lower_b[i]) return false;
  }
  return true;
}

// Builds a header field from atoms, starting a new line (CRLF SP, RFC 5322 folding) before
// an atom that would pass the line limit.
class FoldedField {
 public:
  explicit FoldedField(std::string_view start) : text_(start), column_(start.size()) {}
  // sep goes before atom when it stays on the line: " " between tags, "" inside a value.
  void add(std::string_view atom, std::string_view sep) {
    if (column_ + sep.size() + atom.size() > kLineLimit) {
      text_.append("\r\n ");
      column_ = 1;
    } else {
      text_.append(sep);
      column_ += sep.size();
    }
    text_.append(atom);
    column_ += atom.size();
  }
  // A value that may break anywhere (base64): filled to the limit line by line.
  void addBreakable(std::string_view value) {
    while (!value.empty()) {
      if (column_ >= kLineLimit) {
        text_.append("\r\n ");
        column_ = 1;
      }
      size_t n = std::min(value.size(), kLineLimit - column_);
      text_.append(value.substr(0, n));
      column_ += n;
      value.remove_prefix(n);
    }
  }
  const std::string& text() const { return text_; }

 private:
  std::string text_;
  size_t column_;
};

}  // namespace

DkimSigner::DkimSigner(SignOptions o) : options_(std::move(o)) {
  auto add = [this](std::string_view h) {
    std::string name = asciiLowercase(h);
    auto same = [&](const SignedName& n) { return n.name == name; };
    if (!name.empty() && std::none_of(names_.begin(), names_.end(), same)) names_.push_back({name, false});
  };
  // RFC 6376 5.4: From must be signed whatever the configuration lists.
  add("from");
  for (const std::string& h : options_.headers) add(h);
  // An over-signed name is signed even when the configured list leaves it out.
  for (const std::string& h : options_.oversigned) add(h);
  for (SignedName& n : names_) {
    n.oversigned = n.name == "from" || std::any_of(options_.oversigned.begin(), options_.oversigned.end(),
                                                   [&](const std::string& h) { return asciiLowercase(h) == n.name; });
  }
}

std::string DkimSigner::bodyHash(const MessageBytes& m, const HeaderFields& fields) const {
  BodyHasher hasher(options_.body);
  for (size_t i = fields.bodySlice(); i < m.slices.size(); ++i) {
    std::string_view s = m.slices[i];
    if (i == fields.bodySlice()) s.remove_prefix(fields.bodyOffset());
    bool plain = i < m.plain_lines.size() && m.plain_lines[i] && s.size() == m.slices[i].size();
    if (plain) {
      hasher.updatePlainLines(s);
    } else {
      hasher.update(s);
    }
  }
  std::array<uint8_t, 32> digest = hasher.finish();
  return base64(digest.data(), digest.size());
}

bool DkimSigner::selectHeaders(const HeaderFields& fields, std::vector<std::string_view>& names,
                               std::string& data) const {
  bool has_from = false;
  std::vector<const HeaderField*> found;
  for (const auto& [name, oversigned] : names_) {
    found.clear();
    for (const HeaderField& f : fields.fields()) {
      if (sameName(f.name, name)) found.push_back(&f);
    }
    for (auto it = found.rbegin(); it != found.rend(); ++it) {
      names.push_back(name);
      appendCanonicalHeader(data, (*it)->text, options_.header);
    }
    if (name == "from") has_from = !found.empty();
    // Over-signed: listed once more than it occurs, once when absent. The extra name selects
    // a nonexistent instance, signed as null (RFC 6376 5.4.2), so a field of that name added
    // later, above or below, breaks the signature (RFC 6376 8.15).
    if (oversigned) names.push_back(name);
  }
  return has_from;
}

Expected<std::string, std::string> DkimSigner::signOne(const DkimKey& key, const Prepared& p,
                                                       std::time_t now) const {
  FoldedField f("DKIM-Signature:");
  f.add("v=1;", " ");
  f.add("a=" + std::string(algorithmName(key.algorithm())) + ";", " ");
  f.add("c=" + std::string(canonicalizationName(options_.header)) + "/" +
            std::string(canonicalizationName(options_.body)) + ";",
        " ");
  f.add("d=" + key.domain() + ";", " ");
  f.add("s=" + key.selector() + ";", " ");
  f.add("t=" + std::to_string(now) + ";", " ");
  if (options_.expire.count() > 0) f.add("x=" + std::to_string(now + options_.expire.count()) + ";", " ");
  for (size_t i = 0; i < p.names.size(); ++i) {
    std::string atom = (i == 0 ? "h=" : "") + std::string(p.names[i]) + (i + 1 == p.names.size() ? ";" : ":");
    f.add(atom, i == 0 ? " " : "");
  }
  f.add("bh=" + p.body_hash + ";", " ");
  f.add("b=", " ");
  // RFC 6376 3.7: the signature covers the signed fields, then this field as it will be sent
  // but with b= empty, canonicalized like them, without its trailing CRLF.
  std::string data = p.header_data;
  appendCanonicalHeader(data, f.text(), options_.header);
  data.resize(data.size() - 2);
  auto signature = key.sign(data);
  if (!signature) return unexpected(signature.error());
  f.addBreakable(base64(signature->data(), signature->size()));
  return f.text() + "\r\n";
}

Expected<std::string, std::string> DkimSigner::sign(const MessageBytes& m, std::span<const DkimKey* const> keys,
                                                     std::time_t now) const {
  if (keys.empty()) return std::string();
  HeaderFields fields(m.slices);
  if (fields.tooLarge()) return unexpected(std::string("the header section is over 1 MiB"));
  Prepared p;
  if (!selectHeaders(fields, p.names, p.header_data)) {
    return unexpected(std::string("the message has no From header field to sign (RFC 6376 5.4)"));
  }
  p.body_hash = bodyHash(m, fields);
  std::string out;
  for (const DkimKey* key : keys) {
    auto field = signOne(*key, p, now);
    if (!field) return unexpected("dkim key " + key->domain() + "/" + key->selector() + ": " + field.error());
    out.append(*field);
  }
  return out;
}

}  // namespace lbmail::dkim
