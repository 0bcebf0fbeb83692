// The extension table: what mail clients expect for the media campaigns send.
#include "lbmail/media/content_type.h"

#include <algorithm>
#include <array>
#include <utility>

namespace lbmail::media {
namespace {

constexpr std::array<std::pair<std::string_view, std::string_view>, 36> kTypes{{
    {"avif", "image/avif"},
    {"bmp", "image/bmp"},
    {"csv", "text/csv"},
    {"doc", "application/msword"},
    {"docx", "application/vnd.openxmlformats-officedocument.wordprocessingml.document"},
    {"gif", "image/gif"},
    {"gz", "application/gzip"},
    {"htm", "text/html"},
    {"html", "text/html"},
    {"ics", "text/calendar"},
    {"jpeg", "image/jpeg"},
    {"jpg", "image/jpeg"},
    {"json", "application/json"},
    {"m4a", "audio/mp4"},
    {"mov", "video/quicktime"},
    {"mp3", "audio/mpeg"},
    {"mp4", "video/mp4"},
    {"ogg", "audio/ogg"},
    {"pdf", "application/pdf"},
    {"png", "image/png"},
    {"ppt", "application/vnd.ms-powerpoint"},
    {"pptx", "application/vnd.openxmlformats-officedocument.presentationml.presentation"},
    {"svg", "image/svg+xml"},
    {"tif", "image/tiff"},
    {"tiff", "image/tiff"},
    {"txt", "text/plain"},
    {"vcf", "text/vcard"},
    {"wav", "audio/wav"},
    {"webm", "video/webm"},
    {"webp", "image/webp"},
    {"xls", "application/vnd.ms-excel"},
    {"xlsx", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"},
    {"xml", "application/xml"},
    {"zip", "application/zip"},
    {"ico", "image/vnd.microsoft.icon"},
    {"epub", "application/epub+zip"},
}};

bool isTokenChar(char c) {
  if (c <= 32 || c >= 127) return false;
  return std::string_view("()<>@,;:\\\"/[]?=").find(c) == std::string_view::npos;
}

}  // namespace

std::string_view contentTypeForName(std::string_view name) {
  size_t dot = name.rfind('.');
  if (dot == std::string_view::npos || name.size() - dot > 8) return kDefaultContentType;
  std::string_view ext = name.substr(dot + 1);
  char lower[8];
  for (size_t i = 0; i < ext.size(); ++i) {
    char c = ext[i];
    lower[i] = c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c;
  }
  std::string_view key(lower, ext.size());
  for (const auto& [e, type] : kTypes) {
    if (e == key) return type;
  }
  return kDefaultContentType;
}

bool validContentType(std::string_view type) {
  size_t slash = type.find('/');
  if (slash == std::string_view::npos || slash == 0 || slash + 1 == type.size() || type.size() > 127) return false;
  std::string_view a = type.substr(0, slash), b = type.substr(slash + 1);
  return std::all_of(a.begin(), a.end(), isTokenChar) && std::all_of(b.begin(), b.end(), isTokenChar);
}

}  // namespace lbmail::media
