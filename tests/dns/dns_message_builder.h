// Builds DNS messages byte by byte for tests: well-formed ones, and broken ones on purpose
// (counts that lie, pointers that loop, rdata that runs past the end).
#pragma once

#include <cstdint>
#include <initializer_list>
#include <string>
#include <string_view>
#include <vector>

namespace lbmail::dns::test {

class DnsMessageBuilder {
 public:
  // A response header: flags QR|RD|RA, the given rcode and section counts.
  DnsMessageBuilder& header(uint8_t rcode, uint16_t questions, uint16_t answers, uint16_t authority = 0,
                            uint16_t additional = 0) {
    u16(0x1234);
    u16(static_cast<uint16_t>(0x8180 | rcode));
    u16(questions);
    u16(answers);
    u16(authority);
    return u16(additional);
  }
  // "mx1.example.test" as labels and the root; "" is the root alone.
  DnsMessageBuilder& name(std::string_view dotted) {
    while (!dotted.empty()) {
      size_t dot = dotted.find('.');
      std::string_view label = dotted.substr(0, dot);
      u8(static_cast<uint8_t>(label.size()));
      bytes_.insert(bytes_.end(), label.begin(), label.end());
      dotted = dot == std::string_view::npos ? std::string_view() : dotted.substr(dot + 1);
    }
    return u8(0);
  }
  // A compression pointer to an earlier offset (RFC 1035 section 4.1.4).
  DnsMessageBuilder& pointer(uint16_t offset) { return u16(static_cast<uint16_t>(0xc000 | offset)); }
  DnsMessageBuilder& question(std::string_view qname, uint16_t type) {
    name(qname);
    u16(type);
    return u16(1);
  }
  // Owner, type, class IN, TTL; then rdata with its length.
  DnsMessageBuilder& record(std::string_view owner, uint16_t type, uint32_t ttl, const std::vector<uint8_t>& rdata,
                            uint16_t klass = 1) {
    name(owner);
    return fixed(type, klass, ttl, rdata);
  }
  DnsMessageBuilder& fixed(uint16_t type, uint16_t klass, uint32_t ttl, const std::vector<uint8_t>& rdata) {
    u16(type);
    u16(klass);
    u32(ttl);
    u16(static_cast<uint16_t>(rdata.size()));
    bytes_.insert(bytes_.end(), rdata.begin(), rdata.end());
    return *this;
  }
  DnsMessageBuilder& u8(uint8_t v) {
    bytes_.push_back(v);
    return *this;
  }
  DnsMessageBuilder& u16(uint16_t v) { return u8(static_cast<uint8_t>(v >> 8)).u8(static_cast<uint8_t>(v)); }
  DnsMessageBuilder& u32(uint32_t v) { return u16(static_cast<uint16_t>(v >> 16)).u16(static_cast<uint16_t>(v)); }

  size_t size() const { return bytes_.size(); }
  const std::vector<uint8_t>& bytes() const { return bytes_; }

 private:
  std::vector<uint8_t> bytes_;
};

inline std::vector<uint8_t> encodedName(std::string_view dotted) { return DnsMessageBuilder().name(dotted).bytes(); }

inline std::vector<uint8_t> mxRdata(uint16_t preference, std::string_view exchange) {
  return DnsMessageBuilder().u16(preference).name(exchange).bytes();
}

inline std::vector<uint8_t> aRdata(std::initializer_list<uint8_t> octets) { return std::vector<uint8_t>(octets); }

// TXT rdata: each string as one <character-string> (RFC 1035 section 3.3.14).
inline std::vector<uint8_t> txtRdata(std::initializer_list<std::string_view> strings) {
  DnsMessageBuilder b;
  for (std::string_view text : strings) {
    b.u8(static_cast<uint8_t>(text.size()));
    for (char c : text) b.u8(static_cast<uint8_t>(c));
  }
  return b.bytes();
}

// TLSA rdata (RFC 6698 section 2.1).
inline std::vector<uint8_t> tlsaRdata(uint8_t usage, uint8_t selector, uint8_t matching_type,
                                      const std::vector<uint8_t>& data) {
  std::vector<uint8_t> rdata = {usage, selector, matching_type};
  rdata.insert(rdata.end(), data.begin(), data.end());
  return rdata;
}

// An SOA with the given TTL-relevant MINIMUM; the other counters are arbitrary.
inline std::vector<uint8_t> soaRdata(uint32_t minimum) {
  DnsMessageBuilder b;
  b.name("ns.test").name("admin.test");
  return b.u32(1).u32(7200).u32(900).u32(86400).u32(minimum).bytes();
}

}  // namespace lbmail::dns::test
