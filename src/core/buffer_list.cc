// Chunked output buffers for gathered writes.
#include "lbmail/core/buffer_list.h"

#include <algorithm>
#include <cstring>

namespace lbmail {

uint8_t* BufferList::append(size_t n) {
  if (chunks_.empty() || chunks_.back().capacity - chunks_.back().size < n) {
    constexpr size_t kFirstChunk = 4096;
    Chunk c;
    size_t next = chunks_.empty() ? kFirstChunk : std::min(max_chunk_, chunks_.back().capacity * 2);
    c.capacity = std::max(next, n);
    capacity_ += c.capacity;
    c.data.reset(new uint8_t[c.capacity]);
    chunks_.push_back(std::move(c));
  }
  Chunk& c = chunks_.back();
  uint8_t* out = c.data.get() + c.size;
  c.size += n;
  size_ += n;
  return out;
}

void BufferList::append(const void* data, size_t n) {
  if (n > 0) std::memcpy(append(n), data, n);
}

void BufferList::clear() {
  chunks_.clear();
  size_ = 0;
  capacity_ = 0;
}

std::vector<uv_buf_t> BufferList::uvBufs() const {
  std::vector<uv_buf_t> bufs;
  bufs.reserve(chunks_.size());
  for (const Chunk& c : chunks_) {
    bufs.push_back(uv_buf_init(reinterpret_cast<char*>(c.data.get()), static_cast<unsigned>(c.size)));
  }
  return bufs;
}

void BufferList::moveTo(BufferList& out) {
  for (Chunk& c : chunks_) out.chunks_.push_back(std::move(c));
  out.size_ += size_;
  out.capacity_ += capacity_;
  clear();
}

}  // namespace lbmail
