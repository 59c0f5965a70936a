// What the seccomp backend's filter costs a process:
//   getpid with the filter of a typical sealed program (its own mappings,
//   about 40 ranges) against no filter: the per-filter action cache should
//   make the difference vanish, since getpid's path reads no argument;
//   mmap + munmap of fresh anonymous memory with 1, 100 and 1000 sealed ranges
//   against no filter (goal: at most 10% slower, growing like log(ranges)).
// Every variant runs in its own forked child (filters are forever), variants
// alternate round after round, and the median of the rounds is reported with
// its ratio to the unfiltered run of the same loop. A second table counts the
// BPF instructions the munmap path executes (an interpreter, so exact).
//
// Usage: bench_seccomp [--rounds N] [--quick]
#include <linux/audit.h>
#include <linux/seccomp.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "backend/bpf_model.hpp"
#include "backend/seccomp/filter.hpp"
#include "backend/seccomp/install.hpp"

namespace seccomp = sealkit::backend::seccomp;

namespace {

constexpr std::uint64_t kPage = 4096;

enum class Loop { kGetpid, kMmapMunmap };

struct Variant {
  const char* name;
  Loop loop;
  int ranges;  // -1: no filter; -2: a filter that allows everything; 0: the process's own mappings; N: synthetic
};

// The process's own mappings, as a sealed program would have them sealed.
std::vector<seccomp::SealedRange> own_mappings() {
  std::vector<seccomp::SealedRange> out;
  std::ifstream maps("/proc/self/maps");
  std::string line;
  while (std::getline(maps, line)) {
    std::istringstream in(line);
    std::string span, perms, offset, dev, inode, path;
    in >> span >> perms >> offset >> dev >> inode;
    std::getline(in >> std::ws, path);
    if (path == "[vsyscall]") continue;
    const auto dash = span.find('-');
    const std::uint64_t start = std::stoull(span.substr(0, dash), nullptr, 16);
    const std::uint64_t end = std::stoull(span.substr(dash + 1), nullptr, 16);
    const bool anonymous = path.empty() || path[0] == '[';
    out.push_back({start, end, anonymous && perms[1] != 'w'});
  }
  return out;
}

// `n` one-page ranges in the window of fresh mmap()s, well away from where they land.
std::vector<seccomp::SealedRange> synthetic(int n) {
  void* probe = ::mmap(nullptr, kPage, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  const auto p = reinterpret_cast<std::uint64_t>(probe);
  ::munmap(probe, kPage);
  const std::uint64_t window = p & ~std::uint64_t{0xffffffff};
  const std::uint64_t low = p & 0xffffffff;
  const std::uint64_t base = window + (low > 0x8000'0000 ? 0x1000'0000 : 0xa000'0000);
  std::vector<seccomp::SealedRange> out;
  for (int i = 0; i < n; ++i) out.push_back({base + i * 16 * kPage, base + i * 16 * kPage + kPage, i % 10 == 0});
  return out;
}

std::vector<seccomp::SealedRange> ranges_for(const Variant& v) {
  return v.ranges == 0 ? own_mappings() : synthetic(v.ranges);
}

double now_ns() {
  timespec ts;
  ::clock_gettime(CLOCK_MONOTONIC, &ts);  // the vDSO: no system call, nothing filtered
  return static_cast<double>(ts.tv_sec) * 1e9 + static_cast<double>(ts.tv_nsec);
}

double run_loop(Loop loop, long iterations) {
  double t0 = now_ns();
  if (loop == Loop::kGetpid) {
    for (long i = 0; i < iterations; ++i) ::syscall(SYS_getpid);
  } else {
    for (long i = 0; i < iterations; ++i) {
      void* p = ::mmap(nullptr, kPage, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
      if (p == MAP_FAILED || ::munmap(p, kPage) != 0) std::abort();
    }
  }
  return (now_ns() - t0) / static_cast<double>(iterations);
}

// One round of one variant in a fresh child: ns per iteration, or a negative errno.
double measure(const Variant& v, long iterations) {
  int fds[2];
  if (::pipe(fds) != 0) return -1;
  pid_t pid = ::fork();
  if (pid == 0) {
    ::close(fds[0]);
    double result;
    if (v.ranges == -2) {
      sock_filter allow{BPF_RET | BPF_K, 0, 0, SECCOMP_RET_ALLOW};
      sock_fprog prog{1, &allow};
      if (::prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0 || ::syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &prog)) {
        result = -errno;
        (void)!::write(fds[1], &result, sizeof result);
        ::_exit(1);
      }
    }
    if (v.ranges >= 0) {
      std::vector<seccomp::SealedRange> ranges = ranges_for(v);
      static seccomp::Program program;
      seccomp::Input in{ranges.data(), ranges.size(), seccomp::task_size()};
      seccomp::BuildStatus st = seccomp::build(in, program);
      seccomp::InstallOutcome o;
      if (st != seccomp::BuildStatus::kOk) o.error = seccomp::to_errno(st);
      else o = seccomp::install(program);
      if (o.error != 0) {
        result = -o.error;
        (void)!::write(fds[1], &result, sizeof result);
        ::_exit(1);
      }
    }
    run_loop(v.loop, iterations / 10);  // warm up
    result = run_loop(v.loop, iterations);
    (void)!::write(fds[1], &result, sizeof result);
    ::_exit(0);
  }
  ::close(fds[1]);
  double result = -1;
  if (::read(fds[0], &result, sizeof result) != sizeof result) result = -1;
  ::close(fds[0]);
  int status;
  ::waitpid(pid, &status, 0);
  return result;
}

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v.empty() ? 0 : v[v.size() / 2];
}

// BPF instructions executed for a munmap of one fresh page (not sealed).
std::size_t executed_for_munmap(const std::vector<seccomp::SealedRange>& ranges, std::size_t* length) {
  static seccomp::Program program;
  seccomp::Input in{ranges.data(), ranges.size(), seccomp::task_size()};
  if (seccomp::build(in, program) != seccomp::BuildStatus::kOk) return 0;
  *length = program.length;
  void* probe = ::mmap(nullptr, kPage, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  seccomp_data d{};
  d.nr = __NR_munmap;
  d.arch = AUDIT_ARCH_X86_64;
  d.args[0] = reinterpret_cast<std::uint64_t>(probe);
  d.args[1] = kPage;
  ::munmap(probe, kPage);
  return sealkit::test::backend::run_filter(program.insns, program.length, d).executed;
}

}  // namespace

int main(int argc, char** argv) {
  int rounds = 7;
  long getpid_iterations = 400000, mmap_iterations = 60000;
  for (int i = 1; i < argc; ++i) {
    if (std::strcmp(argv[i], "--rounds") == 0 && i + 1 < argc) rounds = std::atoi(argv[++i]);
    else if (std::strcmp(argv[i], "--quick") == 0) {
      rounds = 3;
      getpid_iterations /= 10;
      mmap_iterations /= 10;
    } else {
      std::fprintf(stderr, "usage: %s [--rounds N] [--quick]\n", argv[0]);
      return 2;
    }
  }
  const Variant variants[] = {
      {"getpid, no filter", Loop::kGetpid, -1},
      {"getpid, a filter that allows everything", Loop::kGetpid, -2},
      {"getpid, filter of this program's mappings", Loop::kGetpid, 0},
      {"mmap+munmap, no filter", Loop::kMmapMunmap, -1},
      {"mmap+munmap, 1 sealed range", Loop::kMmapMunmap, 1},
      {"mmap+munmap, 100 sealed ranges", Loop::kMmapMunmap, 100},
      {"mmap+munmap, 1000 sealed ranges", Loop::kMmapMunmap, 1000},
  };
  constexpr std::size_t kVariants = std::size(variants);
  std::vector<double> samples[kVariants];
  for (int r = 0; r < rounds; ++r) {
    for (std::size_t i = 0; i < kVariants; ++i) {
      // Alternate the order each round so that drift does not favour one variant.
      const std::size_t v = r % 2 == 0 ? i : kVariants - 1 - i;
      const double ns =
          measure(variants[v], variants[v].loop == Loop::kGetpid ? getpid_iterations : mmap_iterations);
      if (ns < 0) {
        std::fprintf(stderr, "%s: failed (%s)\n", variants[v].name, std::strerror(static_cast<int>(-ns)));
        return 1;
      }
      samples[v].push_back(ns);
    }
  }
  std::printf("%-44s %10s %9s %14s   (median of %d rounds, each in a fresh process)\n", "variant", "ns/op",
              "vs none", "vs allow-all", rounds);
  double baseline = 0, allow_all = 0;
  for (std::size_t i = 0; i < kVariants; ++i) {
    const double m = median(samples[i]);
    if (variants[i].ranges == -1) baseline = m;
    if (variants[i].ranges == -2) allow_all = m;
    if (variants[i].loop == Loop::kGetpid && variants[i].ranges >= 0) {
      std::printf("%-44s %10.1f %9.3f %14.3f\n", variants[i].name, m, m / baseline, m / allow_all);
    } else {
      std::printf("%-44s %10.1f %9.3f\n", variants[i].name, m, m / baseline);
    }
  }
  std::printf("\nBPF instructions executed by munmap of a fresh page (interpreter):\n");
  std::printf("%-16s %12s %10s\n", "sealed ranges", "filter size", "executed");
  const std::vector<seccomp::SealedRange> own = own_mappings();
  std::size_t length = 0;
  std::size_t executed = executed_for_munmap(own, &length);
  std::printf("%-16s %12zu %10zu\n", (std::to_string(own.size()) + " (own)").c_str(), length, executed);
  for (int n : {1, 10, 100, 1000}) {
    executed = executed_for_munmap(synthetic(n), &length);
    std::printf("%-16d %12zu %10zu\n", n, length, executed);
  }
  return 0;
}
