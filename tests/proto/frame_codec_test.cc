// Tests for link frame encoding and decoding: round trips, every split, malformed input.
#include "lbmail/proto/frame_codec.h"

#include <gtest/gtest.h>

#include <deque>
#include <string>
#include <vector>

namespace lbmail::proto {
namespace {

std::vector<uint8_t> flatten(const BufferList& b) {
  std::vector<uint8_t> out;
  for (const uv_buf_t& buf : b.uvBufs()) out.insert(out.end(), buf.base, buf.base + buf.len);
  return out;
}

template <typename F>
std::vector<uint8_t> encode(const F& f) {
  BufferList b(64);  // small chunks: frames must still come out contiguous
  encodeFrame(b, f);
  EXPECT_EQ(b.size(), encodedSize(f));
  return flatten(b);
}

// Decodes exactly one frame from bytes, expecting it to consume all of them. The decoded
// frame holds views into bytes, so the bytes are kept for the rest of the test program.
template <typename F>
F decodeOne(std::vector<uint8_t> encoded) {
  static std::deque<std::vector<uint8_t>> kept;
  const std::vector<uint8_t>& bytes = kept.emplace_back(std::move(encoded));
  SplitResult s = splitFrame(bytes, kDefaultMaxPayload);
  EXPECT_EQ(s.status, SplitStatus::kFrame) << (s.error ? s.error : "");
  EXPECT_EQ(s.consumed, bytes.size());
  auto frame = decodePayload(s.header.type, s.payload);
  EXPECT_TRUE(frame) << (frame ? "" : frame.error());
  EXPECT_TRUE(std::holds_alternative<F>(*frame));
  return std::get<F>(*frame);
}

std::vector<MergeField> collect(const MergeFields& f) {
  std::vector<MergeField> out;
  f.forEach([&](const MergeField& m) { out.push_back(m); });
  return out;
}

SendFrame sampleSend(const std::vector<MergeField>& fields) {
  SendFrame s;
  s.request_id = 123456789012345ull;
  s.sender = "bounces@news.example";
  s.recipient = "alice@example.test";
  s.material_id = 7;
  s.fields = MergeFields(fields);
  s.deadline_ms = 3'600'000;
  s.message_key = 0x1234'5678'9abc'def1ull;
  return s;
}

TEST(FrameCodec, SendRoundTrips) {
  std::vector<MergeField> fields{{"first_name", "Alice"}, {"city", "Zürich"}, {"empty", ""}};
  SendFrame in = sampleSend(fields);
  SendFrame out = decodeOne<SendFrame>(encode(in));
  EXPECT_EQ(out.request_id, in.request_id);
  EXPECT_EQ(out.sender, in.sender);
  EXPECT_EQ(out.recipient, in.recipient);
  EXPECT_EQ(out.material_id, 7u);
  EXPECT_EQ(out.deadline_ms, 3'600'000u);
  EXPECT_EQ(out.message_key, in.message_key);
  auto got = collect(out.fields);
  ASSERT_EQ(got.size(), 3u);
  for (size_t i = 0; i < 3; ++i) {
    EXPECT_EQ(got[i].name, fields[i].name);
    EXPECT_EQ(got[i].value, fields[i].value);
  }
}

TEST(FrameCodec, TypicalSendIsSmall) {
  std::vector<MergeField> fields{{"first_name", "Alice"}, {"last_name", "Martin"}, {"offer", "SPRING24"}};
  EXPECT_LT(encodedSize(sampleSend(fields)), 200u);
}

TEST(FrameCodec, SendWithEdgeValuesRoundTrips) {
  std::string max_addr(kMaxAddressBytes, 'a');
  std::string big_value(kMaxFieldValueBytes, 'v');
  std::vector<MergeField> fields{{std::string_view(), big_value}};
  SendFrame in;
  in.request_id = UINT64_MAX;
  in.sender = "";  // null reverse-path
  in.recipient = max_addr;
  in.material_id = 0;
  in.fields = MergeFields(fields);
  in.deadline_ms = UINT32_MAX;
  SendFrame out = decodeOne<SendFrame>(encode(in));
  EXPECT_EQ(out.request_id, UINT64_MAX);
  EXPECT_EQ(out.sender, "");
  EXPECT_EQ(out.recipient, max_addr);
  EXPECT_EQ(out.deadline_ms, UINT32_MAX);
  auto got = collect(out.fields);
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].value.size(), kMaxFieldValueBytes);
}

// The payload an initiator from before issue 19 reads: RESULT ending after total_us.
const std::vector<uint8_t> kBaseResultPayload = {
    0x07, 0x01, 0xfa, 0x01,                  // request 7, delivered, code 250
    0x05, '2', '.', '0', '.', '0',           // enhanced code
    0x02, 'o', 'k', 0x02, 'm', 'x',          // reply, MX host
    0x01, 0x02, 0x03, 0x04, 0x05};           // timings
// What follows it when the TLS fields are sent: "TLSv1.3", verified and DANE, policy 4 (dane).
const std::vector<uint8_t> kTlsTail = {0x07, 'T', 'L', 'S', 'v', '1', '.', '3', 0x03, 0x04};

ResultFrame baseResult() {
  ResultFrame r;
  r.request_id = 7;
  r.smtp_code = 250;
  r.enhanced_code = "2.0.0";
  r.reply = "ok";
  r.mx_host = "mx";
  r.timings = {1, 2, 3, 4, 5};
  return r;
}

std::vector<uint8_t> payloadOf(const std::vector<uint8_t>& frame) {
  return std::vector<uint8_t>(frame.begin() + kHeaderSize, frame.end());
}

std::vector<uint8_t> resultFrame(std::vector<uint8_t> payload) {
  std::vector<uint8_t> frame{'L', 'B', kProtocolVersion, static_cast<uint8_t>(FrameType::kResult), 0, 0,
                             static_cast<uint8_t>(payload.size()), 0, 0, 0};
  frame.insert(frame.end(), payload.begin(), payload.end());
  return frame;
}

TEST(FrameCodec, ResultRoundTripsForEveryOutcome) {
  for (Outcome o : {Outcome::kDelivered, Outcome::kDeferred, Outcome::kBounced, Outcome::kFailed}) {
    ResultFrame in;
    in.request_id = 42;
    in.outcome = o;
    in.smtp_code = o == Outcome::kDelivered ? 250 : 451;
    in.enhanced_code = "4.7.1";
    in.reply = std::string_view("try again later");
    in.mx_host = "mx1.example.test";
    in.timings = {1, 2, 3, 4, UINT64_MAX};
    ResultFrame out = decodeOne<ResultFrame>(encode(in));
    EXPECT_EQ(out.outcome, o);
    EXPECT_EQ(out.smtp_code, in.smtp_code);
    EXPECT_EQ(out.enhanced_code, "4.7.1");
    EXPECT_EQ(out.reply, "try again later");
    EXPECT_EQ(out.mx_host, "mx1.example.test");
    EXPECT_EQ(out.timings.queue_us, 1u);
    EXPECT_EQ(out.timings.connect_us, 3u);
    EXPECT_EQ(out.timings.total_us, UINT64_MAX);
  }
}

TEST(FrameCodec, ResultWithMaximalReplyRoundTrips) {
  std::string reply(kMaxReplyBytes, 'r');
  ResultFrame in;
  in.reply = reply;
  EXPECT_EQ(decodeOne<ResultFrame>(encode(in)).reply, reply);
}

TEST(FrameCodec, HandshakeFramesRoundTrip) {
  HelloFrame hello{kProtocolVersion, "gateway-eu-1", Role::kGateway, 0x5};
  HelloFrame h = decodeOne<HelloFrame>(encode(hello));
  EXPECT_EQ(h.node_name, "gateway-eu-1");
  EXPECT_EQ(h.role, Role::kGateway);
  EXPECT_EQ(h.capabilities, 5u);

}

TEST(FrameCodec, Version2AuthenticationFramesAreRetired) {
  // TLS replaced AUTH_CHALLENGE (2) and AUTH_RESPONSE (3): a peer that sends them is refused.
  std::vector<uint8_t> challenge = {kMagic0, kMagic1, kProtocolVersion, 2, 0, 0, 0, 0, 0, 0};
  EXPECT_STREQ(splitFrame(challenge, kDefaultMaxPayload).error, "retired frame type (version 2 authentication, now TLS)");
  challenge[3] = 3;
  EXPECT_STREQ(splitFrame(challenge, kDefaultMaxPayload).error, "retired frame type (version 2 authentication, now TLS)");
}

TEST(FrameCodec, CatalogAndMaterialRoundTrip) {
  CatalogFrame empty;
  EXPECT_TRUE(decodeOne<CatalogFrame>(encode(empty)).hashes.empty());
  CatalogFrame cat;
  for (int i = 0; i < 1000; ++i) {
    MediaHash h{};
    h[0] = static_cast<uint8_t>(i);
    h[15] = static_cast<uint8_t>(i >> 8);
    cat.hashes.push_back(h);
  }
  EXPECT_EQ(decodeOne<CatalogFrame>(encode(cat)).hashes, cat.hashes);

  MaterialFrame m;
  m.material_id = 9;
  m.parts = {{MaterialPartKind::kSubject, "Hello {{first_name}}"}, {MaterialPartKind::kHtml, "<p>Hi</p>"},
             {MaterialPartKind::kFrom, ""}, {MaterialPartKind::kFields, "first_name,city"}};
  m.media = {{cat.hashes[1], MediaDisposition::kInline, "logo@x"}, {cat.hashes[2], MediaDisposition::kAttachment, ""}};
  MaterialFrame out = decodeOne<MaterialFrame>(encode(m));
  EXPECT_EQ(out.material_id, 9u);
  ASSERT_EQ(out.parts.size(), 4u);
  EXPECT_EQ(out.parts[0].kind, MaterialPartKind::kSubject);
  EXPECT_EQ(out.parts[0].content, "Hello {{first_name}}");
  EXPECT_EQ(out.parts[2].content, "");
  EXPECT_EQ(out.parts[3].kind, MaterialPartKind::kFields);
  EXPECT_EQ(out.parts[3].content, "first_name,city");
  ASSERT_EQ(out.media.size(), 2u);
  EXPECT_EQ(out.media[0].hash, cat.hashes[1]);
  m.parts = {{MaterialPartKind::kListId, "News <news.shop.example>"}, {MaterialPartKind::kFeedbackId, "c1:shopmail"}};
  out = decodeOne<MaterialFrame>(encode(m));
  ASSERT_EQ(out.parts.size(), 2u);
  EXPECT_EQ(out.parts[0].kind, MaterialPartKind::kListId);
  EXPECT_EQ(out.parts[0].content, "News <news.shop.example>");
  EXPECT_EQ(out.parts[1].kind, MaterialPartKind::kFeedbackId);
  EXPECT_EQ(out.parts[1].content, "c1:shopmail");
  EXPECT_EQ(out.media[0].disposition, MediaDisposition::kInline);
  EXPECT_EQ(out.media[0].name, "logo@x");
}

TEST(FrameCodec, SmallFramesRoundTrip) {
  EXPECT_EQ(decodeOne<AcceptFrame>(encode(AcceptFrame{77})).request_id, 77u);
  RejectFrame rej{5, RejectReason::kUnknownMaterial, "no material 5", false, {}};
  RejectFrame r = decodeOne<RejectFrame>(encode(rej));
  EXPECT_EQ(r.reason, RejectReason::kUnknownMaterial);
  EXPECT_EQ(r.text, "no material 5");
  EXPECT_EQ(decodeOne<CreditFrame>(encode(CreditFrame{UINT32_MAX})).grant, UINT32_MAX);
  LoadFrame load = decodeOne<LoadFrame>(encode(LoadFrame{1, 2, 3}));
  EXPECT_EQ(load.queue_depth, 1u);
  EXPECT_EQ(load.smtp_connections, 3u);
  EXPECT_EQ(decodeOne<PingFrame>(encode(PingFrame{0})).token, 0u);
  EXPECT_EQ(decodeOne<PongFrame>(encode(PongFrame{UINT64_MAX})).token, UINT64_MAX);
  decodeOne<DrainFrame>(encode(DrainFrame{}));
  GoodbyeFrame g = decodeOne<GoodbyeFrame>(encode(GoodbyeFrame{GoodbyeReason::kDrained, ""}));
  EXPECT_EQ(g.reason, GoodbyeReason::kDrained);
}

// Version 2: HELLO names the initiator's campaign instance; HANDOVER closes a gateway's handover.
TEST(FrameCodec, HelloInstanceAndHandoverRoundTrip) {
  HelloFrame h = decodeOne<HelloFrame>(encode(HelloFrame{kProtocolVersion, "init", Role::kInitiator, 3, UINT64_MAX}));
  EXPECT_EQ(h.instance, UINT64_MAX);
  EXPECT_EQ(h.capabilities, 3u);
  HandoverFrame o = decodeOne<HandoverFrame>(encode(HandoverFrame{100000, 7}));
  EXPECT_EQ(o.held, 100000u);
  EXPECT_EQ(o.running, 7u);
  EXPECT_EQ(encode(HandoverFrame{})[3], 16);
  EXPECT_EQ(encode(HandoverFrame{})[2], 3);  // the header's version
  EXPECT_STREQ(frameTypeName(FrameType::kHandover), "HANDOVER");
}

TEST(FrameCodec, EveryTypeHasItsNumber) {
  EXPECT_EQ(encode(HelloFrame{})[3], 1);
  EXPECT_EQ(encode(SendFrame{})[3], 6);
  EXPECT_EQ(encode(GoodbyeFrame{})[3], 15);
  EXPECT_STREQ(frameTypeName(FrameType::kResult), "RESULT");
}

// A stream of several frames, decoded whole, split at every offset, and byte by byte.
std::vector<uint8_t> sampleStream() {
  static std::vector<MergeField> fields{{"a", "1"}, {"b", "2"}};
  BufferList b;
  encodeFrame(b, HelloFrame{kProtocolVersion, "init", Role::kInitiator, 0});
  encodeFrame(b, sampleSend(fields));
  encodeFrame(b, DrainFrame{});
  encodeFrame(b, baseResult());
  encodeFrame(b, CreditFrame{64});
  return flatten(b);
}

// Feeds chunks through a reassembly buffer as a connection would; returns the frame types seen.
std::vector<FrameType> decodeStream(const std::vector<uint8_t>& bytes, size_t chunk) {
  std::vector<uint8_t> buffer;
  std::vector<FrameType> types;
  for (size_t off = 0; off < bytes.size(); off += chunk) {
    size_t n = std::min(chunk, bytes.size() - off);
    buffer.insert(buffer.end(), bytes.begin() + static_cast<long>(off), bytes.begin() + static_cast<long>(off + n));
    for (;;) {
      SplitResult s = splitFrame(buffer, kDefaultMaxPayload);
      EXPECT_NE(s.status, SplitStatus::kError);
      if (s.status != SplitStatus::kFrame) break;
      auto f = decodePayload(s.header.type, s.payload);
      EXPECT_TRUE(f);
      types.push_back(frameType(*f));
      buffer.erase(buffer.begin(), buffer.begin() + static_cast<long>(s.consumed));
    }
  }
  EXPECT_TRUE(buffer.empty());
  return types;
}

TEST(FrameCodec, StreamDecodesIdenticallyWholeSplitAndByteByByte) {
  std::vector<uint8_t> bytes = sampleStream();
  std::vector<FrameType> whole = decodeStream(bytes, bytes.size());
  ASSERT_EQ(whole.size(), 5u);
  EXPECT_EQ(decodeStream(bytes, 1), whole);
  for (size_t cut = 1; cut < bytes.size(); ++cut) {
    std::vector<uint8_t> first(bytes.begin(), bytes.begin() + static_cast<long>(cut));
    std::vector<uint8_t> buffer = first;
    std::vector<FrameType> types;
    auto drain = [&] {
      for (;;) {
        SplitResult s = splitFrame(buffer, kDefaultMaxPayload);
        ASSERT_NE(s.status, SplitStatus::kError) << cut;
        if (s.status != SplitStatus::kFrame) return;
        auto f = decodePayload(s.header.type, s.payload);
        ASSERT_TRUE(f) << cut;
        types.push_back(frameType(*f));
        buffer.erase(buffer.begin(), buffer.begin() + static_cast<long>(s.consumed));
      }
    };
    drain();
    buffer.insert(buffer.end(), bytes.begin() + static_cast<long>(cut), bytes.end());
    drain();
    EXPECT_EQ(types, whole) << cut;
  }
}

// ---- Malformed input ----

std::vector<uint8_t> header(uint8_t type, uint32_t length, uint8_t version = kProtocolVersion, uint16_t flags = 0) {
  return {kMagic0, kMagic1, version, type, static_cast<uint8_t>(flags), static_cast<uint8_t>(flags >> 8),
          static_cast<uint8_t>(length), static_cast<uint8_t>(length >> 8), static_cast<uint8_t>(length >> 16),
          static_cast<uint8_t>(length >> 24)};
}

TEST(FrameCodec, BadMagicIsAnErrorAsSoonAsItArrives) {
  std::vector<uint8_t> http{'G', 'E', 'T', ' ', '/'};
  EXPECT_EQ(splitFrame(http, kDefaultMaxPayload).status, SplitStatus::kError);
  std::vector<uint8_t> one{'L'};
  EXPECT_EQ(splitFrame(one, kDefaultMaxPayload).status, SplitStatus::kNeedMore);
  std::vector<uint8_t> two{'L', 'X'};
  EXPECT_STREQ(splitFrame(two, kDefaultMaxPayload).error, "bad magic");
}

TEST(FrameCodec, HeaderProblemsAreErrors) {
  EXPECT_STREQ(splitFrame(header(6, 0, 1), kDefaultMaxPayload).error, "unsupported protocol version");  // a v1 peer
  EXPECT_STREQ(splitFrame(header(6, 0, 2), kDefaultMaxPayload).error, "unsupported protocol version");  // a v2 peer
  EXPECT_STREQ(splitFrame(header(6, 0, 4), kDefaultMaxPayload).error, "unsupported protocol version");
  EXPECT_STREQ(splitFrame(header(0, 0), kDefaultMaxPayload).error, "unknown frame type");
  EXPECT_STREQ(splitFrame(header(kMaxFrameType + 1, 0), kDefaultMaxPayload).error, "unknown frame type");
  EXPECT_EQ(splitFrame(header(kMaxFrameType, 0), kDefaultMaxPayload).status, SplitStatus::kFrame);
  EXPECT_STREQ(splitFrame(header(6, 0, kProtocolVersion, 0x100), kDefaultMaxPayload).error, "unknown flags");
}

TEST(FrameCodec, LengthOverTheMaximumIsRejectedFromTheHeaderAlone) {
  // Only the 10 header bytes are present: the claimed 4 GiB is never awaited nor allocated.
  SplitResult s = splitFrame(header(6, 0xffffffffu), kDefaultMaxPayload);
  EXPECT_EQ(s.status, SplitStatus::kError);
  EXPECT_STREQ(s.error, "frame larger than the maximum");
  EXPECT_EQ(splitFrame(header(6, 1025), 1024).status, SplitStatus::kError);
  EXPECT_EQ(splitFrame(header(6, 1024), 1024).status, SplitStatus::kNeedMore);
}

std::string decodeError(FrameType type, const std::vector<uint8_t>& payload) {
  auto f = decodePayload(type, payload);
  return f ? "" : f.error();
}

TEST(FrameCodec, TruncatedFieldsAreErrors) {
  std::vector<uint8_t> send = encode(sampleSend({}));
  std::vector<uint8_t> payload(send.begin() + kHeaderSize, send.end());
  for (size_t n = 0; n < payload.size(); ++n) {
    EXPECT_NE(decodeError(FrameType::kSend, std::vector<uint8_t>(payload.begin(), payload.begin() + static_cast<long>(n))),
              "")
        << n;
  }
  EXPECT_EQ(decodeError(FrameType::kSend, payload), "");
}

TEST(FrameCodec, TrailingBytesAreAnError) {
  EXPECT_EQ(decodeError(FrameType::kPing, {0x01, 0x00}), "trailing bytes after the last field");
}

TEST(FrameCodec, VarintOverflowIsAnError) {
  std::vector<uint8_t> eleven(10, 0xff);
  eleven.push_back(0x01);
  EXPECT_EQ(decodeError(FrameType::kPing, eleven), "varint overflows 64 bits");
  std::vector<uint8_t> tenth_too_big(9, 0xff);
  tenth_too_big.push_back(0x02);
  EXPECT_EQ(decodeError(FrameType::kPing, tenth_too_big), "varint overflows 64 bits");
  std::vector<uint8_t> max(9, 0xff);
  max.push_back(0x01);
  EXPECT_EQ(decodeError(FrameType::kPing, max), "");
}

TEST(FrameCodec, StringLongerThanTheFrameIsAnError) {
  // ACCEPT is fine, but REJECT's text claims 1 GiB with 3 bytes present.
  std::vector<uint8_t> p{0x01, 0x01, 0x80, 0x80, 0x80, 0x80, 0x04, 'a', 'b', 'c'};
  EXPECT_EQ(decodeError(FrameType::kReject, p), "string longer than its limit");
  std::vector<uint8_t> q{0x01, 0x01, 0x05, 'a', 'b'};
  EXPECT_EQ(decodeError(FrameType::kReject, q), "string longer than the frame");
}

TEST(FrameCodec, CountsLargerThanTheFrameAreErrorsBeforeAnyAllocation) {
  std::vector<uint8_t> catalog{0xff, 0xff, 0xff, 0xff, 0x0f};  // 4 G hashes claimed
  EXPECT_EQ(decodeError(FrameType::kCatalog, catalog), "catalog count larger than the frame");
  std::vector<uint8_t> material{0x01, 0xff, 0xff, 0xff, 0xff, 0x0f};
  EXPECT_EQ(decodeError(FrameType::kMaterial, material), "too many material parts");
  std::vector<uint8_t> parts{0x01, 0x40, 0x01, 0x00};  // 64 parts claimed, room for one
  EXPECT_EQ(decodeError(FrameType::kMaterial, parts), "part count larger than the frame");
  std::vector<uint8_t> send{0x01, 0x00, 0x00, 0x01, 0xff, 0xff, 0x03};
  EXPECT_EQ(decodeError(FrameType::kSend, send), "too many merge fields");
}

TEST(FrameCodec, EnumValuesOutOfRangeAreErrors) {
  EXPECT_EQ(decodeError(FrameType::kHello, {0x01, 0x00, 0x03, 0x00}), "unknown role");
  ResultFrame r;
  std::vector<uint8_t> bytes = encode(r);
  std::vector<uint8_t> payload(bytes.begin() + kHeaderSize, bytes.end());
  payload[1] = 9;
  EXPECT_EQ(decodeError(FrameType::kResult, payload), "unknown outcome");
  // MATERIAL id 1, one part of kind K with content "x", no media: 1..9 are kinds, 0 and 10 not.
  auto material = [](uint8_t kind) { return decodeError(FrameType::kMaterial, {0x01, 0x01, kind, 0x01, 'x', 0x00}); };
  EXPECT_EQ(material(0), "unknown material part");
  for (uint8_t kind = 1; kind <= kMaxMaterialPartKind; ++kind) EXPECT_EQ(material(kind), "") << int(kind);
  EXPECT_EQ(material(kMaxMaterialPartKind + 1), "unknown material part");
  EXPECT_EQ(material(255), "unknown material part");
}


TEST(FrameCodec, ResultTlsFieldsRoundTrip) {
  ResultFrame in = baseResult();
  in.has_tls = true;
  in.tls_version = "TLSv1.3";
  in.tls_verified = true;
  in.tls_dane = true;
  in.tls_policy = 4;
  std::vector<uint8_t> bytes = encode(in);
  std::vector<uint8_t> expected = kBaseResultPayload;
  expected.insert(expected.end(), kTlsTail.begin(), kTlsTail.end());
  EXPECT_EQ(payloadOf(bytes), expected);  // appended after the timings, nothing before moved
  ResultFrame out = decodeOne<ResultFrame>(bytes);
  EXPECT_TRUE(out.has_tls);
  EXPECT_EQ(out.tls_version, "TLSv1.3");
  EXPECT_TRUE(out.tls_verified);
  EXPECT_TRUE(out.tls_dane);
  EXPECT_EQ(out.tls_policy, 4);
  EXPECT_EQ(out.timings.total_us, 5u);
}

TEST(FrameCodec, PlainSessionTlsFieldsRoundTripAsPresent) {
  ResultFrame in = baseResult();
  in.has_tls = true;
  in.tls_policy = 1;  // opportunistic, the receiver offered no STARTTLS
  ResultFrame out = decodeOne<ResultFrame>(encode(in));
  EXPECT_TRUE(out.has_tls);
  EXPECT_EQ(out.tls_version, "");
  EXPECT_FALSE(out.tls_verified);
  EXPECT_FALSE(out.tls_dane);
  EXPECT_EQ(out.tls_policy, 1);
}

TEST(FrameCodec, ResultWithoutTlsIsTheLayoutOlderInitiatorsRead) {
  ResultFrame in = baseResult();
  in.tls_version = "TLSv1.3";  // ignored: has_tls is false
  in.tls_verified = true;
  EXPECT_EQ(payloadOf(encode(in)), kBaseResultPayload);
}

TEST(FrameCodec, OlderGatewaysResultDecodesWithoutTls) {
  ResultFrame out = decodeOne<ResultFrame>(resultFrame(kBaseResultPayload));
  EXPECT_FALSE(out.has_tls);
  EXPECT_EQ(out.tls_version, "");
  EXPECT_EQ(out.reply, "ok");
  EXPECT_EQ(out.timings.total_us, 5u);
}

TEST(FrameCodec, BrokenTlsFieldsAreErrors) {
  auto withTail = [](std::vector<uint8_t> tail) {
    std::vector<uint8_t> p = kBaseResultPayload;
    p.insert(p.end(), tail.begin(), tail.end());
    return decodeError(FrameType::kResult, p);
  };
  EXPECT_EQ(withTail({0x00}), "truncated byte");                  // version but no flags
  EXPECT_EQ(withTail({0x00, 0x01}), "truncated byte");            // no policy
  EXPECT_EQ(withTail({0x00, 0x04, 0x01}), "unknown TLS flags");
  // TLS, shaping (class 4, no site), load (queue 0), then one byte too many.
  EXPECT_EQ(withTail({0x00, 0x01, 0x01, 0x04, 0x00, 0x00, 0x00}), "trailing bytes after the last field");
  std::vector<uint8_t> long_version(1, static_cast<uint8_t>(kMaxTlsVersionBytes + 1));
  long_version.resize(kMaxTlsVersionBytes + 2, 'v');
  long_version.push_back(0x00);
  long_version.push_back(0x01);
  EXPECT_EQ(withTail(long_version), "string longer than its limit");
}

TEST(FrameCodec, TlsVersionIsCutToItsLimitWhenEncoded) {
  std::string version(kMaxTlsVersionBytes + 10, 'v');
  ResultFrame in = baseResult();
  in.has_tls = true;
  in.tls_version = version;
  EXPECT_EQ(decodeOne<ResultFrame>(encode(in)).tls_version.size(), kMaxTlsVersionBytes);
}

// ---- Issue 20: SITES, RESULT's reply class and site, REJECT's site ----

TEST(FrameCodec, SitesRoundTrip) {
  SitesFrame empty;  // after the last shaped site: nothing is shaped any more
  EXPECT_TRUE(decodeOne<SitesFrame>(encode(empty)).sites.empty());
  EXPECT_EQ(encode(empty)[3], 17);
  EXPECT_STREQ(frameTypeName(FrameType::kSites), "SITES");
  std::string long_site(kMaxSiteBytes, 's');
  SitesFrame in;
  in.sites = {{"gmail", 3'600'000, 0, 12, SiteStatus::kNoWarmupCap},
              {"mx1.example.test,mx2.example.test", 0, 2500, 0, 0},
              {long_site, UINT32_MAX, UINT32_MAX, UINT32_MAX, 40}};
  SitesFrame out = decodeOne<SitesFrame>(encode(in));
  ASSERT_EQ(out.sites.size(), 3u);
  EXPECT_EQ(out.sites[0].site, "gmail");
  EXPECT_EQ(out.sites[0].suspended_ms, 3'600'000u);
  EXPECT_EQ(out.sites[0].rate_millis, 0u);
  EXPECT_EQ(out.sites[0].queued, 12u);
  EXPECT_EQ(out.sites[0].warmup_left, SiteStatus::kNoWarmupCap);
  EXPECT_EQ(out.sites[1].site, "mx1.example.test,mx2.example.test");
  EXPECT_EQ(out.sites[1].rate_millis, 2500u);
  EXPECT_EQ(out.sites[1].warmup_left, 0u);
  EXPECT_EQ(out.sites[2].site, long_site);
  EXPECT_EQ(out.sites[2].suspended_ms, UINT32_MAX);
  EXPECT_EQ(out.sites[2].queued, UINT32_MAX);
  EXPECT_EQ(out.sites[2].warmup_left, 40u);
}

TEST(FrameCodec, SitesNamesAreCutAndTheListBoundedWhenEncoded) {
  std::string too_long(kMaxSiteBytes + 20, 'x');
  SitesFrame in;
  in.sites.assign(kMaxSitesPerFrame + 3, SiteStatus{"a", 1, 2, 3, 4});
  in.sites[0].site = too_long;
  SitesFrame out = decodeOne<SitesFrame>(encode(in));
  ASSERT_EQ(out.sites.size(), kMaxSitesPerFrame);
  EXPECT_EQ(out.sites[0].site.size(), kMaxSiteBytes);
  EXPECT_EQ(out.sites.back().warmup_left, 4u);
}

TEST(FrameCodec, BrokenSitesAreErrors) {
  // 4097 sites claimed: over the limit before the frame's size is even looked at.
  EXPECT_EQ(decodeError(FrameType::kSites, {0x81, 0x20}), "too many sites");
  // 100 claimed, one present (each is at least 5 bytes).
  EXPECT_EQ(decodeError(FrameType::kSites, {0x64, 0x01, 'g', 0x00, 0x00, 0x00, 0x00}),
            "site count larger than the frame");
  // A value over 32 bits, in each of the four places.
  for (size_t field = 0; field < 4; ++field) {
    std::vector<uint8_t> p{0x01, 0x01, 'g'};
    for (size_t i = 0; i < 4; ++i) {
      if (i == field) {
        p.insert(p.end(), {0x80, 0x80, 0x80, 0x80, 0x10});  // 2^32
      } else {
        p.push_back(0x00);
      }
    }
    EXPECT_NE(decodeError(FrameType::kSites, p).find("out of range"), std::string::npos) << field;
  }
  std::vector<uint8_t> p{0x01, 0x81, 0x02};  // a name of 257 bytes
  p.resize(p.size() + kMaxSiteBytes + 2, 'n');
  p.insert(p.end(), {0x00, 0x00, 0x00, 0x00});
  EXPECT_EQ(decodeError(FrameType::kSites, p), "string longer than its limit");
  // Every truncation of a valid frame is an error, and so is a byte after its last field.
  SitesFrame in;
  in.sites = {{"gmail", 5, 1000, 2, 300}, {"yahoo", 0, 0, 0, SiteStatus::kNoWarmupCap}};
  std::vector<uint8_t> payload = payloadOf(encode(in));
  for (size_t n = 0; n < payload.size(); ++n) {
    EXPECT_NE(decodeError(FrameType::kSites, std::vector<uint8_t>(payload.begin(), payload.begin() + static_cast<long>(n))), "")
        << n;
  }
  payload.push_back(0x00);
  EXPECT_EQ(decodeError(FrameType::kSites, payload), "trailing bytes after the last field");
}

ResultFrame shapedResult() {
  ResultFrame r = baseResult();
  r.has_tls = true;
  r.tls_version = "TLSv1.3";
  r.tls_verified = true;
  r.tls_dane = true;
  r.tls_policy = 4;
  r.has_shaping = true;
  r.reply_class = 3;  // block
  r.site = "gmail";
  return r;
}

TEST(FrameCodec, ResultShapingFieldsFollowTheTlsFields) {
  std::vector<uint8_t> bytes = encode(shapedResult());
  std::vector<uint8_t> expected = kBaseResultPayload;
  expected.insert(expected.end(), kTlsTail.begin(), kTlsTail.end());
  expected.insert(expected.end(), {0x03, 0x05, 'g', 'm', 'a', 'i', 'l'});
  EXPECT_EQ(payloadOf(bytes), expected);  // appended, nothing before moved
  ResultFrame out = decodeOne<ResultFrame>(bytes);
  EXPECT_TRUE(out.has_tls);
  EXPECT_EQ(out.tls_version, "TLSv1.3");
  EXPECT_TRUE(out.has_shaping);
  EXPECT_EQ(out.reply_class, 3);
  EXPECT_EQ(out.site, "gmail");
  // A class newer than this initiator is kept as it is; an empty site (unknown) is allowed.
  ResultFrame newer = shapedResult();
  newer.reply_class = 200;
  newer.site = "";
  out = decodeOne<ResultFrame>(encode(newer));
  EXPECT_EQ(out.reply_class, 200);
  EXPECT_EQ(out.site, "");
  // Without has_tls the shaping fields cannot be placed: neither goes out.
  ResultFrame no_tls = shapedResult();
  no_tls.has_tls = false;
  EXPECT_EQ(payloadOf(encode(no_tls)), kBaseResultPayload);
}

TEST(FrameCodec, OlderGatewaysResultDecodesWithoutShaping) {
  std::vector<uint8_t> p = kBaseResultPayload;
  p.insert(p.end(), kTlsTail.begin(), kTlsTail.end());  // an issue 19 gateway: TLS, no shaping
  ResultFrame out = decodeOne<ResultFrame>(resultFrame(p));
  EXPECT_TRUE(out.has_tls);
  EXPECT_FALSE(out.has_shaping);
  EXPECT_EQ(out.reply_class, 0);
  EXPECT_EQ(out.site, "");
  ResultFrame plain = decodeOne<ResultFrame>(resultFrame(kBaseResultPayload));
  EXPECT_FALSE(plain.has_shaping);
}

TEST(FrameCodec, BrokenResultShapingFieldsAreErrors) {
  std::vector<uint8_t> payload = payloadOf(encode(shapedResult()));
  size_t base = kBaseResultPayload.size() + kTlsTail.size();
  // Cut anywhere inside the shaping fields (after the class, inside the site): an error.
  for (size_t n = base + 1; n < payload.size(); ++n) {
    EXPECT_NE(decodeError(FrameType::kResult, std::vector<uint8_t>(payload.begin(), payload.begin() + static_cast<long>(n))), "")
        << n;
  }
  // After the shaping fields comes the load field (issue 22), then nothing.
  std::vector<uint8_t> longer = payload;
  longer.insert(longer.end(), {0x05, 'x'});
  EXPECT_EQ(decodeError(FrameType::kResult, longer), "trailing bytes after the last field");
  std::vector<uint8_t> long_site(payload.begin(), payload.begin() + static_cast<long>(base + 1));
  long_site.insert(long_site.end(), {0x80, 0x02});  // a site of 256 bytes
  long_site.resize(long_site.size() + kMaxSiteBytes + 1, 's');
  EXPECT_EQ(decodeError(FrameType::kResult, long_site), "string longer than its limit");
  // The encoder cuts a long site instead.
  std::string site(kMaxSiteBytes + 9, 's');
  ResultFrame in = shapedResult();
  in.site = site;
  EXPECT_EQ(decodeOne<ResultFrame>(encode(in)).site.size(), kMaxSiteBytes);
}

TEST(FrameCodec, RejectSiteRoundTripsAndAnOlderGatewaysRejectHasNone) {
  RejectFrame in{9, RejectReason::kSiteUnavailable, "site gmail suspended", true, "gmail"};
  std::vector<uint8_t> bytes = encode(in);
  EXPECT_EQ(payloadOf(bytes), (std::vector<uint8_t>{0x09, 0x09, 0x14, 's', 'i', 't', 'e', ' ', 'g', 'm', 'a', 'i', 'l',
                                                    ' ', 's', 'u', 's', 'p', 'e', 'n', 'd', 'e', 'd', 0x05, 'g', 'm',
                                                    'a', 'i', 'l'}));
  RejectFrame out = decodeOne<RejectFrame>(bytes);
  EXPECT_EQ(out.reason, RejectReason::kSiteUnavailable);
  EXPECT_EQ(out.text, "site gmail suspended");
  EXPECT_TRUE(out.has_site);
  EXPECT_EQ(out.site, "gmail");
  // An empty site is present all the same.
  in.site = "";
  out = decodeOne<RejectFrame>(encode(in));
  EXPECT_TRUE(out.has_site);
  EXPECT_EQ(out.site, "");
  // Before issue 20 the frame ends after the text.
  RejectFrame old = decodeOne<RejectFrame>(encode(RejectFrame{9, RejectReason::kOverCapacity, "full", false, {}}));
  EXPECT_FALSE(old.has_site);
  EXPECT_EQ(old.text, "full");
}

TEST(FrameCodec, BrokenRejectSitesAreErrors) {
  EXPECT_EQ(decodeError(FrameType::kReject, {0x01, 0x09, 0x00, 0x05, 'g', 'm'}), "string longer than the frame");
  std::vector<uint8_t> long_site{0x01, 0x09, 0x00, 0x80, 0x02};
  long_site.resize(long_site.size() + kMaxSiteBytes + 1, 's');
  EXPECT_EQ(decodeError(FrameType::kReject, long_site), "string longer than its limit");
  EXPECT_EQ(decodeError(FrameType::kReject, {0x01, 0x09, 0x00, 0x01, 'g', 'x'}), "trailing bytes after the last field");
}


// ---- Issue 21: FEEDBACK and FEEDBACK_ACK ----

TEST(FrameCodec, FeedbackRoundTrip) {
  FeedbackFrame in;
  in.sequence = 1234567;
  in.kind = FeedbackKind::kComplaint;
  in.campaign = 7;
  in.recipient = (uint64_t{1} << 39) + 5;
  in.attempt = 3;
  in.at_ms = 1'790'000'000'000;
  in.status = "";
  in.source = "arf";
  in.detail = "abuse";
  std::vector<uint8_t> bytes = encode(in);
  EXPECT_EQ(bytes[3], 18);
  EXPECT_STREQ(frameTypeName(FrameType::kFeedback), "FEEDBACK");
  EXPECT_STREQ(feedbackKindName(FeedbackKind::kComplaint), "complaint");
  FeedbackFrame out = decodeOne<FeedbackFrame>(bytes);
  EXPECT_EQ(out.sequence, in.sequence);
  EXPECT_EQ(out.kind, FeedbackKind::kComplaint);
  EXPECT_EQ(out.campaign, 7u);
  EXPECT_EQ(out.recipient, in.recipient);
  EXPECT_EQ(out.attempt, 3);
  EXPECT_EQ(out.at_ms, in.at_ms);
  EXPECT_EQ(out.status, "");
  EXPECT_EQ(out.source, "arf");
  EXPECT_EQ(out.detail, "abuse");

  FeedbackAckFrame ack{99};
  EXPECT_EQ(encode(ack)[3], 19);
  EXPECT_STREQ(frameTypeName(FrameType::kFeedbackAck), "FEEDBACK_ACK");
  EXPECT_EQ(decodeOne<FeedbackAckFrame>(encode(ack)).sequence, 99u);
}

TEST(FrameCodec, FeedbackTextsAreCutAndBrokenFramesAreErrors) {
  std::string detail(kMaxFeedbackDetailBytes + 100, 'd');
  FeedbackFrame in;
  in.kind = FeedbackKind::kHardBounce;
  in.status = "5.1.1";
  in.source = "dsn";
  in.detail = detail;
  EXPECT_EQ(decodeOne<FeedbackFrame>(encode(in)).detail.size(), kMaxFeedbackDetailBytes);
  std::vector<uint8_t> payload = payloadOf(encode(in));
  for (size_t n = 0; n < payload.size(); ++n) {
    EXPECT_NE(decodeError(FrameType::kFeedback, std::vector<uint8_t>(payload.begin(), payload.begin() + static_cast<long>(n))),
              "")
        << n;
  }
  payload[1] = 5;  // kind 5 is not defined
  EXPECT_EQ(decodeError(FrameType::kFeedback, payload), "unknown feedback kind");
  payload[1] = 0;
  EXPECT_EQ(decodeError(FrameType::kFeedback, payload), "unknown feedback kind");
}

// Issue 22: RESULT's load field follows the shaping fields; PROBE and PROBE_REPLY.
ResultFrame loadedResult() {
  ResultFrame r = shapedResult();
  r.has_load = true;
  r.queue = 300;
  return r;
}

TEST(FrameCodec, ResultLoadFieldFollowsTheShapingFields) {
  std::vector<uint8_t> expected = kBaseResultPayload;
  expected.insert(expected.end(), kTlsTail.begin(), kTlsTail.end());
  expected.insert(expected.end(), {0x03, 0x05, 'g', 'm', 'a', 'i', 'l', 0xac, 0x02});  // queue 300
  std::vector<uint8_t> bytes = encode(loadedResult());
  EXPECT_EQ(payloadOf(bytes), expected);  // appended, nothing before moved
  ResultFrame out = decodeOne<ResultFrame>(bytes);
  EXPECT_TRUE(out.has_shaping);
  EXPECT_EQ(out.site, "gmail");
  EXPECT_TRUE(out.has_load);
  EXPECT_EQ(out.queue, 300u);
  ResultFrame most = loadedResult();
  most.queue = UINT32_MAX;
  EXPECT_EQ(decodeOne<ResultFrame>(encode(most)).queue, UINT32_MAX);
  // Without the shaping fields the load field cannot be placed: it does not go out.
  ResultFrame no_shaping = loadedResult();
  no_shaping.has_shaping = false;
  ResultFrame plain = decodeOne<ResultFrame>(encode(no_shaping));
  EXPECT_FALSE(plain.has_load);
  EXPECT_EQ(plain.queue, 0u);
}

TEST(FrameCodec, OlderGatewaysResultDecodesWithoutLoad) {
  ResultFrame out = decodeOne<ResultFrame>(encode(shapedResult()));  // an issue 20 gateway
  EXPECT_TRUE(out.has_shaping);
  EXPECT_FALSE(out.has_load);
  EXPECT_EQ(out.queue, 0u);
}

TEST(FrameCodec, BrokenResultLoadFieldsAreErrors) {
  std::vector<uint8_t> payload = payloadOf(encode(loadedResult()));
  // Cut inside the queue's varint: an error.
  std::vector<uint8_t> cut(payload.begin(), payload.end() - 1);
  EXPECT_NE(decodeError(FrameType::kResult, cut), "");
  std::vector<uint8_t> longer = payload;
  longer.push_back(0x01);
  EXPECT_EQ(decodeError(FrameType::kResult, longer), "trailing bytes after the last field");
  std::vector<uint8_t> huge(payload.begin(), payload.end() - 2);
  huge.insert(huge.end(), {0x80, 0x80, 0x80, 0x80, 0x10});  // 2^32: over u32
  EXPECT_EQ(decodeError(FrameType::kResult, huge), "queue out of range");
}

TEST(FrameCodec, ProbeAndProbeReplyRoundTrip) {
  std::vector<uint8_t> probe = encode(ProbeFrame{UINT64_MAX});
  EXPECT_EQ(probe[3], 20);
  EXPECT_EQ(decodeOne<ProbeFrame>(probe).token, UINT64_MAX);
  std::vector<uint8_t> reply = encode(ProbeReplyFrame{42, 7, 12345});
  EXPECT_EQ(reply[3], 21);
  EXPECT_EQ(payloadOf(reply), (std::vector<uint8_t>{42, 7, 0xb9, 0x60}));
  ProbeReplyFrame out = decodeOne<ProbeReplyFrame>(reply);
  EXPECT_EQ(out.token, 42u);
  EXPECT_EQ(out.requests_in_flight, 7u);
  EXPECT_EQ(out.latency_us, 12345u);
  out = decodeOne<ProbeReplyFrame>(encode(ProbeReplyFrame{0, UINT32_MAX, UINT32_MAX}));
  EXPECT_EQ(out.requests_in_flight, UINT32_MAX);
  EXPECT_EQ(out.latency_us, UINT32_MAX);
  EXPECT_STREQ(frameTypeName(FrameType::kProbe), "PROBE");
  EXPECT_STREQ(frameTypeName(FrameType::kProbeReply), "PROBE_REPLY");
  EXPECT_EQ(senderOf(FrameType::kProbe), Role::kInitiator);
  EXPECT_EQ(senderOf(FrameType::kProbeReply), Role::kGateway);
}

TEST(FrameCodec, BrokenProbesAreErrors) {
  EXPECT_NE(decodeError(FrameType::kProbe, {}), "");
  EXPECT_EQ(decodeError(FrameType::kProbe, {0x01, 0x00}), "trailing bytes after the last field");
  std::vector<uint8_t> payload = payloadOf(encode(ProbeReplyFrame{1, 2, 3}));
  for (size_t n = 0; n < payload.size(); ++n) {
    EXPECT_NE(decodeError(FrameType::kProbeReply, std::vector<uint8_t>(payload.begin(), payload.begin() + static_cast<long>(n))),
              "")
        << n;
  }
  EXPECT_EQ(decodeError(FrameType::kProbeReply, {0x01, 0x80, 0x80, 0x80, 0x80, 0x10, 0x03}),
            "requests in flight out of range");
  EXPECT_EQ(decodeError(FrameType::kProbeReply, {0x01, 0x02, 0x80, 0x80, 0x80, 0x80, 0x10}), "latency out of range");
  payload.push_back(0);
  EXPECT_EQ(decodeError(FrameType::kProbeReply, payload), "trailing bytes after the last field");
}
}  // namespace
}  // namespace lbmail::proto
