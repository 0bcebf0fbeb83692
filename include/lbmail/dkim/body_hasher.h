// The DKIM body hash (RFC 6376 3.4.3, 3.4.4, 3.7): SHA-256 of the canonical body, computed as
// the body streams past in pieces of any size, without copying it.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string_view>

#include "lbmail/dkim/canonicalization.h"

typedef struct evp_md_ctx_st EVP_MD_CTX;

namespace lbmail::dkim {

// Bytes that need no change go to the digest straight from the caller's memory, one call per
// unchanged run; only what canonicalization alters (a collapsed WSP run, empty lines held back
// until more content shows they are not trailing, a CR split from its LF) comes from constants.
class BodyHasher {
 public:
  explicit BodyHasher(Canonicalization c);
  ~BodyHasher();
  BodyHasher(const BodyHasher&) = delete;
  BodyHasher& operator=(const BodyHasher&) = delete;

  // Any bytes of the body, split anywhere.
  void update(std::string_view bytes);
  // bytes known to be whole non-empty CRLF-terminated lines without SP or HTAB (the media
  // cache's base64): canonical under both algorithms, so hashed as they are without a scan.
  void updatePlainLines(std::string_view bytes);
  // The digest of the canonical body; the hasher is spent afterwards.
  std::array<uint8_t, 32> finish();

 private:
  // Where a scan of one piece stands: the unchanged run not yet hashed, and where the empty
  // lines at its end begin (null when it does not end in one).
  struct Scan {
    const char* run;
    const char* empty_lines;
  };

  void digest(const char* bytes, size_t n);
  // Before content: the held-back empty lines, which are not trailing after all.
  void emitHeldLines();
  // Hashes [scan.run, to) less its trailing empty lines, which are held back instead.
  void flushRun(Scan& scan, const char* to);
  // Settles a WSP run or CR left at the end of the previous piece; returns where to go on.
  const char* settlePending(const char* p, const char* end);
  // The pending WSP and CR turned out to be followed by content.
  void emitPendingAsContent();
  void lineEnd(Scan& scan, const char* crlf);
  // relaxed: a WSP run at p; returns where the scan goes on.
  const char* scanWsp(Scan& scan, const char* p, const char* end);

  const bool relaxed_;
  std::unique_ptr<EVP_MD_CTX, void (*)(EVP_MD_CTX*)> ctx_;
  size_t held_lines_ = 0;      // empty lines seen but not hashed: trailing unless content follows
  bool at_line_start_ = true;  // nothing since the last CRLF (or the body's start)
  bool emitted_ = false;       // some canonical byte hashed
  bool pending_wsp_ = false;   // relaxed: a WSP run ended the last piece
  bool pending_cr_ = false;    // a CR ended the last piece: its LF may come next
};

}  // namespace lbmail::dkim
