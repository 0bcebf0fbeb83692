// The MIME walk and the transfer decodings.
#include "mime_entity.h"

#include <cstdint>

#include "ascii_text.h"

namespace lbmail::feedback {
namespace {

// A delimiter line: "--" boundary, then "--" for the last one, then only white space (RFC 2046
// section 5.1.1 allows transport padding). 0: not one; 1: a delimiter; 2: the close delimiter.
int delimiterKind(std::string_view line, std::string_view boundary) {
  if (line.size() < 2 + boundary.size() || line[0] != '-' || line[1] != '-' ||
      line.substr(2, boundary.size()) != boundary) {
    return 0;
  }
  std::string_view rest = line.substr(2 + boundary.size());
  int kind = 1;
  if (rest.size() >= 2 && rest[0] == '-' && rest[1] == '-') {
    kind = 2;
    rest.remove_prefix(2);
  }
  return blankLine(rest) ? kind : 0;
}

class Walk {
 public:
  Walk(size_t max_parts, size_t max_depth) : max_parts_(max_parts), max_depth_(max_depth) {}

  void visit(std::string_view text, size_t depth) {
    if (tree_.entities.size() >= max_parts_) return;
    EntityText split = splitEntity(text);
    MimeEntity e;
    e.header = HeaderFields::parse(split.header);
    if (const std::string* ct = e.header.find("Content-Type")) e.type = parseContentType(*ct);
    if (const std::string* cte = e.header.find("Content-Transfer-Encoding")) e.transfer_encoding = asciiLowercase(*cte);
    e.body = split.body;
    e.depth = depth;
    bool multipart = e.type.type == "multipart";
    std::string boundary(e.type.param("boundary"));
    std::string name = e.type.type + "/" + e.type.subtype;
    tree_.entities.push_back(std::move(e));
    if (multipart && depth < max_depth_) visitParts(split.body, boundary, name, depth);
  }

  MimeTree take() { return std::move(tree_); }

 private:
  void visitParts(std::string_view body, const std::string& boundary, const std::string& name, size_t depth) {
    if (boundary.empty()) return fail(name + " without a boundary parameter");
    std::vector<std::string_view> parts = splitMultipart(body, boundary);
    if (parts.empty()) return fail(name + " with no part delimited by its boundary");
    for (std::string_view part : parts) visit(part, depth + 1);
  }

  void fail(std::string why) {
    if (tree_.error.empty()) tree_.error = std::move(why);
  }

  size_t max_parts_;
  size_t max_depth_;
  MimeTree tree_;
};

int base64Value(char c) {
  if (c >= 'A' && c <= 'Z') return c - 'A';
  if (c >= 'a' && c <= 'z') return c - 'a' + 26;
  if (isAsciiDigit(c)) return c - '0' + 52;
  if (c == '+') return 62;
  if (c == '/') return 63;
  return -1;
}

// RFC 2045 section 6.8: characters outside the alphabet are ignored; "=" ends the data.
std::string decodeBase64(std::string_view in, size_t max_bytes) {
  std::string out;
  uint32_t buffer = 0;
  int bits = 0;
  for (char c : in) {
    if (c == '=' || out.size() >= max_bytes) break;
    int v = base64Value(c);
    if (v < 0) continue;
    buffer = ((buffer << 6) | static_cast<uint32_t>(v)) & 0xffffff;
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out.push_back(static_cast<char>((buffer >> bits) & 0xff));
    }
  }
  return out;
}

int hexDigit(char c) {
  if (isAsciiDigit(c)) return c - '0';
  char l = asciiLower(c);
  return (l >= 'a' && l <= 'f') ? l - 'a' + 10 : -1;
}

// RFC 2045 section 6.7: "=XX" is a byte, "=" at a line end a soft line break; any other "=" stays.
std::string decodeQuotedPrintable(std::string_view in, size_t max_bytes) {
  std::string out;
  for (size_t i = 0; i < in.size() && out.size() < max_bytes; ++i) {
    if (in[i] != '=') {
      out.push_back(in[i]);
    } else if (i + 1 < in.size() && in[i + 1] == '\n') {
      i += 1;
    } else if (i + 2 < in.size() && in[i + 1] == '\r' && in[i + 2] == '\n') {
      i += 2;
    } else if (i + 2 < in.size() && hexDigit(in[i + 1]) >= 0 && hexDigit(in[i + 2]) >= 0) {
      out.push_back(static_cast<char>(hexDigit(in[i + 1]) * 16 + hexDigit(in[i + 2])));
      i += 2;
    } else {
      out.push_back('=');
    }
  }
  return out;
}

}  // namespace

MimeTree readMimeTree(std::string_view message, size_t max_parts, size_t max_depth) {
  Walk walk(max_parts, max_depth);
  walk.visit(message, 0);
  return walk.take();
}

std::vector<std::string_view> splitMultipart(std::string_view body, std::string_view boundary) {
  std::vector<std::string_view> parts;
  LineCursor lines(body);
  std::string_view line;
  size_t line_start = 0;
  size_t part_start = std::string_view::npos;  // npos: still in the preamble
  while (lines.next(line)) {
    int kind = delimiterKind(line, boundary);
    if (kind != 0) {
      // The line break before a delimiter belongs to the delimiter (RFC 2046 section 5.1.1).
      if (part_start != std::string_view::npos) {
        size_t end = line_start;
        if (end > part_start && body[end - 1] == '\n') --end;
        if (end > part_start && body[end - 1] == '\r') --end;
        parts.push_back(body.substr(part_start, end - part_start));
      }
      if (kind == 2) return parts;
      part_start = lines.offset();
    }
    line_start = lines.offset();
  }
  if (part_start != std::string_view::npos) parts.push_back(body.substr(part_start));
  return parts;
}

std::string decodedBody(const MimeEntity& entity, size_t max_bytes) {
  std::string_view te = trimWhiteSpace(entity.transfer_encoding);
  if (te == "base64") return decodeBase64(entity.body, max_bytes);
  if (te == "quoted-printable") return decodeQuotedPrintable(entity.body, max_bytes);
  return std::string(entity.body.substr(0, max_bytes));
}

}  // namespace lbmail::feedback
