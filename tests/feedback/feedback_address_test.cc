// Tests for VERP addresses and unsubscribe URLs: where tokens travel and how they are found.
#include <gtest/gtest.h>

#include <optional>
#include <string>
#include <vector>

#include "lbmail/feedback/feedback_token.h"

namespace lbmail::feedback {
namespace {

const std::vector<std::string> kDomains{"bounce.example.com", "b2.example.net"};

TEST(VerpAddress, WritesLocalPlusTokenAtDomain) {
  std::string out = "<";
  appendVerpAddress("bounce", "tok", "bounce.example.com", out);
  EXPECT_EQ(out, "<bounce+tok@bounce.example.com");
}

TEST(VerpAddress, FindsTheTokenOnlyInOurDomains) {
  struct Case {
    const char* address;
    std::optional<std::string_view> token;
  };
  for (const Case& c : std::vector<Case>{
           {"bounce+abc@bounce.example.com", "abc"},
           {"<bounce+abc@bounce.example.com>", "abc"},
           {"  <BOUNCE+ABC@Bounce.Example.COM> ", "ABC"},
           {"a+b+c@b2.example.net", "c"},
           {"bounce+abc@other.example.com", std::nullopt},
           {"bounce+abc@bounce.example.com.evil", std::nullopt},
           {"bounce@bounce.example.com", std::nullopt},
           {"bounce+@bounce.example.com", std::nullopt},
           {"bounce+abc", std::nullopt},
           {"", std::nullopt},
           {"<>", std::nullopt},
       }) {
    EXPECT_EQ(verpTokenOf(c.address, kDomains), c.token) << c.address;
  }
}

TEST(UnsubscribeUrl, JoinsBaseAndToken) {
  EXPECT_EQ(unsubscribeUrl("https://u.example.com/u", "tok"), "https://u.example.com/u/tok");
}

TEST(UnsubscribeUrl, FindsTheLastPathSegment) {
  struct Case {
    const char* url;
    std::optional<std::string_view> token;
  };
  for (const Case& c : std::vector<Case>{
           {"https://u.example.com/u/tok", "tok"},
           {"https://u.example.com/u/tok?utm=1", "tok"},
           {"https://u.example.com/u/tok#x", "tok"},
           {"/u/tok", "tok"},
           {"tok", "tok"},
           {"https://u.example.com/u/", std::nullopt},
           {"https://u.example.com/u/?a=/b", std::nullopt},
           {"", std::nullopt},
       }) {
    EXPECT_EQ(unsubscribeTokenOf(c.url), c.token) << c.url;
  }
}

}  // namespace
}  // namespace lbmail::feedback
