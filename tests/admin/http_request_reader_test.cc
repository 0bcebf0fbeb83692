// Tests for incremental HTTP request parsing: whole, split at every byte, byte by byte, limits.
#include "lbmail/admin/http_request_reader.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace lbmail {
namespace {

struct Seen {
  std::string method;
  std::string path;
  std::string query;
  bool keep_alive;
  std::string content_type;
  std::string body;
};

class RecordingSink : public HttpRequestSink {
 public:
  void onRequestStarted() override { ++started; }
  bool onRequest(const HttpRequest& r) override {
    requests.push_back({std::string(r.method), std::string(r.path), std::string(r.query), r.keep_alive,
                        std::string(r.content_type), std::string(r.body)});
    return accept_more;
  }
  bool wantsPause() override { return pause_after_each; }
  int started = 0;
  bool accept_more = true;
  bool pause_after_each = false;
  std::vector<Seen> requests;
};

HttpRequestReader::Limits smallLimits() {
  HttpRequestReader::Limits l;
  l.max_header_bytes = 256;
  l.max_headers = 8;
  l.max_body_bytes = 16;
  return l;
}

const std::string kThreeRequests =
    "GET /healthz HTTP/1.1\r\nHost: a\r\n\r\n"
    "HEAD /metrics?x=1 HTTP/1.1\r\nHost: a\r\nUser-Agent: t\r\n\r\n"
    "POST /status HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n\r\nhello";

void expectThree(const RecordingSink& sink) {
  ASSERT_EQ(sink.requests.size(), 3u);
  EXPECT_EQ(sink.requests[0].method, "GET");
  EXPECT_EQ(sink.requests[0].path, "/healthz");
  EXPECT_EQ(sink.requests[1].method, "HEAD");
  EXPECT_EQ(sink.requests[1].path, "/metrics");
  EXPECT_EQ(sink.requests[1].query, "x=1");
  EXPECT_EQ(sink.requests[2].method, "POST");
  EXPECT_EQ(sink.requests[2].path, "/status");
  EXPECT_EQ(sink.requests[2].body, "hello");
  EXPECT_EQ(sink.requests[0].body, "");
  for (const Seen& s : sink.requests) EXPECT_TRUE(s.keep_alive);
  EXPECT_EQ(sink.started, 3);
}

TEST(HttpRequestReader, ParsesPipelinedRequestsFedWhole) {
  HttpRequestReader reader(smallLimits());
  RecordingSink sink;
  EXPECT_EQ(reader.feed(kThreeRequests, sink), HttpRequestReader::Result::kNeedMore);
  expectThree(sink);
  EXPECT_FALSE(reader.midRequest());
}

TEST(HttpRequestReader, ParsesSplitAtEveryByte) {
  for (size_t cut = 0; cut <= kThreeRequests.size(); ++cut) {
    HttpRequestReader reader(smallLimits());
    RecordingSink sink;
    std::string_view all = kThreeRequests;
    EXPECT_EQ(reader.feed(all.substr(0, cut), sink), HttpRequestReader::Result::kNeedMore) << cut;
    EXPECT_EQ(reader.feed(all.substr(cut), sink), HttpRequestReader::Result::kNeedMore) << cut;
    expectThree(sink);
  }
}

TEST(HttpRequestReader, ParsesByteByByte) {
  HttpRequestReader reader(smallLimits());
  RecordingSink sink;
  for (char c : kThreeRequests) {
    ASSERT_EQ(reader.feed(std::string_view(&c, 1), sink), HttpRequestReader::Result::kNeedMore);
  }
  expectThree(sink);
}

TEST(HttpRequestReader, ReportsAPartialRequest) {
  HttpRequestReader reader(smallLimits());
  RecordingSink sink;
  EXPECT_EQ(reader.feed("GET /heal", sink), HttpRequestReader::Result::kNeedMore);
  EXPECT_TRUE(reader.midRequest());
  EXPECT_TRUE(sink.requests.empty());
}

TEST(HttpRequestReader, ConnectionCloseStopsAfterThatRequest) {
  HttpRequestReader reader(smallLimits());
  RecordingSink sink;
  EXPECT_EQ(reader.feed("GET /a HTTP/1.1\r\nConnection: close\r\n\r\nGET /b HTTP/1.1\r\n\r\n", sink),
            HttpRequestReader::Result::kClose);
  ASSERT_EQ(sink.requests.size(), 1u);
  EXPECT_FALSE(sink.requests[0].keep_alive);
  EXPECT_EQ(reader.feed("GET /c HTTP/1.1\r\n\r\n", sink), HttpRequestReader::Result::kClose);
  EXPECT_EQ(sink.requests.size(), 1u);
}

TEST(HttpRequestReader, Http10ClosesUnlessAskedToKeepAlive) {
  HttpRequestReader reader(smallLimits());
  RecordingSink sink;
  EXPECT_EQ(reader.feed("GET /a HTTP/1.0\r\nConnection: keep-alive\r\n\r\n", sink),
            HttpRequestReader::Result::kNeedMore);
  EXPECT_EQ(reader.feed("GET /b HTTP/1.0\r\n\r\n", sink), HttpRequestReader::Result::kClose);
  ASSERT_EQ(sink.requests.size(), 2u);
  EXPECT_TRUE(sink.requests[0].keep_alive);
  EXPECT_FALSE(sink.requests[1].keep_alive);
}

TEST(HttpRequestReader, SinkCanStopReading) {
  HttpRequestReader reader(smallLimits());
  RecordingSink sink;
  sink.accept_more = false;
  EXPECT_EQ(reader.feed("GET /a HTTP/1.1\r\n\r\nGET /b HTTP/1.1\r\n\r\n", sink), HttpRequestReader::Result::kClose);
  EXPECT_EQ(sink.requests.size(), 1u);
}

TEST(HttpRequestReader, PausesAfterARequestAndResumesWithTheRest) {
  HttpRequestReader reader(smallLimits());
  RecordingSink sink;
  sink.pause_after_each = true;
  std::string_view rest = kThreeRequests;
  int pauses = 0;
  for (;;) {
    HttpRequestReader::Result r = reader.feed(rest, sink);
    if (r != HttpRequestReader::Result::kPaused) {
      EXPECT_EQ(r, HttpRequestReader::Result::kNeedMore);
      break;
    }
    ++pauses;
    ASSERT_EQ(sink.requests.size(), static_cast<size_t>(pauses));
    rest = rest.substr(reader.consumed());
  }
  EXPECT_EQ(pauses, 3);
  EXPECT_TRUE(rest.empty());
  expectThree(sink);
}

TEST(HttpRequestReader, ChunkedBodyIsConsumed) {
  HttpRequestReader reader(smallLimits());
  RecordingSink sink;
  EXPECT_EQ(reader.feed("POST /x HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\nGET /y HTTP/1.1\r\n\r\n",
                        sink),
            HttpRequestReader::Result::kNeedMore);
  ASSERT_EQ(sink.requests.size(), 2u);
  EXPECT_EQ(sink.requests[1].path, "/y");
}

TEST(HttpRequestReader, OversizeHeadersGive431) {
  HttpRequestReader reader(smallLimits());
  RecordingSink sink;
  std::string req = "GET / HTTP/1.1\r\nX-Big: " + std::string(300, 'a') + "\r\n\r\n";
  EXPECT_EQ(reader.feed(req, sink), HttpRequestReader::Result::kError);
  EXPECT_EQ(reader.errorStatus(), 431);
  EXPECT_TRUE(sink.requests.empty());
  // Once failed, the reader stays failed.
  EXPECT_EQ(reader.feed("GET / HTTP/1.1\r\n\r\n", sink), HttpRequestReader::Result::kError);
}

TEST(HttpRequestReader, OversizeRequestLineGives431) {
  HttpRequestReader reader(smallLimits());
  RecordingSink sink;
  EXPECT_EQ(reader.feed("GET /" + std::string(1000, 'p'), sink), HttpRequestReader::Result::kError);
  EXPECT_EQ(reader.errorStatus(), 431);
}

TEST(HttpRequestReader, TooManyHeadersGive431) {
  HttpRequestReader reader(smallLimits());
  RecordingSink sink;
  std::string req = "GET / HTTP/1.1\r\n";
  for (int i = 0; i < 9; ++i) req += "A: b\r\n";
  EXPECT_EQ(reader.feed(req + "\r\n", sink), HttpRequestReader::Result::kError);
  EXPECT_EQ(reader.errorStatus(), 431);
}

TEST(HttpRequestReader, OversizeBodyGives413) {
  HttpRequestReader reader(smallLimits());
  RecordingSink sink;
  EXPECT_EQ(reader.feed("POST / HTTP/1.1\r\nContent-Length: 100\r\n\r\n" + std::string(100, 'x'), sink),
            HttpRequestReader::Result::kError);
  EXPECT_EQ(reader.errorStatus(), 413);
}

TEST(HttpRequestReader, GarbageGives400) {
  for (std::string garbage : {std::string("\x16\x03\x01\x02\x00", 5), std::string("GET / HTTP/9.9\r\n\r\n"),
                              std::string("GET / HTTP/1.1\r\nBad Header\r\n\r\n"), std::string("G\0ET / HTTP/1.1", 15),
                              std::string("GET / HTTP/1.1\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n")}) {
    HttpRequestReader reader(smallLimits());
    RecordingSink sink;
    EXPECT_EQ(reader.feed(garbage, sink), HttpRequestReader::Result::kError) << garbage;
    EXPECT_EQ(reader.errorStatus(), 400);
    EXPECT_FALSE(reader.errorReason().empty());
  }
}

TEST(HttpRequestReader, KeepsTheBodyAndTheContentTypeOfEachRequest) {
  const std::string two =
      "POST /u/T1 HTTP/1.1\r\nHost: a\r\ncOnTeNt-TyPe: application/x-www-form-urlencoded\r\n"
      "X-Content-Type: nope\r\nContent-Length: 10\r\n\r\nab=cd&ef=g"
      "POST /u/T2 HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n2\r\nde\r\n0\r\n\r\n";
  // Whole, and one byte at a time (names, values and bodies then arrive in pieces).
  for (size_t step : {two.size(), size_t{1}}) {
    HttpRequestReader reader(smallLimits());
    RecordingSink sink;
    for (size_t i = 0; i < two.size(); i += step) {
      ASSERT_EQ(reader.feed(std::string_view(two).substr(i, step), sink), HttpRequestReader::Result::kNeedMore);
    }
    ASSERT_EQ(sink.requests.size(), 2u);
    EXPECT_EQ(sink.requests[0].content_type, "application/x-www-form-urlencoded");
    EXPECT_EQ(sink.requests[0].body, "ab=cd&ef=g");
    EXPECT_EQ(sink.requests[1].content_type, "");  // not carried over from the previous request
    EXPECT_EQ(sink.requests[1].body, "abcde");
  }
}

TEST(HttpRequestReader, ADeclaredLengthOverTheLimitIs413BeforeTheBody) {
  HttpRequestReader reader(smallLimits());
  RecordingSink sink;
  EXPECT_EQ(reader.feed("POST / HTTP/1.1\r\nContent-Length: 17\r\nExpect: 100-continue\r\n\r\n", sink),
            HttpRequestReader::Result::kError);
  EXPECT_EQ(reader.errorStatus(), 413);
}

TEST(HttpRequestReader, AChunkedBodyOverTheLimitIs413) {
  HttpRequestReader reader(smallLimits());
  RecordingSink sink;
  EXPECT_EQ(reader.feed("POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n"
                        "10\r\n0123456789abcdef\r\n1\r\nx\r\n",
                        sink),
            HttpRequestReader::Result::kError);
  EXPECT_EQ(reader.errorStatus(), 413);
  EXPECT_TRUE(sink.requests.empty());
}

TEST(HttpRequestReader, ABodyAtTheLimitIsKept) {
  HttpRequestReader reader(smallLimits());
  RecordingSink sink;
  EXPECT_EQ(reader.feed("POST / HTTP/1.1\r\nContent-Length: 16\r\n\r\n0123456789abcdef", sink),
            HttpRequestReader::Result::kNeedMore);
  ASSERT_EQ(sink.requests.size(), 1u);
  EXPECT_EQ(sink.requests[0].body, "0123456789abcdef");
}

}  // namespace
}  // namespace lbmail
