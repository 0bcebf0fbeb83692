// A DNS server for end-to-end DANE tests: answers MX, A, AAAA, TXT and TLSA queries from the
// records a test gives it, with the AD bit set or not, on a free loopback UDP port of its own
// thread. Point a gateway's [dns] servers at address().
#pragma once

#include <cstdint>
#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "lbmail/core/socket_address.h"
#include "lbmail/dns/tlsa_record.h"
#include "scripted_dns_server.h"

namespace lbmail::test {

class DaneDnsServer {
 public:
  // Every answer has the AD bit unless setAuthenticated says otherwise.
  DaneDnsServer();
  DaneDnsServer(const DaneDnsServer&) = delete;
  DaneDnsServer& operator=(const DaneDnsServer&) = delete;

  SocketAddress address() const { return server_.address(); }

  // Names are case-insensitive, without a trailing dot. May be called while the server runs.
  void addMx(std::string_view domain, uint16_t preference, std::string_view host);
  void addAddress(std::string_view host, std::string_view ip);  // "127.0.0.1" (A) or "::1" (AAAA)
  void addTxt(std::string_view name, std::string_view text);    // split in 255-byte strings
  void addTlsa(std::string_view name, const dns::TlsaRecord& tlsa);
  // AD on every answer about name (records and denials), or, without a name, on all of them
  // that have no setting of their own.
  void setAuthenticated(bool authenticated);
  void setAuthenticated(std::string_view name, bool authenticated);
  // Queries of (name, type) are answered SERVFAIL from now on.
  void failQueries(std::string_view name, uint16_t type);
  // How many queries of (name, type) arrived.
  size_t queries(std::string_view name, uint16_t type);

  // A TLSA record for the certificate in a PEM file: usage 3 (DANE-EE), selector 1 (its
  // SubjectPublicKeyInfo), matching type 1 (SHA-256) unless given (RFC 7671 section 5.1).
  // nullopt when the file does not hold a certificate.
  static std::optional<dns::TlsaRecord> tlsaForCertificate(const std::string& pem_path, uint8_t usage = 3,
                                                          uint8_t selector = 1, uint8_t matching_type = 1);

 private:
  using Key = std::pair<std::string, uint16_t>;  // lower-case name, type

  std::vector<uint8_t> reply(std::span<const uint8_t> query);
  void add(std::string_view name, uint16_t type, std::vector<uint8_t> rdata);
  bool authenticatedFor(const std::string& name) const;

  std::mutex mutex_;
  std::map<Key, std::vector<std::vector<uint8_t>>> records_;  // rdata of each record
  std::set<std::string> names_;                               // every name with a record
  std::set<Key> failing_;
  std::map<Key, size_t> queries_;
  std::map<std::string, bool> authenticated_by_name_;
  bool authenticated_ = true;
  dns::test::ScriptedDnsServer server_;  // last: its thread reads the members above
};

}  // namespace lbmail::test
