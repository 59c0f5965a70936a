// The start-up pass's /proc-free probes (src/runtime/system_extents.hpp) against
// what /proc/self/maps says of this very process, and refusing layouts that are
// not the kernel's.
#include "runtime/system_extents.hpp"

#include <gtest/gtest.h>
#include <link.h>
#include <sys/auxv.h>
#include <sys/mman.h>

#include <cstring>
#include <fstream>
#include <sstream>
#include <string>

namespace {

struct Maps {
  bool found = false;
  sealkit::core::Range range{};
};

// The union of the /proc/self/maps lines named `names` (adjacent ones).
Maps from_proc(std::initializer_list<const char*> names) {
  std::ifstream in("/proc/self/maps");
  Maps m;
  for (std::string line; std::getline(in, line);) {
    std::istringstream s(line);
    std::string span, perms, offset, dev, inode, path;
    s >> span >> perms >> offset >> dev >> inode >> path;
    bool wanted = false;
    for (const char* n : names) wanted |= path == n;
    if (!wanted) continue;
    const auto dash = span.find('-');
    const std::uintptr_t b = std::stoull(span.substr(0, dash), nullptr, 16);
    const std::uintptr_t e = std::stoull(span.substr(dash + 1), nullptr, 16);
    if (!m.found) m.range = {b, e};
    else if (b == m.range.end) m.range.end = e;
    else if (e == m.range.begin) m.range.begin = b;
    m.found = true;
  }
  return m;
}

TEST(SystemExtents, TheStackIsTheStackVmaOfTheMaps) {
  sealkit::core::Range found{};
  ASSERT_TRUE(sealkit::rt::find_stack_without_proc(getauxval(AT_EXECFN), found));
  const Maps m = from_proc({"[stack]"});
  ASSERT_TRUE(m.found);
  EXPECT_EQ(found.begin, m.range.begin);
  EXPECT_EQ(found.end, m.range.end);
}

TEST(SystemExtents, TheVdsoAndItsDataPagesAreTheirVmasOfTheMaps) {
  const std::uintptr_t vdso = getauxval(AT_SYSINFO_EHDR);
  if (vdso == 0) GTEST_SKIP() << "this process has no vDSO (vdso=0 on the kernel command line?)";
  sealkit::core::Range found{};
  ASSERT_TRUE(sealkit::rt::find_vdso_without_proc(vdso, found));
  const Maps m = from_proc({"[vvar]", "[vvar_vclock]", "[vdso]"});
  ASSERT_TRUE(m.found);
  EXPECT_EQ(found.begin, m.range.begin);
  EXPECT_EQ(found.end, m.range.end);
}

// A name whose end plus 8 is page-aligned, but with a mapped page above: not a stack's top.
TEST(SystemExtents, AStringBelowAMappedPageIsNotTheStackTop) {
  void* p = mmap(nullptr, 3 * 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  ASSERT_NE(p, MAP_FAILED);
  auto* base = static_cast<char*>(p);
  char* name = base + 2 * 4096 - 8 - 7;  // "x/true" and its NUL end 8 bytes below the third page
  std::memcpy(name, "x/true", 6);
  name[6] = '\0';
  sealkit::core::Range found{};
  EXPECT_FALSE(sealkit::rt::find_stack_without_proc(reinterpret_cast<std::uintptr_t>(name), found));
  munmap(p, 3 * 4096);
}

// The vDSO's header copied above an ordinary page: no kernel data pages below it.
TEST(SystemExtents, AnElfHeaderAboveOrdinaryMemoryIsNotTheVdso) {
  const std::uintptr_t vdso = getauxval(AT_SYSINFO_EHDR);
  if (vdso == 0) GTEST_SKIP() << "this process has no vDSO (vdso=0 on the kernel command line?)";
  // The image only: what follows the vDSO may be unmapped (Linux 6.1 maps it
  // apart from everything else).
  const auto* eh = reinterpret_cast<const ElfW(Ehdr)*>(vdso);
  const std::size_t image = eh->e_shoff + std::size_t{eh->e_shnum} * eh->e_shentsize;
  ASSERT_LE(image, 3u * 4096);
  void* p = mmap(nullptr, 4 * 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  ASSERT_NE(p, MAP_FAILED);
  auto* copy = static_cast<char*>(p) + 4096;
  std::memcpy(copy, reinterpret_cast<const void*>(vdso), image);
  sealkit::core::Range found{};
  EXPECT_FALSE(sealkit::rt::find_vdso_without_proc(reinterpret_cast<std::uintptr_t>(copy), found));
  munmap(p, 4 * 4096);
}

}  // namespace
