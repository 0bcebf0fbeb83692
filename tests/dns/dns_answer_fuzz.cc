// libFuzzer target for the DNS answer walker and the reading of its records into a cacheable
// result: any bytes a server sends must give a clean result or a clean error, within bounds.
#include <ares.h>

#include <cassert>
#include <cstddef>
#include <cstdint>
#include <span>

#include "dns_answer.h"
#include "record_reader.h"

namespace {

using namespace lbmail::dns;

void checkAnswer(const DnsAnswer& a) {
  assert(a.answers.size() <= kMaxAnswerRecords);
  for (const DnsRecord& r : a.answers) {
    assert(r.type == kTypeA || r.type == kTypeAaaa || r.type == kTypeMx || r.type == kTypeCname ||
           r.type == kTypeTxt || r.type == kTypeTlsa);
    assert(r.ttl <= 0x7fffffffu);
    // A TXT text is its rdata less at least one length byte per string; TLSA data its rdata less 3.
    assert(r.text.size() < 65535);
    assert(r.tlsa.data.size() <= 65535 - 3);
    for (char c : r.owner) {
      assert(c < 'A' || c > 'Z');
      (void)c;
    }
    (void)r;
  }
  (void)a;
}

void checkReading(const RecordReading& reading, TimePoint now, const ResolverConfig& config) {
  const RecordSet& s = reading.set;
  assert(reading.hops <= kMaxCnameHops);
  assert(s.expires >= now);
  if (reading.follow.empty() && s.kind == RecordSet::Kind::kRecords) {
    assert(s.hasRecords());
    assert(s.expires - now <= config.max_ttl);
  }
  for (const lbmail::SocketAddress& addr : s.addresses) {
    assert(addr.port() == config.smtp_port);
    (void)addr;
  }
  (void)s;
  (void)now;
  (void)config;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::span<const uint8_t> message(data, size);
  auto answer = parseDnsAnswer(message);
  if (answer) checkAnswer(*answer);

  // Read as the answer to each question the resolver asks, for the name the answer starts
  // with, so that the records are found and CNAME chains walked.
  std::string name = answer && !answer->answers.empty() ? answer->answers[0].owner : "example.test";
  ResolverConfig config;
  config.smtp_port = 2525;
  TimePoint now = std::chrono::steady_clock::now();
  RecordReader reader(config);
  for (uint16_t type : {kTypeMx, kTypeA, kTypeAaaa, kTypeTxt, kTypeTlsa}) {
    RecordReading reading = reader.read(name, type, ARES_SUCCESS, message, now);
    checkReading(reading, now, config);
    // Only the type asked for is collected, and a failure vouches for nothing.
    assert(type == kTypeTxt || reading.set.texts.empty());
    assert(type == kTypeTlsa || reading.set.tlsa.empty());
    assert(reading.set.kind != RecordSet::Kind::kTemporary || !reading.set.authenticated || !reading.follow.empty());
    (void)reading;
  }
  return 0;
}
