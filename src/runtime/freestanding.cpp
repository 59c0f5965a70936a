// The few functions a C++ compiler may call on its own (for struct copies and
// zeroing) even in freestanding code. The runtime links no libc, so it brings
// its own; they are hidden, so they never interpose on the program's.
#include <cstddef>

extern "C" {

__attribute__((visibility("hidden"))) void* memcpy(void* dst, const void* src, std::size_t n) {
  auto* d = static_cast<unsigned char*>(dst);
  const auto* s = static_cast<const unsigned char*>(src);
  while (n--) *d++ = *s++;
  return dst;
}

__attribute__((visibility("hidden"))) void* memmove(void* dst, const void* src, std::size_t n) {
  auto* d = static_cast<unsigned char*>(dst);
  const auto* s = static_cast<const unsigned char*>(src);
  if (d < s) {
    while (n--) *d++ = *s++;
  } else {
    while (n--) d[n] = s[n];
  }
  return dst;
}

__attribute__((visibility("hidden"))) void* memset(void* dst, int c, std::size_t n) {
  auto* d = static_cast<unsigned char*>(dst);
  while (n--) *d++ = static_cast<unsigned char>(c);
  return dst;
}

__attribute__((visibility("hidden"))) int memcmp(const void* a, const void* b, std::size_t n) {
  const auto* x = static_cast<const unsigned char*>(a);
  const auto* y = static_cast<const unsigned char*>(b);
  for (; n; --n, ++x, ++y) {
    if (*x != *y) return *x < *y ? -1 : 1;
  }
  return 0;
}

// std::string_view::find uses it.
__attribute__((visibility("hidden"))) void* memchr(const void* s, int c, std::size_t n) {
  const auto* p = static_cast<const unsigned char*>(s);
  for (; n; --n, ++p) {
    if (*p == static_cast<unsigned char>(c)) return const_cast<unsigned char*>(p);
  }
  return nullptr;
}

// std::string_view from a C string uses it.
__attribute__((visibility("hidden"))) std::size_t strlen(const char* s) {
  std::size_t n = 0;
  while (s[n] != '\0') ++n;
  return n;
}

}  // extern "C"
