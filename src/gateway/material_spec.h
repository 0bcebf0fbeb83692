// A MATERIAL frame as the media library's MaterialSpec, and a SEND's merge fields bound to a
// material's field order.
#pragma once

#include <optional>
#include <string_view>
#include <vector>

#include "lbmail/media/material.h"
#include "lbmail/proto/frames.h"

namespace lbmail {

// Parts by kind; kind 7 lists the fields (comma- or blank-separated). An attachment without a
// name takes the file name of its first source in the cache manifest.
media::MaterialSpec materialSpecFromFrame(const proto::MaterialFrame& frame, const media::MediaCache& cache);

// values[i] is the SEND's value for the material's field i (nullopt when absent). Fields the
// material does not declare are ignored. The views point into the frame.
void bindFields(const media::Material& material, const proto::MergeFields& fields,
                std::vector<std::optional<std::string_view>>& values);

}  // namespace lbmail
