// Counting MAIL commands and limit replies per client and second.
#include "sink_client_stats.h"

#include <algorithm>

#include "lbmail/core/log.h"

namespace lbmail {

SinkClientStats::Series& SinkClientStats::of(const std::string& client) {
  auto it = clients_.find(client);
  if (it != clients_.end()) return it->second;
  return clients_[clients_.size() >= kMaxClients ? std::string("other") : client];
}

void SinkClientStats::add(std::vector<uint32_t>& series, uint64_t second) {
  size_t at = static_cast<size_t>(std::min<uint64_t>(second, kMaxSeconds - 1));
  if (series.size() <= at) series.resize(at + 1, 0);
  ++series[at];
}

void SinkClientStats::mail(const std::string& client, uint64_t second) {
  Series& s = of(client);
  ++s.mails_total;
  add(s.mails, second);
}

void SinkClientStats::limited(const std::string& client, int code, uint64_t second) {
  Series& s = of(client);
  if (code != 421) {
    ++s.refused_other_total;
    return;
  }
  ++s.refused_421_total;
  add(s.refused_421, second);
}

std::string SinkClientStats::joined(const std::vector<uint32_t>& series) {
  std::string out;
  for (uint32_t n : series) {
    if (!out.empty()) out.push_back(',');
    out += std::to_string(n);
  }
  return out.empty() ? "0" : out;
}

void SinkClientStats::log() const {
  for (const auto& [client, s] : clients_) {
    logInfo("sink.client_totals", {{"client", client},
                                   {"mails", s.mails_total},
                                   {"accepted", s.accepted_total},
                                   {"refused_421", s.refused_421_total},
                                   {"refused_other", s.refused_other_total},
                                   {"mails_per_second", joined(s.mails)},
                                   {"refused_421_per_second", joined(s.refused_421)}});
  }
}

}  // namespace lbmail
