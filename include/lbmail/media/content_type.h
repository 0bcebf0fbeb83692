// MIME content types from file name extensions.
#pragma once

#include <string_view>

namespace lbmail::media {

constexpr std::string_view kDefaultContentType = "application/octet-stream";

// The type for a file name's extension (case-insensitive), or kDefaultContentType.
std::string_view contentTypeForName(std::string_view name);

// True for type/subtype made of RFC 2045 token characters, as a manifest must hold.
bool validContentType(std::string_view type);

}  // namespace lbmail::media
