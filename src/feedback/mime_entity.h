// A bounded walk over a message's MIME entities (RFC 2045, RFC 2046): each entity's header,
// Content-Type and still-encoded body, multipart bodies split by their boundary, and the
// transfer decoding of the bodies a reader asks for.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "mime_header.h"

namespace lbmail::feedback {

struct MimeEntity {
  HeaderFields header;
  ContentType type;
  std::string transfer_encoding;  // lowercase; "" when absent (7bit)
  std::string_view body;          // as received, still encoded
  size_t depth = 0;               // 0 for the message itself
};

struct MimeTree {
  std::vector<MimeEntity> entities;  // depth first: the message, then each multipart's parts in order
  std::string error;                 // the first multipart that could not be split, and why
};

// At most max_parts entities (the message counts), and multiparts split to max_depth levels;
// the rest is left unvisited. Work is linear in the message's size times max_depth.
MimeTree readMimeTree(std::string_view message, size_t max_parts, size_t max_depth);

// The parts of a multipart body: the text between its delimiter lines ("--" boundary, RFC 2046
// section 5.1.1), the preamble and epilogue left out. A missing close delimiter ends the last
// part at the end of the body. Empty when no delimiter line is found.
std::vector<std::string_view> splitMultipart(std::string_view body, std::string_view boundary);

// The entity's body with its Content-Transfer-Encoding undone (base64, quoted-printable; other
// encodings as they are), at most max_bytes of it.
std::string decodedBody(const MimeEntity& entity, size_t max_bytes);

}  // namespace lbmail::feedback
