// The frames that answer a SEND, from what became of its delivery: a RESULT (with its TLS and
// shaping fields; the link leaves out those the initiator did not ask for), or a REJECT when it
// was never sent.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "lbmail/core/units.h"
#include "lbmail/delivery/delivery_result.h"
#include "lbmail/proto/frames.h"

namespace lbmail {

// What a RESULT's views point into: it must outlive the frame's encoding.
struct ResultText {
  std::string reply;
  std::string mx_host;
};

// total: from receipt of the SEND to now.
proto::ResultFrame resultFrameOf(uint64_t request_id, const delivery::DeliveryResult& r, Duration total,
                                 ResultText& text);
// r was withdrawn before MAIL FROM (withdrawn_why says why) or its site would not take it from
// here (r.site_unavailable): views into r and withdrawn_why.
proto::RejectFrame unsentFrameOf(uint64_t request_id, const delivery::DeliveryResult& r,
                                 std::string_view withdrawn_why);

}  // namespace lbmail
