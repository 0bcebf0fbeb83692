// The DANE fixture's zone: records by (name, type), denials for the rest, AD as the test says.
#include "dane_dns_server.h"

#include <arpa/inet.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include <algorithm>
#include <cstdio>
#include <memory>

#include "dns_answer.h"
#include "dns_message_builder.h"

namespace lbmail::test {
namespace {

using dns::test::DnsMessageBuilder;
using dns::test::ScriptedDnsServer;

std::string lower(std::string_view name) {
  std::string out(name);
  if (!out.empty() && out.back() == '.') out.pop_back();
  std::transform(out.begin(), out.end(), out.begin(), [](char c) {
    return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c;
  });
  return out;
}

std::vector<uint8_t> digest(const EVP_MD* md, const std::vector<uint8_t>& data) {
  std::vector<uint8_t> out(EVP_MAX_MD_SIZE);
  unsigned int length = 0;
  if (EVP_Digest(data.data(), data.size(), out.data(), &length, md, nullptr) != 1) return {};
  out.resize(length);
  return out;
}

}  // namespace

DaneDnsServer::DaneDnsServer() : server_([this](std::span<const uint8_t> q) { return reply(q); }) {}

void DaneDnsServer::add(std::string_view name, uint16_t type, std::vector<uint8_t> rdata) {
  std::lock_guard lock(mutex_);
  std::string key = lower(name);
  names_.insert(key);
  records_[{key, type}].push_back(std::move(rdata));
}

void DaneDnsServer::addMx(std::string_view domain, uint16_t preference, std::string_view host) {
  add(domain, dns::kTypeMx, dns::test::mxRdata(preference, host));
}

void DaneDnsServer::addAddress(std::string_view host, std::string_view ip) {
  std::string text(ip);
  std::vector<uint8_t> bytes(16);
  if (inet_pton(AF_INET, text.c_str(), bytes.data()) == 1) {
    bytes.resize(4);
    add(host, dns::kTypeA, std::move(bytes));
  } else if (inet_pton(AF_INET6, text.c_str(), bytes.data()) == 1) {
    add(host, dns::kTypeAaaa, std::move(bytes));
  }
}

void DaneDnsServer::addTxt(std::string_view name, std::string_view text) {
  DnsMessageBuilder rdata;
  do {
    std::string_view piece = text.substr(0, 255);
    rdata.u8(static_cast<uint8_t>(piece.size()));
    for (char c : piece) rdata.u8(static_cast<uint8_t>(c));
    text.remove_prefix(piece.size());
  } while (!text.empty());
  add(name, dns::kTypeTxt, rdata.bytes());
}

void DaneDnsServer::addTlsa(std::string_view name, const dns::TlsaRecord& tlsa) {
  add(name, dns::kTypeTlsa, dns::test::tlsaRdata(tlsa.usage, tlsa.selector, tlsa.matching_type, tlsa.data));
}

void DaneDnsServer::setAuthenticated(bool authenticated) {
  std::lock_guard lock(mutex_);
  authenticated_ = authenticated;
}

void DaneDnsServer::setAuthenticated(std::string_view name, bool authenticated) {
  std::lock_guard lock(mutex_);
  authenticated_by_name_[lower(name)] = authenticated;
}

void DaneDnsServer::failQueries(std::string_view name, uint16_t type) {
  std::lock_guard lock(mutex_);
  failing_.insert({lower(name), type});
}

size_t DaneDnsServer::queries(std::string_view name, uint16_t type) {
  std::lock_guard lock(mutex_);
  auto it = queries_.find({lower(name), type});
  return it == queries_.end() ? 0 : it->second;
}

bool DaneDnsServer::authenticatedFor(const std::string& name) const {
  auto it = authenticated_by_name_.find(name);
  return it == authenticated_by_name_.end() ? authenticated_ : it->second;
}

// Records owned by the question's name (a compression pointer to it); no data when the name
// has records of other types; NXDOMAIN when it has none.
std::vector<uint8_t> DaneDnsServer::reply(std::span<const uint8_t> query) {
  std::lock_guard lock(mutex_);
  Key key{lower(ScriptedDnsServer::questionName(query)), ScriptedDnsServer::questionType(query)};
  ++queries_[key];
  if (failing_.count(key)) return ScriptedDnsServer::replyWithRcode(query, dns::kRcodeServFail);
  bool ad = authenticatedFor(key.first);
  auto it = records_.find(key);
  if (it == records_.end()) {
    uint8_t rcode = names_.count(key.first) ? dns::kRcodeNoError : dns::kRcodeNxDomain;
    std::vector<uint8_t> denial = ScriptedDnsServer::replyWithRcode(query, rcode);
    if (ad && !denial.empty()) denial[3] |= dns::kFlagAuthenticData;
    return denial;
  }
  DnsMessageBuilder answers;
  for (const std::vector<uint8_t>& rdata : it->second) answers.pointer(12).fixed(key.second, dns::kClassIn, 300, rdata);
  return ScriptedDnsServer::replyWithAnswer(query, answers.bytes(), static_cast<uint16_t>(it->second.size()), ad);
}

std::optional<dns::TlsaRecord> DaneDnsServer::tlsaForCertificate(const std::string& pem_path, uint8_t usage,
                                                                 uint8_t selector, uint8_t matching_type) {
  std::unique_ptr<FILE, int (*)(FILE*)> file(std::fopen(pem_path.c_str(), "r"), std::fclose);
  if (!file) return std::nullopt;
  std::unique_ptr<X509, void (*)(X509*)> cert(PEM_read_X509(file.get(), nullptr, nullptr, nullptr), X509_free);
  if (!cert) return std::nullopt;
  unsigned char* der = nullptr;
  int length = selector == 1 ? i2d_X509_PUBKEY(X509_get_X509_PUBKEY(cert.get()), &der) : i2d_X509(cert.get(), &der);
  if (length <= 0) return std::nullopt;
  std::vector<uint8_t> data(der, der + length);
  OPENSSL_free(der);
  if (matching_type == 1) data = digest(EVP_sha256(), data);
  if (matching_type == 2) data = digest(EVP_sha512(), data);
  return dns::TlsaRecord{usage, selector, matching_type, std::move(data)};
}

}  // namespace lbmail::test
