// What the sink's process tests share: a line-oriented SMTP client over a raw socket, and
// reading a series from /metrics.
#pragma once

#include <sstream>
#include <string>

#include "lbmail/core/socket_address.h"
#include "tcp_client.h"

namespace lbmail::test {

class SmtpClient {
 public:
  explicit SmtpClient(const SocketAddress& addr) : tcp_(addr) {}
  bool send(const std::string& s) { return tcp_.send(s); }
  // One whole reply (all its lines); empty when the connection ends first.
  std::string reply() {
    std::string out;
    for (;;) {
      std::string& in = tcp_.received();
      size_t nl;
      while ((nl = in.find("\r\n")) != std::string::npos) {
        std::string line = in.substr(0, nl + 2);
        in.erase(0, nl + 2);
        out += line;
        if (line.size() >= 4 && line[3] == ' ') return out;
      }
      if (!tcp_.receiveMore()) return "";
    }
  }
  int code() {
    std::string r = reply();
    return r.size() >= 3 ? std::stoi(r.substr(0, 3)) : 0;
  }
  bool closed() { return tcp_.peerClosed(); }
  std::string readUntilClosed() { return tcp_.readUntilClosed(); }

 private:
  TcpClient tcp_;
};

// The value of an unlabelled series in a /metrics text; -1 when absent.
inline double metricValue(const std::string& metrics, const std::string& name) {
  std::istringstream in(metrics);
  for (std::string line; std::getline(in, line);) {
    if (line.rfind(name + " ", 0) == 0) return std::stod(line.substr(name.size() + 1));
  }
  return -1;
}

}  // namespace lbmail::test
