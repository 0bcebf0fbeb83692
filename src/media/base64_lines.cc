// Base64 for MIME bodies, encoded once per media file when the cache is built.
#include "lbmail/media/base64_lines.h"

#include <array>

namespace lbmail::media {
namespace {

constexpr char kAlphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

constexpr std::array<int8_t, 256> makeDecodeTable() {
  std::array<int8_t, 256> t{};
  for (auto& v : t) v = -1;
  for (int i = 0; i < 64; ++i) t[static_cast<uint8_t>(kAlphabet[i])] = static_cast<int8_t>(i);
  return t;
}
constexpr std::array<int8_t, 256> kDecode = makeDecodeTable();

// Encodes n (<= 57) octets as one group run without line break; returns the characters written.
size_t encodeRun(const uint8_t* in, size_t n, char* out) {
  char* o = out;
  size_t i = 0;
  for (; i + 3 <= n; i += 3) {
    uint32_t v = uint32_t(in[i]) << 16 | uint32_t(in[i + 1]) << 8 | in[i + 2];
    o[0] = kAlphabet[v >> 18];
    o[1] = kAlphabet[(v >> 12) & 63];
    o[2] = kAlphabet[(v >> 6) & 63];
    o[3] = kAlphabet[v & 63];
    o += 4;
  }
  if (i < n) {
    uint32_t v = uint32_t(in[i]) << 16 | (i + 1 < n ? uint32_t(in[i + 1]) << 8 : 0);
    o[0] = kAlphabet[v >> 18];
    o[1] = kAlphabet[(v >> 12) & 63];
    o[2] = i + 1 < n ? kAlphabet[(v >> 6) & 63] : '=';
    o[3] = '=';
    o += 4;
  }
  return static_cast<size_t>(o - out);
}

}  // namespace

size_t base64LinesSize(size_t n) {
  size_t full = n / kBase64LineOctets;
  size_t rest = n % kBase64LineOctets;
  return full * 78 + (rest ? (rest + 2) / 3 * 4 + 2 : 0);
}

void appendBase64Lines(std::span<const uint8_t> src, std::string& out) {
  size_t at = out.size();
  out.resize(at + base64LinesSize(src.size()));
  char* o = out.data() + at;
  for (size_t i = 0; i < src.size(); i += kBase64LineOctets) {
    size_t n = std::min(kBase64LineOctets, src.size() - i);
    o += encodeRun(src.data() + i, n, o);
    *o++ = '\r';
    *o++ = '\n';
  }
}

void appendBase64(std::string_view src, std::string& out) {
  size_t at = out.size();
  out.resize(at + (src.size() + 2) / 3 * 4);
  const auto* in = reinterpret_cast<const uint8_t*>(src.data());
  char* o = out.data() + at;
  for (size_t i = 0; i < src.size(); i += kBase64LineOctets) {
    o += encodeRun(in + i, std::min(kBase64LineOctets, src.size() - i), o);
  }
}

const char* decodeBase64Lines(std::string_view text, std::string& out) {
  size_t pos = 0;
  while (pos < text.size()) {
    size_t eol = text.find("\r\n", pos);
    if (eol == std::string_view::npos) return "last line does not end in CRLF";
    std::string_view line = text.substr(pos, eol - pos);
    pos = eol + 2;
    bool last = pos == text.size();
    if (line.empty() || line.size() % 4 != 0 || line.size() > 76) return "line of wrong length";
    if (!last && line.size() != 76) return "short line before the end";
    for (size_t i = 0; i < line.size(); i += 4) {
      int v[4];
      int pad = 0;
      for (int k = 0; k < 4; ++k) {
        char c = line[i + k];
        if (c == '=' && last && i + 4 == line.size() && k >= 2) {
          v[k] = 0;
          ++pad;
          continue;
        }
        if (pad > 0) return "data after padding";
        v[k] = kDecode[static_cast<uint8_t>(c)];
        if (v[k] < 0) return "character outside the base64 alphabet";
      }
      uint32_t bits = uint32_t(v[0]) << 18 | uint32_t(v[1]) << 12 | uint32_t(v[2]) << 6 | uint32_t(v[3]);
      out.push_back(static_cast<char>(bits >> 16));
      if (pad < 2) out.push_back(static_cast<char>((bits >> 8) & 255));
      if (pad < 1) out.push_back(static_cast<char>(bits & 255));
    }
  }
  return nullptr;
}

}  // namespace lbmail::media
