// Metrics every lbmail process exports: build information, start time, memory.
#pragma once

#include <string_view>

#include "lbmail/core/metrics_registry.h"
#include "lbmail/core/service_config.h"

namespace lbmail {

void registerProcessMetrics(MetricsRegistry& metrics, const ServiceConfig& config, std::string_view allocator);

}  // namespace lbmail
