// Helpers for the DKIM signing tests: SHA-256 of whole strings and a plain, line-by-line
// canonical body to check the streaming hasher against.
#pragma once

#include <openssl/evp.h>

#include <array>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace lbmail::test {

inline std::array<uint8_t, 32> sha256(std::string_view bytes) {
  std::array<uint8_t, 32> out{};
  unsigned int n = 0;
  EVP_Digest(bytes.data(), bytes.size(), out.data(), &n, EVP_sha256(), nullptr);
  return out;
}

// RFC 6376 3.4.3 / 3.4.4 done the obvious way: split into CRLF lines (a last line without CRLF
// gets one), relaxed lines collapsed and stripped, trailing empty lines dropped.
inline std::string referenceBody(std::string_view body, bool relaxed) {
  std::vector<std::string> lines;
  size_t start = 0;
  while (start < body.size()) {
    size_t crlf = body.find("\r\n", start);
    size_t end = crlf == std::string_view::npos ? body.size() : crlf;
    std::string line(body.substr(start, end - start));
    if (relaxed) {
      std::string out;
      for (char c : line) {
        bool wsp = c == ' ' || c == '\t';
        if (wsp && !out.empty() && out.back() == ' ') continue;  // the run has its one SP
        out.push_back(wsp ? ' ' : c);
      }
      while (!out.empty() && out.back() == ' ') out.pop_back();
      line = out;
    }
    lines.push_back(line);
    start = crlf == std::string_view::npos ? body.size() : crlf + 2;
  }
  while (!lines.empty() && lines.back().empty()) lines.pop_back();
  std::string out;
  for (const std::string& l : lines) out += l + "\r\n";
  if (out.empty() && !relaxed) out = "\r\n";
  return out;
}

}  // namespace lbmail::test

namespace lbmail::test {

inline std::string base64(std::string_view bytes) {
  std::string out(4 * ((bytes.size() + 2) / 3), '\0');
  EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()), reinterpret_cast<const unsigned char*>(bytes.data()),
                  static_cast<int>(bytes.size()));
  return out;
}

inline std::string base64(const std::array<uint8_t, 32>& digest) {
  return base64(std::string_view(reinterpret_cast<const char*>(digest.data()), digest.size()));
}

inline std::string unbase64(std::string_view text) {
  std::string out(3 * (text.size() / 4), '\0');
  int n = EVP_DecodeBlock(reinterpret_cast<unsigned char*>(out.data()), reinterpret_cast<const unsigned char*>(text.data()),
                          static_cast<int>(text.size()));
  if (n < 0) return "";
  size_t pad = text.ends_with("==") ? 2 : text.ends_with("=") ? 1 : 0;
  out.resize(static_cast<size_t>(n) - pad);
  return out;
}

}  // namespace lbmail::test
