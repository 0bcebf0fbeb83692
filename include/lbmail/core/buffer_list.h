// Output bytes as a list of chunks that a single writev sends; space is handed out contiguous
// so encoders write in place, and chunks never move once allocated.
#pragma once

#include <uv.h>

#include <cstddef>
#include <cstdint>
#include <memory>
#include <vector>

namespace lbmail {

class BufferList {
 public:
  // Chunks start at 4 KiB and double up to max_chunk, so a list holding one small frame
  // holds little memory, and a long batch still takes few chunks.
  explicit BufferList(size_t max_chunk = 64 * 1024) : max_chunk_(max_chunk) {}

  // n contiguous writable bytes at the end, already counted in size(); fill them at once.
  uint8_t* append(size_t n);
  void append(const void* data, size_t n);

  size_t size() const { return size_; }
  // Bytes allocated for the chunks: what the list really costs in memory.
  size_t capacity() const { return capacity_; }
  bool empty() const { return size_ == 0; }
  void clear();

  // One uv_buf_t per chunk, for uv_write. The buffers stay valid until the list changes.
  std::vector<uv_buf_t> uvBufs() const;
  // Moves every chunk into out (leaving this list empty), e.g. to keep them alive during a write.
  void moveTo(BufferList& out);

 private:
  struct Chunk {
    std::unique_ptr<uint8_t[]> data;
    size_t size = 0;
    size_t capacity = 0;
  };

  size_t max_chunk_;
  size_t size_ = 0;
  size_t capacity_ = 0;
  std::vector<Chunk> chunks_;
};

}  // namespace lbmail
