// sealkit C++ API: the common sealing patterns, short and safe.
//
// Header-only over the C ABI in sealkit.h (no C++ types cross the shared
// library boundary). Needs C++17; C++20 adds std::span views. Nothing here
// throws: every call that can fail returns a Result, shaped like C++23's
// std::expected (the names of its subset: has_value, value, error, value_or,
// operator*, operator->), with errno values in std::generic_category().
//
//   auto arena = sealkit::WriteOnceArena::create(64 * 1024);   // at start-up
//   Config* cfg = arena->make<Config>(parse_config());
//   Handler* table = arena->make_array<Handler>(kOps);
//   ... fill them ...
//   if (auto r = arena->freeze(); !r) die(r.error());   // now read-only and sealed
#ifndef SEALKIT_SEALKIT_HPP
#define SEALKIT_SEALKIT_HPP

#include <sys/mman.h>
#include <unistd.h>

#include <cerrno>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <new>
#include <optional>
#include <system_error>
#include <type_traits>
#include <utility>
#if __cplusplus >= 202002L && __has_include(<span>)
#include <span>
#define SEALKIT_HAVE_SPAN 1
#endif

#include "sealkit/sealkit.h"

namespace sealkit {

// errno as a std::error_code.
inline std::error_code errno_code(int e = errno) noexcept { return {e, std::generic_category()}; }

namespace detail {
// value() of a Result holding an error: a bug in the caller, reported the
// same way in every build (std::expected would throw; nothing here throws).
[[noreturn]] inline void value_of_error(const std::error_code& ec) noexcept {
  std::fprintf(stderr, "sealkit: value() of a Result that holds an error (%s); check has_value() first\n",
               ec.message().c_str());
  std::abort();
}
}  // namespace detail

// A T or the error that prevented it. [[nodiscard]]: a dropped Result is a
// dropped error. For Result<bool> (is_sealed) there is no conversion to bool:
// `if (auto r = is_sealed(p, n))` would read "sealed" where it means "the
// question was answered"; write `r.has_value() && *r`, or r.value_or(false).
template <class T>
class [[nodiscard]] Result {
 public:
  using value_type = T;
  using error_type = std::error_code;

  Result(T value) noexcept(std::is_nothrow_move_constructible_v<T>) : value_(std::move(value)) {}
  Result(std::error_code ec) noexcept : ec_(ec) {}

  bool has_value() const noexcept { return value_.has_value(); }
  template <class U = T, std::enable_if_t<!std::is_same_v<U, bool>, int> = 0>
  explicit operator bool() const noexcept {
    return has_value();
  }
  template <class U = T, std::enable_if_t<std::is_same_v<U, bool>, int> = 0>
  explicit operator bool() const noexcept = delete;  // ambiguous for bool: has_value() or *r

  // The error; a default (false) error_code when there is a value.
  const std::error_code& error() const noexcept { return ec_; }
  // The value; aborts with a message when there is none.
  T& value() & noexcept {
    if (!has_value()) detail::value_of_error(ec_);
    return *value_;
  }
  const T& value() const& noexcept {
    if (!has_value()) detail::value_of_error(ec_);
    return *value_;
  }
  T&& value() && noexcept { return std::move(value()); }
  template <class U>
  T value_or(U&& fallback) const& {
    return has_value() ? *value_ : static_cast<T>(std::forward<U>(fallback));
  }
  // Unchecked, as std::expected's: has_value() first.
  T* operator->() noexcept { return &*value_; }
  const T* operator->() const noexcept { return &*value_; }
  T& operator*() & noexcept { return *value_; }
  const T& operator*() const& noexcept { return *value_; }

 private:
  std::optional<T> value_;
  std::error_code ec_;
};

// Success, or the error: what std::expected<void, std::error_code> says.
template <>
class [[nodiscard]] Result<void> {
 public:
  using value_type = void;
  using error_type = std::error_code;

  Result() noexcept = default;
  Result(std::error_code ec) noexcept : ec_(ec) {}

  bool has_value() const noexcept { return !ec_; }
  explicit operator bool() const noexcept { return has_value(); }
  const std::error_code& error() const noexcept { return ec_; }
  // Aborts with a message when there is an error.
  void value() const noexcept {
    if (!has_value()) detail::value_of_error(ec_);
  }

 private:
  std::error_code ec_;
};

// Seal [addr, addr+len): mseal(2)'s contract (addr page-aligned).
inline Result<void> seal(void* addr, std::size_t len) noexcept {
  if (sealkit_mseal(addr, len, 0) != 0) return errno_code();
  return {};
}

// Whether every page of [addr, addr+len) is sealed.
inline Result<bool> is_sealed(const void* addr, std::size_t len) noexcept {
  int r = sealkit_is_sealed(addr, len);
  if (r < 0) return errno_code();
  return r == 1;
}

// An owned mmap'ed region. Unmapped on destruction unless it is sealed: a
// sealed mapping lives until the process exits or execs, by design.
class Mapping {
 public:
  // Private anonymous memory. `extra_flags` may hold SEALKIT_MAP_SEALABLE.
  static Result<Mapping> anonymous(std::size_t len, int prot = PROT_READ | PROT_WRITE, int extra_flags = 0) noexcept {
    return map(len, prot, MAP_PRIVATE | MAP_ANONYMOUS | extra_flags, -1, 0);
  }
  // A file mapping; `flags` is MAP_PRIVATE or MAP_SHARED, maybe with
  // SEALKIT_MAP_SEALABLE. `prot` may hold SEALKIT_PROT_SEAL.
  static Result<Mapping> file(int fd, std::size_t len, int prot, int flags, off_t offset = 0) noexcept {
    return map(len, prot, flags, fd, offset);
  }
  // Any sealkit_mmap call, owned.
  static Result<Mapping> map(std::size_t len, int prot, int flags, int fd, off_t offset) noexcept {
    void* p = sealkit_mmap(nullptr, len, prot, flags, fd, offset);
    if (p == MAP_FAILED) return errno_code();
    return Mapping(p, len, (prot & SEALKIT_PROT_SEAL) != 0);
  }

  Mapping(Mapping&& o) noexcept
      : addr_(std::exchange(o.addr_, nullptr)), len_(std::exchange(o.len_, 0)), sealed_(o.sealed_) {}
  Mapping& operator=(Mapping&& o) noexcept {
    if (this != &o) {
      reset();
      addr_ = std::exchange(o.addr_, nullptr);
      len_ = std::exchange(o.len_, 0);
      sealed_ = o.sealed_;
    }
    return *this;
  }
  Mapping(const Mapping&) = delete;
  Mapping& operator=(const Mapping&) = delete;
  ~Mapping() { reset(); }

  std::byte* data() const noexcept { return static_cast<std::byte*>(addr_); }
  std::size_t size() const noexcept { return len_; }
#ifdef SEALKIT_HAVE_SPAN
  // The whole mapping (empty once moved from or released).
  std::span<std::byte> bytes() const noexcept { return {data(), size()}; }
#endif
  bool sealed() const noexcept { return sealed_; }

  // mprotect the whole mapping; `prot` may hold SEALKIT_PROT_SEAL.
  Result<void> protect(int prot) noexcept {
    if (sealkit_mprotect(addr_, len_, prot) != 0) return errno_code();
    if (prot & SEALKIT_PROT_SEAL) sealed_ = true;
    return {};
  }
  // Seal the whole mapping as it is now.
  Result<void> seal() noexcept {
    if (auto r = sealkit::seal(addr_, len_); !r) return r;
    sealed_ = true;
    return {};
  }
  // Give up ownership; the caller unmaps (or not).
  [[nodiscard]] void* release() noexcept {
    len_ = 0;
    return std::exchange(addr_, nullptr);
  }

 private:
  Mapping(void* a, std::size_t n, bool sealed) noexcept : addr_(a), len_(n), sealed_(sealed) {}
  void reset() noexcept {
    if (addr_ && !sealed_) ::munmap(addr_, len_);
    addr_ = nullptr;
    len_ = 0;
  }

  void* addr_ = nullptr;
  std::size_t len_ = 0;
  bool sealed_ = false;
};

// Memory written once at start-up, then frozen: freeze() makes it read-only
// and seals it, so neither a stray write nor an attacker with mprotect,
// munmap or mmap(MAP_FIXED) can change it afterwards.
//
// Only trivially destructible types may live here: nothing in a sealed arena
// is ever destroyed, and an object that owns memory elsewhere (std::string,
// std::vector) would leave that memory unprotected. Store flat data: arrays,
// fixed-size strings, function pointers, offsets into the arena.
class WriteOnceArena {
 public:
  // Reserve `capacity` bytes (rounded up to pages) of private memory.
  static Result<WriteOnceArena> create(std::size_t capacity) noexcept {
    const std::size_t ps = static_cast<std::size_t>(::sysconf(_SC_PAGESIZE));
    if (capacity > SIZE_MAX - ps) return errno_code(ENOMEM);
    const std::size_t len = capacity == 0 ? ps : (capacity + ps - 1) / ps * ps;
    auto m = Mapping::anonymous(len, PROT_READ | PROT_WRITE, SEALKIT_MAP_SEALABLE);
    if (!m) return m.error();
    return WriteOnceArena(std::move(*m));
  }

  // Raw aligned bytes; nullptr when frozen or out of room. `align` must be a
  // power of two.
  [[nodiscard]] void* allocate(std::size_t n, std::size_t align = alignof(std::max_align_t)) noexcept {
    if (frozen_ || align == 0 || (align & (align - 1)) != 0) return nullptr;
    std::uintptr_t base = reinterpret_cast<std::uintptr_t>(mem_.data());
    std::uintptr_t at = (base + used_ + align - 1) & ~(std::uintptr_t(align) - 1);
    std::size_t off = at - base;
    if (off > mem_.size() || n > mem_.size() - off) return nullptr;
    used_ = off + n;
    return mem_.data() + off;
  }

  // Construct one T in the arena; nullptr when frozen or out of room.
  template <class T, class... Args>
  [[nodiscard]] T* make(Args&&... args) noexcept(std::is_nothrow_constructible_v<T, Args...>) {
    static_assert(std::is_trivially_destructible_v<T>, "a sealed arena never runs destructors: store flat data");
    void* p = allocate(sizeof(T), alignof(T));
    return p ? new (p) T(std::forward<Args>(args)...) : nullptr;
  }

  // n value-initialised Ts; nullptr when frozen or out of room.
  template <class T>
  [[nodiscard]] T* make_array(std::size_t n) noexcept {
    static_assert(std::is_trivially_destructible_v<T>, "a sealed arena never runs destructors: store flat data");
    static_assert(std::is_nothrow_default_constructible_v<T>, "array elements are value-initialised");
    if (n > mem_.size() / sizeof(T)) return nullptr;
    void* p = allocate(n * sizeof(T), alignof(T));
    if (!p) return nullptr;
    T* a = static_cast<T*>(p);
    for (std::size_t i = 0; i < n; ++i) new (a + i) T();
    return a;
  }

  // Make the whole arena read-only and seal it. After this, allocation fails
  // and the memory stays until the process exits. Freezing twice is a no-op.
  Result<void> freeze() noexcept {
    if (frozen_) return {};
    if (auto r = mem_.protect(PROT_READ | SEALKIT_PROT_SEAL); !r) return r;
    frozen_ = true;
    return {};
  }

  bool frozen() const noexcept { return frozen_; }
  std::size_t used() const noexcept { return used_; }
  std::size_t capacity() const noexcept { return mem_.size(); }
#ifdef SEALKIT_HAVE_SPAN
  // The whole reserved region, read-only: what freeze() seals.
  std::span<const std::byte> bytes() const noexcept { return {mem_.data(), mem_.size()}; }
#endif
  bool contains(const void* p) const noexcept {
    auto a = reinterpret_cast<std::uintptr_t>(p), b = reinterpret_cast<std::uintptr_t>(mem_.data());
    return a >= b && a < b + mem_.size();
  }

 private:
  explicit WriteOnceArena(Mapping m) noexcept : mem_(std::move(m)) {}
  Mapping mem_;
  std::size_t used_ = 0;
  bool frozen_ = false;
};

}  // namespace sealkit

#endif  // SEALKIT_SEALKIT_HPP
