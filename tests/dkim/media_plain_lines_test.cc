// The proof behind BodyHasher::updatePlainLines for media: the media cache's stored base64 is
// already canonical under both body algorithms, and a whole assembled message (attachment,
// inline image) hashes the same with the fast path as with every slice scanned.
#include <gtest/gtest.h>

#include "../media/media_fixture.h"
#include "dkim_test_util.h"
#include "lbmail/dkim/body_hasher.h"
#include "lbmail/dkim/header_fields.h"
#include "lbmail/media/message_assembler.h"

namespace lbmail::dkim {
namespace {

const Canonicalization kBoth[] = {Canonicalization::kSimple, Canonicalization::kRelaxed};

std::array<uint8_t, 32> scanned(std::string_view bytes, Canonicalization c) {
  BodyHasher h(c);
  h.update(bytes);
  return h.finish();
}

// Sizes around the 57-octet (76-character) line and its padding, and a large file.
TEST(MediaPlainLinesTest, CachedEncodingIsAlreadyCanonical) {
  test::MediaFixture f("dkim-plain");
  const std::vector<size_t> sizes = {0, 1, 2, 3, 56, 57, 58, 113, 114, 115, 100 * 1024};
  for (size_t size : sizes) f.addRandomFile("f" + std::to_string(size), size);
  media::BuildReport report = f.build();
  media::MediaCache cache = f.load();
  for (size_t size : sizes) {
    const media::MediaEntry* entry = cache.find(f.hashOf(report, "f" + std::to_string(size)));
    ASSERT_NE(entry, nullptr);
    std::string_view enc = entry->encoded();
    if (size == 0) {
      EXPECT_TRUE(enc.empty());  // no step at all in a message (Material lays out none)
      continue;
    }
    // The promise itself: non-empty CRLF lines, no SP or HTAB.
    EXPECT_TRUE(enc.ends_with("\r\n")) << size;
    EXPECT_EQ(enc.find("\r\n\r\n"), std::string_view::npos) << size;
    EXPECT_EQ(enc.find_first_of(" \t"), std::string_view::npos) << size;
    EXPECT_FALSE(enc.starts_with("\r\n")) << size;
    for (Canonicalization c : kBoth) {
      EXPECT_EQ(scanned(enc, c), test::sha256(enc)) << size;
      BodyHasher fast(c);
      fast.updatePlainLines(enc);
      EXPECT_EQ(fast.finish(), test::sha256(enc)) << size;
    }
  }
}

class AssembledPlainLinesTest : public ::testing::Test {
 protected:
  AssembledPlainLinesTest() : f_("dkim-assembled") {
    f_.addRandomFile("brochure.pdf", 100 * 1024);
    f_.addRandomFile("logo.png", 4000);
    f_.addRandomFile("tiny.txt", 3);  // encodes below the assembler's copy threshold
    report_ = f_.build();
    cache_ = f_.load();
  }

  media::AssembledMessage assemble() {
    media::MaterialSpec s;
    s.from = "Shöp News <news@shop.example>";
    s.subject = "{{first_name}}, your  offer \t ends";
    s.text = "Dear {{first_name}},  \n\tour offer.   \n\n\n";
    s.html = "<p>Dear {{first_name}}</p>  \n<img src=\"cid:logo@shop\">\n\n";
    s.fields = {"first_name"};
    s.media = {{f_.hashOf(report_, "brochure.pdf"), false, "brochure.pdf"},
               {f_.hashOf(report_, "logo.png"), true, "logo@shop"},
               {f_.hashOf(report_, "tiny.txt"), false, "tiny.txt"}};
    auto material = media::Material::define(s, cache_);
    EXPECT_TRUE(material) << material.error().text;
    fields_ = {std::string_view("Zoë")};
    media::MessageRequest r;
    r.request_id = 7;
    r.recipient = "alice@example.com";
    r.fields = fields_;
    r.date = 1796177790;
    auto msg = assembler_.assemble(*material, r);
    EXPECT_TRUE(msg) << msg.error().text;
    return std::move(*msg);
  }

  // The body hash over the message's slices; plain-lines-marked slices by the fast path when
  // fast is set.
  static std::array<uint8_t, 32> bodyHash(const media::AssembledMessage& m, Canonicalization c, bool fast) {
    HeaderFields fields(m.slices());
    BodyHasher h(c);
    for (size_t i = fields.bodySlice(); i < m.slices().size(); ++i) {
      std::string_view s = m.slices()[i].substr(i == fields.bodySlice() ? fields.bodyOffset() : 0);
      if (fast && m.plainLines()[i] && s.size() == m.slices()[i].size()) {
        h.updatePlainLines(s);
      } else {
        h.update(s);
      }
    }
    return h.finish();
  }

  test::MediaFixture f_;
  media::BuildReport report_;
  media::MediaCache cache_;
  media::MessageAssembler assembler_;
  std::vector<std::optional<std::string_view>> fields_;
};

TEST_F(AssembledPlainLinesTest, OnlyTheMappedMediaSlicesAreMarked) {
  media::AssembledMessage m = assemble();
  ASSERT_EQ(m.plainLines().size(), m.slices().size());
  const media::MediaEntry* pdf = cache_.find(f_.hashOf(report_, "brochure.pdf"));
  const media::MediaEntry* png = cache_.find(f_.hashOf(report_, "logo.png"));
  std::vector<std::string_view> marked;
  for (size_t i = 0; i < m.slices().size(); ++i) {
    if (m.plainLines()[i]) marked.push_back(m.slices()[i]);
  }
  // The tiny file's encoding was copied into the personalised bytes, so it is not marked.
  ASSERT_EQ(marked.size(), 2u);
  for (std::string_view s : marked) {
    bool is_media = (s.data() == pdf->encoded().data() && s.size() == pdf->encoded().size()) ||
                    (s.data() == png->encoded().data() && s.size() == png->encoded().size());
    EXPECT_TRUE(is_media);
  }
}

TEST_F(AssembledPlainLinesTest, FastPathGivesTheScannedBodyHash) {
  media::AssembledMessage m = assemble();
  std::string flat = m.flatten();
  std::string body = flat.substr(flat.find("\r\n\r\n") + 4);
  for (Canonicalization c : kBoth) {
    auto fast = bodyHash(m, c, true);
    EXPECT_EQ(fast, bodyHash(m, c, false));
    EXPECT_EQ(fast, test::sha256(test::referenceBody(body, c == Canonicalization::kRelaxed)));
  }
}

}  // namespace
}  // namespace lbmail::dkim
