// A table of trivially copyable entries for the wrappers' bookkeeping: room
// for kInline entries in the object's .bss (most processes never need more,
// and untouched .bss costs nothing), then anonymous memory that doubles as
// needed. No malloc: the wrappers run inside ld.so's dl_iterate_phdr lock and
// in any state the program's allocator may be in. Not thread-safe: callers
// hold their lock.
#pragma once

#include <sys/mman.h>

#include <cstddef>
#include <cstring>
#include <type_traits>

namespace sealkit::rt::preload {

template <class T, std::size_t kInline>
class GrowTable {
  static_assert(std::is_trivially_copyable_v<T>);

 public:
  T* data() { return heap_ != nullptr ? heap_ : inline_; }
  std::size_t capacity() const { return heap_ != nullptr ? heap_capacity_ : kInline; }
  T& operator[](std::size_t i) { return data()[i]; }

  // Room for at least `n` entries, the first `used` kept. False when the
  // memory cannot be had (the caller says what is then left undone).
  bool reserve(std::size_t n, std::size_t used) {
    if (n <= capacity()) return true;
    std::size_t cap = capacity();
    while (cap < n) cap *= 2;
    void* p = mmap(nullptr, cap * sizeof(T), PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED) return false;
    std::memcpy(p, data(), used * sizeof(T));
    if (heap_ != nullptr) munmap(heap_, heap_capacity_ * sizeof(T));
    heap_ = static_cast<T*>(p);
    heap_capacity_ = cap;
    return true;
  }

 private:
  T inline_[kInline]{};  // zero: constant-initialized, no constructor runs at load
  T* heap_ = nullptr;
  std::size_t heap_capacity_ = 0;
};

}  // namespace sealkit::rt::preload
