// PLACEHOLDER (issue 21): replaced by the real endpoint.
#include "unsubscribe_endpoint.h"

namespace lbmail {

struct UnsubscribeEndpoint::Impl {};

UnsubscribeEndpoint::UnsubscribeEndpoint(uv_loop_t*, const UnsubscribeSettings&, MetricsRegistry&, Record, Check) {}
UnsubscribeEndpoint::~UnsubscribeEndpoint() = default;
int UnsubscribeEndpoint::start() { return UV_ENOSYS; }
SocketAddress UnsubscribeEndpoint::boundAddress() const { return {}; }
bool UnsubscribeEndpoint::https() const { return false; }
void UnsubscribeEndpoint::close(std::function<void()> done) { done(); }

}  // namespace lbmail
