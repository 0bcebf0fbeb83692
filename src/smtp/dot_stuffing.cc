// DATA transparency by slicing.
#include "lbmail/smtp/dot_stuffing.h"

#include <cstring>

namespace lbmail::smtp {
namespace {

constexpr char kDot[] = ".";
constexpr char kCrlf[] = "\r\n";
constexpr char kEnd[] = ".\r\n";

std::string_view slice(const char* p, size_t n) { return {p, n}; }

}  // namespace

void appendDataContent(const std::vector<std::string_view>& body, bool scan, std::vector<std::string_view>& out) {
  bool line_start = true;  // the body's first byte starts a line
  char last = 0, before_last = 0;
  bool empty = true;
  for (std::string_view s : body) {
    if (s.empty()) continue;
    empty = false;
    if (!scan) {
      out.push_back(slice(s.data(), s.size()));
    } else {
      size_t from = 0;  // start of the part of s not yet emitted
      size_t pos = 0;
      while (pos < s.size()) {
        if (line_start && s[pos] == '.') {
          if (pos > from) out.push_back(slice(s.data() + from, pos - from));
          out.push_back(slice(kDot, 1));
          from = pos;  // the original '.' goes out with what follows
        }
        const void* lf = std::memchr(s.data() + pos, '\n', s.size() - pos);
        if (!lf) {
          line_start = false;
          break;
        }
        pos = static_cast<size_t>(static_cast<const char*>(lf) - s.data()) + 1;
        line_start = true;
      }
      if (from < s.size()) out.push_back(slice(s.data() + from, s.size() - from));
    }
    before_last = s.size() >= 2 ? s[s.size() - 2] : last;
    last = s.back();
  }
  bool ends_with_crlf = before_last == '\r' && last == '\n';
  if (!empty && !ends_with_crlf) out.push_back(slice(kCrlf, 2));
  out.push_back(slice(kEnd, 3));
}

}  // namespace lbmail::smtp
