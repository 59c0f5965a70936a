// The supervisor's packs (supervisor/record_packs.hpp) against the
// records one by one: for random records (ranges in several 4 GiB windows,
// below and above the i386 reach, some discard-protected) and random guarded
// calls of both ABIs aimed at their edges, "some pack refuses" must equal
// "some record's own program refuses", with the generator's real programs run
// by the supervisor's interpreter. And the work stays small: a few programs
// for hundreds of records.
#include <linux/audit.h>
#include <sys/mman.h>
#include <sys/shm.h>
#include <sys/syscall.h>

#include <cstdint>
#include <memory>
#include <random>
#include <vector>

#include <gtest/gtest.h>

#include "backend/seccomp/filter.hpp"
#include "supervisor/record_packs.hpp"
#include "core/bpf_eval.hpp"

namespace {

namespace seccomp = sealkit::backend::seccomp;
constexpr std::uint64_t P = 4096;

struct Record {
  std::vector<seccomp::SealedRange> ranges;
  std::vector<sock_filter> program;
  bool exact = true;
};

class Cases {
 public:
  explicit Cases(std::uint64_t seed) : rng_(seed) {}

  Record record(seccomp::BuildWorkspace& work, seccomp::Program& program) {
    Record r;
    const std::size_t n = 1 + rng_() % 4;
    for (std::size_t i = 0; i < n; ++i) {
      const std::uint64_t start = address();
      const std::uint64_t pages = 1 + rng_() % (rng_() % 10 == 0 ? 5000 : 4);
      r.ranges.push_back({start, start + pages * P, rng_() % 2 == 0});
    }
    seccomp::Input in;
    in.ranges = r.ranges.data();
    in.count = r.ranges.size();
    in.task_size = seccomp::task_size();
    EXPECT_EQ(seccomp::build(in, program, work), seccomp::BuildStatus::kOk);
    r.program.assign(program.insns, program.insns + program.length);
    r.exact = program.exact_mremap_destination;
    return r;
  }

  seccomp_data request(const std::vector<Record>& records) {
    const Record& near_record = records[rng_() % records.size()];
    const seccomp::SealedRange& near = near_record.ranges[rng_() % near_record.ranges.size()];
    auto addr_near = [&] {
      switch (rng_() % 4) {
        case 0: return near.start - (rng_() % 3) * P;
        case 1: return near.end - (rng_() % 3) * P;
        case 2: return address();
        default: return near.start + (rng_() % 2) * P;
      }
    };
    seccomp_data d{};
    const std::uint64_t addr = addr_near(), len = (rng_() % 4) * P + (rng_() % 8 == 0 ? rng_() % P : 0);
    if (rng_() % 4 == 0) {  // int 0x80: i386 numbers, 32-bit words
      d.arch = AUDIT_ARCH_I386;
      const int nrs[] = {125, 91, 219, 192, 163, 397};  // mprotect munmap madvise mmap2 mremap shmat
      d.nr = nrs[rng_() % std::size(nrs)];
      d.args[0] = d.nr == 397 ? 5 : static_cast<std::uint32_t>(addr);
      d.args[1] = d.nr == 397 ? static_cast<std::uint32_t>(addr) : static_cast<std::uint32_t>(len);
      d.args[2] = d.nr == 397 ? SHM_REMAP : d.nr == 219 ? MADV_DONTNEED : PROT_READ;
      d.args[3] = d.nr == 163 ? MREMAP_MAYMOVE | MREMAP_FIXED : MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED;
      d.args[4] = d.nr == 163 ? static_cast<std::uint32_t>(addr_near()) : 0xffffffffu;
      return d;
    }
    d.arch = AUDIT_ARCH_X86_64;
    const int nrs[] = {__NR_mprotect, __NR_munmap, __NR_madvise, __NR_mmap, __NR_mremap, __NR_pkey_mprotect};
    d.nr = nrs[rng_() % std::size(nrs)];
    d.args[0] = addr;
    d.args[1] = len;
    d.args[2] = d.nr == __NR_madvise ? (rng_() % 2 ? MADV_DONTNEED : MADV_FREE) : d.nr == __NR_mremap ? len + P : PROT_READ;
    d.args[3] = d.nr == __NR_mremap ? (rng_() % 2 ? MREMAP_MAYMOVE | MREMAP_FIXED : MREMAP_MAYMOVE)
                                    : MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED;
    d.args[4] = d.nr == __NR_mremap ? addr_near() : ~std::uint64_t{0};
    return d;
  }

 private:
  // Windows below the i386 reach (0, 1) and far above it, offsets near their edges.
  std::uint64_t address() {
    static constexpr std::uint64_t kWindows[] = {0, 1, 0x2000, 0x2001, 0x7ff0, 0x7ffe};
    const std::uint64_t window = kWindows[rng_() % std::size(kWindows)];
    const std::uint64_t offset = rng_() % 3 == 0 ? 0x1'0000'0000 - (1 + rng_() % 64) * P : (16 + rng_() % 0x8000) * P;
    return (window << 32) + offset;
  }
  std::mt19937_64 rng_;
};

seccomp::RecordPacks::RecordRef ref(const Record& r) { return {&r.ranges, &r.program, r.exact}; }

bool refused_by_one(const std::vector<Record>& records, const seccomp_data& d) {
  for (const Record& r : records) {
    const std::uint32_t action = sealkit::core::bpf::run(r.program.data(), r.program.size(), d).ret;
    if ((action & SECCOMP_RET_ACTION_FULL) != SECCOMP_RET_ALLOW) return true;
  }
  return false;
}

}  // namespace

// Records one by one (add, as registrations come) and all at once (add_all,
// a process seen for the first time), against the records' own programs.
TEST(RecordPacks, RefuseExactlyWhatOneOfTheirRecordsRefuses) {
  auto work = std::make_unique<seccomp::BuildWorkspace>();
  auto scratch = std::make_unique<seccomp::Program>();
  std::uint64_t ranges_built = 0;
  auto builder = std::make_unique<seccomp::ProgramBuilder>(ranges_built);
  Cases cases(20261207);
  std::size_t checked = 0, refused = 0;
  for (std::size_t n : {1, 2, 5, 64, 300, 1000}) {
    std::vector<Record> records;
    seccomp::RecordPacks one_by_one, at_once;
    for (std::size_t i = 0; i < n; ++i) {
      records.push_back(cases.record(*work, *scratch));
      one_by_one.add(ref(records.back()), *builder);
    }
    ASSERT_FALSE(HasFailure()) << "a record did not build";
    std::vector<seccomp::RecordPacks::RecordRef> refs;
    for (const Record& r : records) refs.push_back(ref(r));
    at_once.add_all(refs, *builder);
    for (int i = 0; i < 20000; ++i) {
      const seccomp_data d = cases.request(records);
      const bool want = refused_by_one(records, d);
      std::uint64_t instructions = 0;
      ASSERT_EQ(one_by_one.refuses(d, instructions), want)
          << n << " records one by one; arch " << std::hex << d.arch << std::dec << " nr " << d.nr << std::hex
          << " args 0x" << d.args[0] << " 0x" << d.args[1] << " 0x" << d.args[2] << " 0x" << d.args[3] << " 0x"
          << d.args[4];
      ASSERT_EQ(at_once.refuses(d, instructions), want)
          << n << " records at once; arch " << std::hex << d.arch << std::dec << " nr " << d.nr << std::hex
          << " args 0x" << d.args[0] << " 0x" << d.args[1] << " 0x" << d.args[2] << " 0x" << d.args[3] << " 0x"
          << d.args[4];
      EXPECT_GT(instructions, 0u);
      ++checked;
      refused += want;
    }
    std::printf("%zu records in %zu programs one by one, %zu at once\n", n, one_by_one.programs(), at_once.programs());
    if (n >= 64) {
      EXPECT_LT(one_by_one.programs() * 8, n) << "packs merge records";
      EXPECT_LT(at_once.programs() * 8, n) << "packs merge records";
    }
  }
  // Both answers must be common, or the requests miss the ranges.
  EXPECT_GT(refused, checked / 10);
  EXPECT_LT(refused, checked * 9 / 10);
  EXPECT_GT(ranges_built, 0u) << "the builder counts what it builds";
}
