// sealkit_seal_loaded_objects, always in a forked child: its seals cover
// libc and the test program itself and can never be undone.
#include <dlfcn.h>
#include <gtest/gtest.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

#include "lib/elf_segments.hpp"
#include "lib/support.hpp"
#include "sealkit/sealkit.h"

namespace sealkit::test {
namespace {

// Objects dl_iterate_phdr lists that have something to seal.
int objects_with_pt_load(const std::vector<ElfObject>& objs) {
  int n = 0;
  for (const ElfObject& o : objs) n += o.loads.empty() ? 0 : 1;
  return n;
}

// Every page of [s.start, s.end) sealed in smaps, and mprotect to the
// protection it already has refused (it would succeed, changing nothing, on
// unsealed memory).
void check_segment_sealed(ChildReport& r, const std::string& what, const ElfSegment& s) {
  void* a = reinterpret_cast<void*>(s.start);
  const std::size_t len = s.end - s.start;
  if (smaps_seal_state(a, len) != SmapsSeal::kAllSealed) r.fail(what + ": smaps does not say sealed");
  if (sealkit_is_sealed(a, len) != 1) r.fail(what + ": sealkit_is_sealed does not say sealed");
  for (const SmapsVma& v : smaps_vmas_in(a, len)) {
    errno = 0;
    if (::mprotect(reinterpret_cast<void*>(v.start), v.end - v.start, v.prot()) != -1 || errno != EPERM)
      r.fail(what + ": mprotect was not refused with EPERM on " + v.perms + " " + v.name);
  }
}

TEST(SealLoadedObjects, RejectsFlags) {
  EXPECT_CHILD_PASSES([](ChildReport& r) {
    for (unsigned flags : {1u, 2u, 0x80000000u}) {
      errno = 0;
      CHILD_CHECK(r, sealkit_seal_loaded_objects(flags) == -1);
      CHILD_CHECK(r, errno == EINVAL);
    }
    const std::vector<ElfObject> objs = elf_objects();
    const ElfObject* libc = find_object(objs, "libc.so");
    if (!CHILD_CHECK(r, libc && !libc->loads.empty())) return;
    const ElfSegment& s = libc->loads.front();
    CHILD_CHECK(r, smaps_seal_state(reinterpret_cast<void*>(s.start), s.end - s.start) == SmapsSeal::kNotAllSealed);
  });
}

TEST(SealLoadedObjects, ReturnsTheNumberOfObjectsWithLoadSegments) {
  EXPECT_CHILD_PASSES([](ChildReport& r) {
    const int expected = objects_with_pt_load(elf_objects());
    CHILD_CHECK(r, expected >= 4);  // program, libc, ld.so, vDSO at least
    const int got = sealkit_seal_loaded_objects(0);
    if (got != expected) r.fail("sealed " + std::to_string(got) + " objects, expected " + std::to_string(expected));
    const int again = sealkit_seal_loaded_objects(0);
    CHILD_CHECK(r, again == expected);  // sealing twice is fine
  });
}

TEST(SealLoadedObjects, SealsEverySegmentOfLibcProgramAndLoader) {
  EXPECT_CHILD_PASSES([](ChildReport& r) {
    if (!CHILD_CHECK_ERRNO(r, sealkit_seal_loaded_objects(0) > 0)) return;
    const std::vector<ElfObject> objs = elf_objects();
    const ElfObject* prog = find_object(objs, "");
    const ElfObject* libc = find_object(objs, "libc.so");
    const ElfObject* ldso = find_object(objs, "ld-linux");
    if (!CHILD_CHECK(r, prog && libc && ldso)) return;

    bool libc_text = false, prog_relro = false, prog_data = false;
    for (const ElfSegment& s : libc->loads) {
      if (s.flags & PF_X) libc_text = true;
      check_segment_sealed(r, "libc " + std::string((s.flags & PF_X) ? "text" : "segment"), s);
    }
    for (const ElfSegment& s : prog->relro) {
      prog_relro = true;
      check_segment_sealed(r, "program RELRO", s);
    }
    for (const ElfSegment& s : prog->loads) {
      if (s.flags & PF_W) prog_data = true;  // .data and .bss
      check_segment_sealed(r, (s.flags & PF_W) ? "program data/bss" : "program segment", s);
    }
    for (const ElfSegment& s : ldso->loads) check_segment_sealed(r, "ld.so", s);
    CHILD_CHECK(r, libc_text);
    CHILD_CHECK(r, prog_relro);
    CHILD_CHECK(r, prog_data);

    // Every other object too.
    for (const ElfObject& o : objs)
      for (const ElfSegment& s : o.loads) check_segment_sealed(r, o.name.empty() ? "program" : o.name, s);
  });
}

// The program's data is sealed, not frozen: it stays writable.
TEST(SealLoadedObjects, SealedDataIsStillWritable) {
  static int counter = 1;
  EXPECT_CHILD_PASSES([](ChildReport& r) {
    if (!CHILD_CHECK_ERRNO(r, sealkit_seal_loaded_objects(0) > 0)) return;
    CHILD_CHECK(r, sealkit_is_sealed(&counter, sizeof counter) == 1);
    counter += 41;
    CHILD_CHECK(r, counter == 42);
  });
}

TEST(SealLoadedObjects, ProgramStillWorksAfterwards) {
  EXPECT_CHILD_PASSES([](ChildReport& r) {
    if (!CHILD_CHECK_ERRNO(r, sealkit_seal_loaded_objects(0) > 0)) return;

    // malloc: small (heap) and large (its own mmap), freed again.
    void* small = std::malloc(64);
    void* large = std::malloc(8 << 20);
    CHILD_CHECK(r, small && large);
    if (large) std::memset(large, 1, 8 << 20);
    std::free(small);
    std::free(large);

    // printf through stdio into a pipe.
    int fds[2];
    if (!CHILD_CHECK_ERRNO(r, ::pipe(fds) == 0)) return;
    std::fflush(stdout);
    int saved = ::dup(STDOUT_FILENO);
    ::dup2(fds[1], STDOUT_FILENO);
    std::printf("sealed %d\n", 42);
    std::fflush(stdout);
    ::dup2(saved, STDOUT_FILENO);
    ::close(saved);
    ::close(fds[1]);
    char buf[32] = {};
    CHILD_CHECK(r, ::read(fds[0], buf, sizeof buf - 1) > 0);
    CHILD_CHECK(r, std::string(buf) == "sealed 42\n");
    ::close(fds[0]);

    // dlopen of an object loaded after sealing: it works and is not sealed.
    void* h = ::dlopen(SEALKIT_TEST_DSO_PATH, RTLD_NOW | RTLD_LOCAL);
    if (!h) {
      r.fail(std::string("dlopen after sealing: ") + ::dlerror());
      return;
    }
    auto bump = reinterpret_cast<int (*)()>(::dlsym(h, "sealkit_fixture_bump"));
    auto* value = static_cast<int*>(::dlsym(h, "sealkit_fixture_counter"));
    if (!CHILD_CHECK(r, bump && value)) return;
    CHILD_CHECK(r, bump() == 1 && bump() == 2 && *value == 2);
    CHILD_CHECK(r, sealkit_is_sealed(reinterpret_cast<void*>(bump), 1) == 0);
    CHILD_CHECK(r, sealkit_is_sealed(value, sizeof *value) == 0);
    CHILD_CHECK(r, smaps_seal_state(reinterpret_cast<void*>(bump), 1) == SmapsSeal::kNotAllSealed);
    CHILD_CHECK(r, smaps_seal_state(value, sizeof *value) == SmapsSeal::kNotAllSealed);
    const std::vector<ElfObject> objs = elf_objects();
    const ElfObject* fixture = find_object(objs, "dlopen_fixture");
    if (!CHILD_CHECK(r, fixture != nullptr)) return;
    for (const ElfSegment& s : fixture->loads)
      CHILD_CHECK(r, smaps_seal_state(reinterpret_cast<void*>(s.start), s.end - s.start) != SmapsSeal::kAllSealed);
  });
}

}  // namespace
}  // namespace sealkit::test
