// The octets a TCP connection of this process carried, as the kernel counts them (TCP_INFO):
// what a link really costs on the wire, TLS records and handshake included, TCP/IP headers
// not. The benchmarks read it from outside the link, so that it counts every layer.
#pragma once

#include <cstdint>
#include <optional>

namespace lbmail::perf {

struct WireBytes {
  uint64_t sent = 0;
  uint64_t received = 0;
  uint64_t total() const { return sent + received; }
};

// Sums over this process's open TCP sockets whose peer port is peer_port; nullopt when there
// is none (or the kernel does not count bytes: Linux before 4.19).
std::optional<WireBytes> wireBytesToPort(uint16_t peer_port);

}  // namespace lbmail::perf
