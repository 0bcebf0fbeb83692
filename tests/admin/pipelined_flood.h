// A flood of pipelined requests for big answers, sent before anything is read: the server must
// pause parsing rather than queue every answer, then serve them all in order. Shared by the
// plain and the HTTPS tests (any client with send and readResponse).
#pragma once

#include <gtest/gtest.h>

#include <string>

namespace lbmail::test {

constexpr size_t kFloodAnswerBytes = 256 * 1024;

// The answer of GET /big?<letter>: kFloodAnswerBytes of the letter.
inline std::string floodBatch(int requests) {
  std::string batch;
  for (int i = 0; i < requests; ++i) {
    batch += "GET /big?" + std::string(1, static_cast<char>('a' + i % 26)) + " HTTP/1.1\r\n\r\n";
  }
  return batch;
}

template <class Client>
void expectFloodServedInOrder(Client& c, int requests) {
  ASSERT_TRUE(c.send(floodBatch(requests)));  // all requests first, reading nothing yet
  for (int i = 0; i < requests; ++i) {
    auto r = c.readResponse();
    ASSERT_TRUE(r) << i;
    ASSERT_EQ(r->body.size(), kFloodAnswerBytes) << i;
    ASSERT_EQ(r->body[0], static_cast<char>('a' + i % 26)) << "answer " << i << " out of order";
  }
}

}  // namespace lbmail::test
