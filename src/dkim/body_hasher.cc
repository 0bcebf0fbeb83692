// The DKIM body hash over a streamed body (RFC 6376 3.4.3, 3.4.4): one scan, no copies.
#include "lbmail/dkim/body_hasher.h"

#include <openssl/evp.h>

#include <algorithm>
#include <cstdlib>

#include "dkim_text.h"

namespace lbmail::dkim {
namespace {

constexpr char kCrlfs[] =
    "\r\n\r\n\r\n\r\n\r\n\r\n\r\n\r\n\r\n\r\n\r\n\r\n\r\n\r\n\r\n\r\n"
    "\r\n\r\n\r\n\r\n\r\n\r\n\r\n\r\n\r\n\r\n\r\n\r\n\r\n\r\n\r\n\r\n";
constexpr size_t kCrlfCount = (sizeof(kCrlfs) - 1) / 2;

// Bytes the scan must look at: CR (a line end, or a CR alone) and, for relaxed, SP and HTAB.
struct SpecialBytes {
  bool simple[256] = {};
  bool relaxed[256] = {};
  constexpr SpecialBytes() {
    simple[static_cast<unsigned char>('\r')] = relaxed[static_cast<unsigned char>('\r')] = true;
    relaxed[static_cast<unsigned char>(' ')] = relaxed[static_cast<unsigned char>('\t')] = true;
  }
};
constexpr SpecialBytes kSpecial;

}  // namespace

BodyHasher::BodyHasher(Canonicalization c)
    : relaxed_(c == Canonicalization::kRelaxed), ctx_(EVP_MD_CTX_new(), EVP_MD_CTX_free) {
  // Only a failed allocation stops SHA-256 from starting; there is no useful way on from there.
  if (!ctx_ || EVP_DigestInit_ex(ctx_.get(), EVP_sha256(), nullptr) != 1) std::abort();
}

BodyHasher::~BodyHasher() = default;

void BodyHasher::digest(const char* bytes, size_t n) {
  if (n == 0) return;
  EVP_DigestUpdate(ctx_.get(), bytes, n);
  emitted_ = true;
}

void BodyHasher::emitHeldLines() {
  while (held_lines_ > 0) {
    size_t n = std::min(held_lines_, kCrlfCount);
    digest(kCrlfs, 2 * n);
    held_lines_ -= n;
  }
}

void BodyHasher::flushRun(Scan& scan, const char* to) {
  const char* content_end = scan.empty_lines ? scan.empty_lines : to;
  if (content_end > scan.run) {
    emitHeldLines();
    digest(scan.run, static_cast<size_t>(content_end - scan.run));
  }
  if (scan.empty_lines) held_lines_ += static_cast<size_t>(to - scan.empty_lines) / 2;
  scan.empty_lines = nullptr;
  scan.run = to;
}

void BodyHasher::emitPendingAsContent() {
  emitHeldLines();
  if (pending_wsp_) digest(" ", 1);
  if (pending_cr_) digest("\r", 1);
  pending_wsp_ = pending_cr_ = false;
  at_line_start_ = false;
}

const char* BodyHasher::settlePending(const char* p, const char* end) {
  if (pending_cr_) {
    if (*p != '\n') {
      emitPendingAsContent();
      return p;
    }
    // The CRLF straddles two pieces, so it cannot join a run; WSP before it is trailing.
    pending_cr_ = pending_wsp_ = false;
    if (at_line_start_) {
      ++held_lines_;
    } else {
      digest("\r\n", 2);
      at_line_start_ = true;
    }
    return p + 1;
  }
  while (p < end && isWsp(*p)) ++p;
  if (p == end) return p;
  if (*p == '\r') {
    if (p + 1 == end) {
      pending_cr_ = true;
      return end;
    }
    if (p[1] == '\n') {
      pending_wsp_ = false;  // trailing WSP: ignored (3.4.4 a)
      return p;
    }
  }
  emitPendingAsContent();
  return p;
}

void BodyHasher::lineEnd(Scan& scan, const char* crlf) {
  if (!at_line_start_) {
    at_line_start_ = true;  // ends a line with content: hashed whatever follows
  } else if (!scan.empty_lines) {
    scan.empty_lines = crlf;  // an empty line: trailing unless content follows
  }
}

void BodyHasher::update(std::string_view bytes) {
  const char* p = bytes.data();
  const char* end = p + bytes.size();
  if (p != end && (pending_wsp_ || pending_cr_)) p = settlePending(p, end);
  const bool* special = relaxed_ ? kSpecial.relaxed : kSpecial.simple;
  Scan scan{p, nullptr};
  while (p < end) {
    if (!special[static_cast<unsigned char>(*p)]) {
      const char* start = p;
      while (p < end && !special[static_cast<unsigned char>(*p)]) ++p;
      if (p != start) {
        at_line_start_ = false;
        scan.empty_lines = nullptr;
      }
      continue;
    }
    if (*p == '\r') {
      if (p + 1 == end) {
        flushRun(scan, p);
        pending_cr_ = true;
        scan.run = end;
        break;
      }
      if (p[1] == '\n') {
        lineEnd(scan, p);
        p += 2;
      } else {
        at_line_start_ = false;  // a CR alone is content
        scan.empty_lines = nullptr;
        ++p;
      }
      continue;
    }
    p = scanWsp(scan, p, end);
  }
  flushRun(scan, end);
}

const char* BodyHasher::scanWsp(Scan& scan, const char* p, const char* end) {
  const char* wsp = p;
  while (p < end && isWsp(*p)) ++p;
  bool cr_last = p + 1 == end && *p == '\r';
  if (p == end || cr_last) {
    // Whether this WSP is trailing (3.4.4 a) or one SP within a line (3.4.4 b) is not known yet.
    flushRun(scan, wsp);
    pending_wsp_ = true;
    pending_cr_ = cr_last;
    scan.run = end;
    return end;
  }
  if (p[0] == '\r' && p[1] == '\n') {
    flushRun(scan, wsp);  // trailing WSP: left out of the hash
    scan.run = p;
    return p;
  }
  at_line_start_ = false;
  if (p - wsp == 1 && *wsp == ' ') {
    scan.empty_lines = nullptr;  // already canonical: stays in the run
    return p;
  }
  flushRun(scan, wsp);
  emitHeldLines();
  digest(" ", 1);
  scan.run = p;
  return p;
}

void BodyHasher::updatePlainLines(std::string_view bytes) {
  if (bytes.empty()) return;
  // Outside the promise (an empty line, no final CRLF, a LF that pairs with a held CR): scan.
  if (bytes.size() < 2 || bytes[0] == '\r' || bytes[0] == '\n' || !bytes.ends_with("\r\n")) {
    update(bytes);
    return;
  }
  emitPendingAsContent();
  digest(bytes.data(), bytes.size());
  at_line_start_ = true;
}

std::array<uint8_t, 32> BodyHasher::finish() {
  // A CR with no LF after it is content; WSP that ends the body ends its last line (3.4.4 a).
  if (pending_cr_) emitPendingAsContent();
  pending_wsp_ = false;
  if (!at_line_start_) {
    digest("\r\n", 2);  // the missing final CRLF is added (3.4.3, 3.4.4)
  } else if (!emitted_ && !relaxed_) {
    digest("\r\n", 2);  // simple: an empty body is one CRLF (3.4.3); relaxed: nothing (errata 1384)
  }
  std::array<uint8_t, 32> out{};
  unsigned int n = 0;
  EVP_DigestFinal_ex(ctx_.get(), out.data(), &n);
  return out;
}

}  // namespace lbmail::dkim
