// Header encoding for assembled messages.
#include "lbmail/media/mime_header.h"

#include <algorithm>
#include <cstdio>

#include "lbmail/media/base64_lines.h"

namespace lbmail::media {
namespace {

constexpr std::string_view kWordStart = "=?utf-8?B?";
// 36 octets are 48 base64 characters, a 60-character encoded word: with "Reply-To: " in front
// of the first one, every line stays within RFC 2047 section 2's 76 characters.
constexpr size_t kWordOctets = 36;

bool isPrintableAscii(std::string_view s) {
  return std::all_of(s.begin(), s.end(), [](char c) { return c >= 32 && c < 127; });
}

bool isAtextOrSpace(char c) {
  if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == ' ') return true;
  return std::string_view("!#$%&'*+-/=?^_`{|}~").find(c) != std::string_view::npos;
}

// Appends text as encoded words (RFC 2047 section 5), split between UTF-8 characters, each after
// a fold (CRLF SP) except the first.
void appendEncodedWords(std::string& out, std::string_view text) {
  bool first = true;
  while (!text.empty() || first) {
    size_t n = std::min(kWordOctets, text.size());
    // Never split a character: back off to the start of the one that does not fit.
    while (n < text.size() && n > 0 && (static_cast<unsigned char>(text[n]) & 0xC0) == 0x80) --n;
    if (n == 0) n = std::min(kWordOctets, text.size());  // not UTF-8 after all: split anywhere
    if (!first) out.append("\r\n ");
    out.append(kWordStart);
    appendBase64(text.substr(0, n), out);
    out.append("?=");
    text.remove_prefix(n);
    first = false;
  }
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

}  // namespace

bool validUtf8(std::string_view text) {
  size_t i = 0;
  while (i < text.size()) {
    unsigned char c = static_cast<unsigned char>(text[i]);
    if (c < 0x80) {
      ++i;
      continue;
    }
    size_t len;
    uint32_t cp;
    if ((c & 0xE0) == 0xC0) {
      len = 2;
      cp = c & 0x1F;
    } else if ((c & 0xF0) == 0xE0) {
      len = 3;
      cp = c & 0x0F;
    } else if ((c & 0xF8) == 0xF0) {
      len = 4;
      cp = c & 0x07;
    } else {
      return false;
    }
    if (i + len > text.size()) return false;
    for (size_t k = 1; k < len; ++k) {
      unsigned char d = static_cast<unsigned char>(text[i + k]);
      if ((d & 0xC0) != 0x80) return false;
      cp = cp << 6 | (d & 0x3F);
    }
    static constexpr uint32_t kMin[] = {0, 0, 0x80, 0x800, 0x10000};
    if (cp < kMin[len] || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return false;
    i += len;
  }
  return true;
}

void appendUnstructuredHeader(std::string& out, std::string_view name, std::string_view value) {
  out.append(name);
  out.append(": ");
  bool plain = isPrintableAscii(value) && value.find("=?") == std::string_view::npos &&
               name.size() + 2 + value.size() <= kMaxHeaderLineOctets;
  if (plain) {
    out.append(value);
  } else {
    appendEncodedWords(out, value);
  }
  out.append("\r\n");
}

std::string formatAddressHeader(std::string_view name, std::string_view display, std::string_view addr) {
  std::string out(name);
  out += ": ";
  display = trim(display);
  if (!display.empty()) {
    bool atext = std::all_of(display.begin(), display.end(), isAtextOrSpace);
    if (atext && display.size() < 200) {
      out += display;
    } else if (isPrintableAscii(display) && display.size() < 200) {
      out += '"';
      for (char c : display) {
        if (c == '"' || c == '\\') out += '\\';
        out += c;
      }
      out += '"';
    } else {
      appendEncodedWords(out, display);
      out += "\r\n";  // the address on a line of its own keeps the word's line short
    }
    out += " <";
    out += addr;
    out += ">\r\n";
    return out;
  }
  out += addr;
  out += "\r\n";
  return out;
}

bool splitNameAddr(std::string_view text, std::string& display, std::string_view& addr) {
  text = trim(text);
  display.clear();
  if (text.empty()) return false;
  if (text.back() != '>') {
    addr = text;
    return text.find('<') == std::string_view::npos;
  }
  size_t open = text.rfind('<');
  if (open == std::string_view::npos) return false;
  addr = text.substr(open + 1, text.size() - open - 2);
  std::string_view name = trim(text.substr(0, open));
  if (name.size() >= 2 && name.front() == '"' && name.back() == '"') {
    // A quoted-string: its quoted-pairs stand for the characters after the backslash.
    name = name.substr(1, name.size() - 2);
    for (size_t i = 0; i < name.size(); ++i) {
      if (name[i] == '\\' && i + 1 < name.size()) ++i;
      display.push_back(name[i]);
    }
    return true;
  }
  display = std::string(name);
  return true;
}

std::string formatDisposition(std::string_view disposition, std::string_view filename) {
  std::string out = "Content-Disposition: " + std::string(disposition) + ";\r\n filename";
  bool plain = isPrintableAscii(filename) && filename.find_first_of("\"\\") == std::string_view::npos;
  if (plain) {
    out += "=\"" + std::string(filename) + "\"\r\n";
    return out;
  }
  // RFC 2231 section 4: charset''percent-encoded octets.
  static constexpr char kHex[] = "0123456789ABCDEF";
  out += "*=utf-8''";
  for (char ch : filename) {
    unsigned char c = static_cast<unsigned char>(ch);
    bool keep = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                std::string_view("-._~").find(ch) != std::string_view::npos;
    if (keep) {
      out += ch;
    } else {
      out += '%';
      out += kHex[c >> 4];
      out += kHex[c & 15];
    }
  }
  out += "\r\n";
  return out;
}

std::string formatDateHeader(std::time_t t) {
  static constexpr const char* kDays[] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
  static constexpr const char* kMonths[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                            "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[64];
  int n = std::snprintf(buf, sizeof buf, "Date: %s, %02d %s %04d %02d:%02d:%02d +0000\r\n", kDays[tm.tm_wday],
                        tm.tm_mday, kMonths[tm.tm_mon], tm.tm_year + 1900, tm.tm_hour, tm.tm_min, tm.tm_sec);
  return std::string(buf, static_cast<size_t>(n));
}

}  // namespace lbmail::media
