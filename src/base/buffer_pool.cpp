#include "base/buffer_pool.hpp"

namespace synack {

BufferPool::~BufferPool() {
  for (SizeClass& c : classes_) {
    for (std::uint8_t* b : c.blocks) delete[] b;
  }
}

BufferPool::SizeClass* BufferPool::class_of(std::size_t size) {
  for (SizeClass& c : classes_) {
    if (c.size == size) return &c;
  }
  if (classes_.size() >= kMaxSizeClasses) return nullptr;
  return &classes_.emplace_back(SizeClass{size, {}});
}

std::uint8_t* BufferPool::take(std::size_t size) {
  if (SizeClass* c = class_of(size); c && !c->blocks.empty()) {
    std::uint8_t* b = c->blocks.back();
    c->blocks.pop_back();
    kept_ -= size;
    return b;
  }
  // Not zero-filled (default-initialised): only bytes written are ever read.
  return new std::uint8_t[size];
}

void BufferPool::give(std::uint8_t* block, std::size_t size) {
  SizeClass* c = kept_ + size <= keep_limit_ ? class_of(size) : nullptr;
  if (!c) {
    delete[] block;
    return;
  }
  c->blocks.push_back(block);
  kept_ += size;
}

}  // namespace synack
