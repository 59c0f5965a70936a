#include "backend/sealed_layout.hpp"

#include <sys/mman.h>
#include <sys/prctl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "backend/kernel.hpp"
#include "backend/seccomp/install.hpp"

#ifndef PR_SET_VMA
#define PR_SET_VMA 0x53564d41
#define PR_SET_VMA_ANON_NAME 0
#endif

namespace sealkit::test::backend {

namespace seccomp = sealkit::backend::seccomp;

const std::vector<Region>& regions() {
  static const std::vector<Region> all = {
      {(std::uint64_t{1} << 45) - 8 * kPage, 16, PROT_READ, {{2, 3}, {6, 10}, {13, 14}}, {0}},
      {(std::uint64_t{1} << 45) + (std::uint64_t{1} << 32) - 4 * kPage, 8, PROT_READ, {{6, 7}}, {}},
      {0x3000'0000'0000, 4, PROT_READ, {{1, 2}}, {}},
      {0x3001'0000'0000, 4, PROT_READ, {}, {}},
      {0x3002'0000'0000, 4, PROT_READ | PROT_WRITE, {{1, 2}}, {}},
      {0x1000'0000, 4, PROT_READ, {{1, 2}}, {}},
  };
  return all;
}

std::vector<seccomp::SealedRange> sealed_ranges() {
  std::vector<seccomp::SealedRange> out;
  for (const Region& r : regions()) {
    for (const PageSpan& s : r.sealed) out.push_back({r.at(s.first), r.at(s.end), (r.prot & PROT_WRITE) == 0});
  }
  return out;
}

std::string map_and_seal(SealBy how) {
  for (const Region& r : regions()) {
    void* want = reinterpret_cast<void*>(r.base);
    void* p = ::mmap(want, r.pages * kPage, r.prot, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);
    if (p != want) return "cannot map the test region at " + std::to_string(r.base) + ": " + std::strerror(errno);
    for (std::size_t h : r.holes) ::munmap(reinterpret_cast<void*>(r.at(h)), kPage);
    for (const PageSpan& s : r.sealed) {
      // A name of its own keeps the span a VMA of its own in both modes.
      ::prctl(PR_SET_VMA, PR_SET_VMA_ANON_NAME, r.at(s.first), (s.end - s.first) * kPage, "sealed");
    }
  }
  if (how == SealBy::kMseal) {
    for (const Region& r : regions()) {
      for (const PageSpan& s : r.sealed) {
        if (sealkit::backend::kernel::mseal(r.at(s.first), (s.end - s.first) * kPage, 0) != 0) {
          return std::string("mseal: ") + std::strerror(errno);
        }
      }
    }
    return {};
  }
  std::vector<seccomp::SealedRange> ranges = sealed_ranges();
  seccomp::Input in{ranges.data(), ranges.size(), seccomp::task_size(), how == SealBy::kFilter};
  static seccomp::Program program;
  seccomp::BuildStatus st = seccomp::build(in, program);
  if (st != seccomp::BuildStatus::kOk) return std::string("build: ") + seccomp::to_string(st);
  if (program.exact_mremap_destination != (how == SealBy::kFilter)) return "build: not the mremap mode asked for";
  seccomp::InstallOutcome o = seccomp::install(program);
  if (o.error != 0) return std::string("install: ") + std::strerror(o.error);
  return {};
}

}  // namespace sealkit::test::backend
