// sealkit::WriteOnceArena: fill at start-up, then freeze() makes it
// read-only and sealed for good.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/mman.h>

#include <cerrno>
#include <cstdint>
#include <cstring>
#include <span>
#include <system_error>

#include "lib/support.hpp"
#include "sealkit/sealkit.hpp"

namespace sealkit::test {
namespace {

struct Point {
  int x = 0;
  int y = 0;
  Point() = default;
  Point(int a, int b) : x(a), y(b) {}
};

struct alignas(64) CacheLine {
  unsigned char bytes[64];
};

struct Handler {
  int (*fn)(int) = nullptr;
  char name[16] = {};
};

int twice(int v) { return 2 * v; }

bool aligned(const void* p, std::size_t a) { return reinterpret_cast<std::uintptr_t>(p) % a == 0; }

WriteOnceArena make_arena(std::size_t capacity) {
  auto a = WriteOnceArena::create(capacity);
  EXPECT_TRUE(a.has_value()) << a.error().message();
  return std::move(a).value();
}

TEST(CxxArena, CapacityIsRoundedUpToPages) {
  EXPECT_EQ(make_arena(0).capacity(), page());
  EXPECT_EQ(make_arena(1).capacity(), page());
  EXPECT_EQ(make_arena(page()).capacity(), page());
  EXPECT_EQ(make_arena(page() + 1).capacity(), 2 * page());
}

TEST(CxxArena, ImpossibleCapacityIsAnError) {
  for (std::size_t cap : {SIZE_MAX, SIZE_MAX - page() + 2, SIZE_MAX / 2}) {
    auto a = WriteOnceArena::create(cap);
    EXPECT_FALSE(a.has_value()) << cap;
    EXPECT_EQ(a.error(), std::errc::not_enough_memory) << cap;
  }
}

TEST(CxxArena, StartsWritableUnsealedAndEmpty) {
  WriteOnceArena a = make_arena(2 * page());
  EXPECT_FALSE(a.frozen());
  EXPECT_EQ(a.used(), 0u);
  void* p = a.allocate(16);
  ASSERT_NE(p, nullptr);
  EXPECT_TRUE(a.contains(p));
  EXPECT_EQ(smaps_prot_at(p), PROT_READ | PROT_WRITE);
  EXPECT_NOT_SEALED(p, a.capacity());
}

TEST(CxxArena, AllocateHonoursEveryPowerOfTwoAlignment) {
  WriteOnceArena a = make_arena(16 * page());
  for (std::size_t align = 1; align <= 2 * page(); align *= 2) {
    ASSERT_NE(a.allocate(1, 1), nullptr);  // knock the cursor off alignment
    void* p = a.allocate(8, align);
    ASSERT_NE(p, nullptr) << align;
    EXPECT_TRUE(aligned(p, align)) << align;
    EXPECT_TRUE(a.contains(p)) << align;
  }
}

TEST(CxxArena, DefaultAlignmentIsMaxAlign) {
  WriteOnceArena a = make_arena(page());
  ASSERT_NE(a.allocate(1), nullptr);
  EXPECT_TRUE(aligned(a.allocate(1), alignof(std::max_align_t)));
}

TEST(CxxArena, RejectsAlignmentThatIsNotAPowerOfTwo) {
  WriteOnceArena a = make_arena(page());
  for (std::size_t align : {std::size_t{0}, std::size_t{3}, std::size_t{6}, std::size_t{24}}) {
    EXPECT_EQ(a.allocate(8, align), nullptr) << align;
  }
  EXPECT_EQ(a.used(), 0u) << "a refused allocation uses nothing";
}

TEST(CxxArena, AllocationsDoNotOverlap) {
  WriteOnceArena a = make_arena(page());
  auto* first = static_cast<unsigned char*>(a.allocate(100, 1));
  auto* second = static_cast<unsigned char*>(a.allocate(100, 1));
  ASSERT_TRUE(first && second);
  EXPECT_GE(second, first + 100);
  std::memset(first, 1, 100);
  std::memset(second, 2, 100);
  EXPECT_EQ(first[99], 1);
}

TEST(CxxArena, ExactlyFullThenNothingMore) {
  WriteOnceArena a = make_arena(page());
  EXPECT_NE(a.allocate(a.capacity(), 1), nullptr);
  EXPECT_EQ(a.used(), a.capacity());
  EXPECT_EQ(a.allocate(1, 1), nullptr);
  EXPECT_EQ(a.make<int>(1), nullptr);
}

TEST(CxxArena, OversizedRequestsFailWithoutUsingSpace) {
  WriteOnceArena a = make_arena(page());
  EXPECT_EQ(a.allocate(a.capacity() + 1, 1), nullptr);
  EXPECT_EQ(a.allocate(SIZE_MAX, 1), nullptr);
  EXPECT_EQ(a.allocate(SIZE_MAX - 8, 16), nullptr);
  ASSERT_NE(a.allocate(a.capacity() - 8, 1), nullptr);
  EXPECT_EQ(a.allocate(8, 64), nullptr) << "the padding for the alignment does not fit";
  EXPECT_EQ(a.used(), a.capacity() - 8);
  EXPECT_NE(a.allocate(8, 8), nullptr) << "the exact rest still does";
}

TEST(CxxArena, MakeConstructsWithArguments) {
  WriteOnceArena a = make_arena(page());
  Point* p = a.make<Point>(3, 4);
  ASSERT_NE(p, nullptr);
  EXPECT_EQ(p->x, 3);
  EXPECT_EQ(p->y, 4);
  EXPECT_TRUE(aligned(p, alignof(Point)));
  CacheLine* c = a.make<CacheLine>();
  ASSERT_NE(c, nullptr);
  EXPECT_TRUE(aligned(c, 64));
}

// Fresh pages are zero, so a type whose default is not zero shows that
// every element was really constructed.
struct NonZeroDefault {
  int value = 7;
  char tag = 'x';
};

TEST(CxxArena, MakeArrayConstructsEveryElement) {
  WriteOnceArena a = make_arena(page());
  ASSERT_NE(a.allocate(1, 1), nullptr);
  NonZeroDefault* xs = a.make_array<NonZeroDefault>(8);
  ASSERT_NE(xs, nullptr);
  for (int i = 0; i < 8; ++i) {
    EXPECT_EQ(xs[i].value, 7) << i;
    EXPECT_EQ(xs[i].tag, 'x') << i;
  }
  EXPECT_TRUE(aligned(xs, alignof(NonZeroDefault)));
  EXPECT_TRUE(a.contains(xs + 7));
}

TEST(CxxArena, MakeArrayRefusesWhatCannotFit) {
  WriteOnceArena a = make_arena(page());
  EXPECT_EQ(a.make_array<std::uint64_t>(page() / 8 + 1), nullptr);
  // n * 8 wraps around to 8: only the overflow check stands between this and
  // constructing 2^61 elements in one page.
  EXPECT_EQ(a.make_array<std::uint64_t>(SIZE_MAX / 8 + 2), nullptr) << "n * sizeof(T) overflows";
  EXPECT_EQ(a.used(), 0u);
  EXPECT_NE(a.make_array<std::uint64_t>(page() / 8), nullptr) << "exactly the capacity fits";
}

TEST(CxxArena, FreezeMakesItReadOnlyAndSealed) {
  WriteOnceArena a = make_arena(2 * page());
  Point* p = a.make<Point>(7, 8);
  Handler* h = a.make_array<Handler>(2);
  ASSERT_TRUE(p && h);
  h[1].fn = &twice;
  std::strcpy(h[1].name, "twice");
  const std::size_t used = a.used();

  EXPECT_TRUE(a.freeze().has_value());
  EXPECT_TRUE(a.frozen());
  EXPECT_EQ(a.used(), used);
  EXPECT_EQ(p->x, 7);
  EXPECT_EQ(h[1].fn(21), 42);
  EXPECT_STREQ(h[1].name, "twice");
  EXPECT_EQ(smaps_prot_at(p), PROT_READ);
  EXPECT_SEALED(p, a.capacity());
  auto s = sealkit::is_sealed(p, sizeof *p);
  ASSERT_TRUE(s.has_value());
  EXPECT_TRUE(s.value());
}

TEST(CxxArena, FrozenArenaRefusesMprotectMunmapAndMapFixed) {
  WriteOnceArena a = make_arena(page());
  auto* table = a.make_array<int>(4);
  ASSERT_NE(table, nullptr);
  table[2] = 99;
  ASSERT_TRUE(a.freeze().has_value());
  void* base = table;  // the first allocation is at the arena's start
  errno = 0;
  EXPECT_EQ(::mprotect(base, page(), PROT_READ | PROT_WRITE), -1);
  EXPECT_EQ(errno, EPERM);
  errno = 0;
  EXPECT_EQ(::munmap(base, page()), -1);
  EXPECT_EQ(errno, EPERM);
  errno = 0;
  EXPECT_EQ(::mmap(base, page(), PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0), MAP_FAILED);
  EXPECT_EQ(errno, EPERM);
  EXPECT_EQ(table[2], 99) << "still the frozen contents";
}

TEST(CxxArena, WriteAfterFreezeKillsTheProcess) {
  WriteOnceArena a = make_arena(page());
  int* value = a.make<int>(5);
  ASSERT_NE(value, nullptr);
  ASSERT_TRUE(a.freeze().has_value());
  ChildResult r = run_in_child([value](ChildReport&) {
    restore_default_signal(SIGSEGV);
    *static_cast<volatile int*>(value) = 6;
  });
  EXPECT_FALSE(r.exited) << r.describe();
  EXPECT_EQ(r.term_signal, SIGSEGV) << r.describe();
  EXPECT_EQ(*value, 5);
}

TEST(CxxArena, NothingIsAllocatedAfterFreeze) {
  WriteOnceArena a = make_arena(page());
  ASSERT_NE(a.make<int>(1), nullptr);
  ASSERT_TRUE(a.freeze().has_value());
  const std::size_t used = a.used();
  EXPECT_EQ(a.allocate(8), nullptr);
  EXPECT_EQ(a.make<int>(2), nullptr);
  EXPECT_EQ(a.make_array<int>(2), nullptr);
  EXPECT_EQ(a.used(), used);
}

TEST(CxxArena, FreezingTwiceIsFine) {
  WriteOnceArena a = make_arena(page());
  ASSERT_TRUE(a.freeze().has_value());
  EXPECT_TRUE(a.freeze().has_value());
  EXPECT_TRUE(a.frozen());
}

TEST(CxxArena, FreezeWorksInV8Mode) {
  ASSERT_EQ(sealkit_set_mode(SEALKIT_MODE_V8), SEALKIT_MODE_UPSTREAM);
  auto a = WriteOnceArena::create(page());
  std::error_code ec = a.has_value() ? a->freeze().error() : a.error();
  EXPECT_EQ(sealkit_set_mode(SEALKIT_MODE_UPSTREAM), SEALKIT_MODE_V8);
  ASSERT_TRUE(a.has_value());
  EXPECT_FALSE(ec) << "the arena is created sealable: " << ec.message();
  EXPECT_TRUE(a->frozen());
}

TEST(CxxArena, UnfrozenArenaIsUnmappedOnDestruction) {
  void* p = nullptr;
  {
    WriteOnceArena a = make_arena(page());
    p = a.allocate(8);
    ASSERT_NE(p, nullptr);
  }
  EXPECT_FALSE(is_mapped(p, 1));
}

TEST(CxxArena, FrozenArenaOutlivesItsObject) {
  int* p = nullptr;
  {
    WriteOnceArena a = make_arena(page());
    p = a.make<int>(123);
    ASSERT_NE(p, nullptr);
    ASSERT_TRUE(a.freeze().has_value());
  }
  ASSERT_TRUE(is_mapped(p, sizeof *p));
  EXPECT_EQ(*p, 123);
}

TEST(CxxArena, MovedArenaKeepsItsMemoryAndState) {
  WriteOnceArena a = make_arena(page());
  int* v = a.make<int>(11);
  ASSERT_NE(v, nullptr);
  WriteOnceArena b = std::move(a);
  EXPECT_TRUE(b.contains(v));
  EXPECT_EQ(b.used(), sizeof(int));
  EXPECT_NE(b.make<int>(12), nullptr);
  ASSERT_TRUE(b.freeze().has_value());
  EXPECT_EQ(*v, 11);
  EXPECT_SEALED(v, sizeof *v);
}

TEST(CxxArena, BytesViewsTheWholeRegionThatFreezeSeals) {
  auto a = WriteOnceArena::create(3 * page());
  ASSERT_TRUE(a.has_value()) << a.error().message();
  int* first = a->make<int>(1);
  ASSERT_NE(first, nullptr);
  std::span<const std::byte> b = a->bytes();
  EXPECT_EQ(b.size(), a->capacity());
  EXPECT_TRUE(a->contains(b.data()) && a->contains(&b.back()));
  EXPECT_EQ(static_cast<const void*>(b.data()), static_cast<const void*>(first)) << "the first object starts the region";
  ASSERT_TRUE(a->freeze().has_value());
  EXPECT_SEALED(b.data(), b.size());
}

}  // namespace
}  // namespace sealkit::test
