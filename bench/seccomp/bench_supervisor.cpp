// What a supervised process pays (docs/seccomp-exec.md, "Costs"): each variant
// is this binary re-executed as a child (a filter cannot be removed), this
// process its supervisor. The child times a loop and writes ns/op to a pipe.
//   none          no filter at all
//   unguarded     getpid under the root filter (never notified: the kernel's action cache)
//   notified      munmap of an unmapped page under the root filter: every call a
//                 round trip (the supervisor finds no token, answers CONTINUE)
//   notified+N    the same after N seals registered (N tokens in the caller's maps,
//                 their records asked as packs)
//   attack        munmap of a sealed page: every call answered EPERM
//   seals         --seals N (800) separate one-page sealkit_mseal calls (SEALKIT_BACKEND=seccomp:
//                 each one registration): the median ns of the first --window calls and of
//                 the last --window, side by side in one process (the first window is the
//                 baseline the last is compared with; --window 100), and the supervisor's
//                 own CPU per registration over the same two windows
// --only seals: that variant alone. --without-procmap-query (with --only seals):
// a filter in this process (inherited by the children) answers the PROCMAP_QUERY
// ioctl with ENOTTY, as kernels before 6.11 do, so that the library and the
// supervisor read /proc/PID/maps as text there.
// Usage: bench_supervisor [--rounds N] [--iterations N] [--seals N] [--window N] [--only seals]
//                         [--without-procmap-query]
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "backend/seccomp/registration.hpp"
#include "backend/seccomp/registration_proto.hpp"
#include "supervisor/supervisor_process.hpp"
#include "lib/no_procmap_query.hpp"
#include "sealkit/sealkit.h"

namespace {

namespace sc = sealkit::backend::seccomp;
constexpr std::size_t kPage = 4096;

double time_loop(long iterations, bool getpid_call, void* target) {
  const auto t0 = std::chrono::steady_clock::now();
  for (long i = 0; i < iterations; ++i) {
    if (getpid_call) ::syscall(SYS_getpid);
    else ::munmap(target, kPage);
  }
  return std::chrono::duration<double, std::nano>(std::chrono::steady_clock::now() - t0).count() /
         static_cast<double>(iterations);
}

double median(std::vector<double> v) {
  if (v.empty()) return -1;
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

// The "seals" variant's child: `seals` separate one-page seals, every other
// page of one mapping, so that each is a range (and a registration) of its
// own. Writes the median ns of the first and of the last `window` calls.
int seals_child(long seals, long window, int out_fd) {
  auto* region = static_cast<char*>(
      ::mmap(nullptr, static_cast<std::size_t>(2 * seals) * kPage, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0));
  if (region == MAP_FAILED) return 3;
  std::vector<double> first, last;
  for (long i = 0; i < seals; ++i) {
    const auto t0 = std::chrono::steady_clock::now();
    if (sealkit_mseal(region + 2 * i * kPage, kPage, 0) != 0) return 4;
    const double ns = std::chrono::duration<double, std::nano>(std::chrono::steady_clock::now() - t0).count();
    if (i < window) first.push_back(ns);
    if (i >= seals - window) last.push_back(ns);
  }
  if (::mprotect(region + 2 * (seals - 1) * kPage, kPage, PROT_READ | PROT_WRITE) == 0) return 5;  // must be sealed
  dprintf(out_fd, "%.1f %.1f\n", median(first), median(last));
  return 0;
}

int child(const std::string& variant, long iterations, int out_fd) {
  if (variant.rfind("seals:", 0) == 0) {
    long seals = 0, window = 0;
    if (std::sscanf(variant.c_str(), "seals:%ld:%ld", &seals, &window) != 2 || window <= 0 || seals < 2 * window)
      return 2;
    return seals_child(seals, window, out_fd);
  }
  const int sock = sc::registration::parse_supervisor_fd(std::getenv(sc::registration::kSupervisorFdEnv));
  int seals = 0;
  if (variant.rfind("notified+", 0) == 0) seals = std::atoi(variant.c_str() + 9);
  void* sealed = nullptr;
  if (variant == "attack") seals = 1;
  for (int i = 0; i < seals; ++i) {
    void* p = ::mmap(nullptr, kPage, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    sc::SealedRange r{reinterpret_cast<std::uintptr_t>(p), reinterpret_cast<std::uintptr_t>(p) + kPage, true};
    sc::SealedRange token;
    if (sc::registration::register_seal(sock, &r, 1, token) != 0) return 3;
    sealed = p;
  }
  // An unmapped page (made after the seals, which would take its place): munmap
  // of it succeeds and changes nothing.
  void* hole = ::mmap(nullptr, kPage, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  ::munmap(hole, kPage);
  const bool use_getpid = variant == "none-getpid" || variant == "unguarded";
  void* target = variant == "attack" ? sealed : hole;
  time_loop(iterations / 10, use_getpid, target);  // warm up
  const double ns = time_loop(iterations, use_getpid, target);
  if (variant == "attack" && ::munmap(sealed, kPage) == 0) return 4;  // must have been refused
  dprintf(out_fd, "%.1f\n", ns);
  return 0;
}

double g_supervisor_cpu_ns = 0;  // of the last supervised variant, per notification

double thread_cpu_ns() {
  timespec ts{};
  ::clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return 1e9 * static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec);
}

struct SealsResult {
  double first_ns = -1, last_ns = -1;          // the child's medians per sealkit_mseal
  double cpu_first_ns = -1, cpu_last_ns = -1;  // the supervisor's CPU per registration over the same windows
};

// Supervises the "seals" child itself (as supervise_until_exit does) to read
// its own CPU time when the registrations count enters and leaves each window.
SealsResult run_seals(long seals, long window) {
  SealsResult out;
  int pipefd[2];
  if (::pipe(pipefd) != 0) return out;
  const std::string variant = "seals:" + std::to_string(seals) + ":" + std::to_string(window);
  std::vector<std::string> args = {"/proc/self/exe", "--child", variant, "0", std::to_string(pipefd[1])};
  std::vector<char*> argv;
  for (std::string& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  sc::SupervisedChild c = sc::spawn_supervised(argv[0], argv.data());
  ::close(pipefd[1]);
  if (c.pid < 0) {
    std::fprintf(stderr, "spawn: %s: %s\n", c.step.c_str(), std::strerror(c.error));
    ::close(pipefd[0]);
    return out;
  }
  const auto at = [&](long n) { return c.supervisor->stats().registrations >= static_cast<std::uint64_t>(n); };
  double first_start = -1, last_start = -1;
  int status = 0;
  for (bool exited = false; !exited;) {
    bool ready = false;
    c.supervisor->step(100, c.pidfd, &ready);
    const double now = thread_cpu_ns();
    // Each window is `window` registrations counted from the first one (the
    // child's start-up, ld.so's notifications, comes before it).
    if (first_start < 0 && at(1)) first_start = now;
    if (out.cpu_first_ns < 0 && at(1 + window)) out.cpu_first_ns = (now - first_start) / static_cast<double>(window);
    if (last_start < 0 && at(seals - window)) last_start = now;
    if (out.cpu_last_ns < 0 && at(seals)) out.cpu_last_ns = (now - last_start) / static_cast<double>(window);
    exited = ::waitpid(c.pid, &status, WNOHANG) == c.pid;
  }
  if (c.pidfd >= 0) ::close(c.pidfd);
  if (std::getenv("BENCH_SUPERVISOR_STATS")) {
    const sc::SupervisorStats& st = c.supervisor->stats();
    std::fprintf(stderr, "%s: exit %d, registrations %llu, notifications %llu, cache hits %llu\n", variant.c_str(),
                 WIFEXITED(status) ? WEXITSTATUS(status) : -1, static_cast<unsigned long long>(st.registrations),
                 static_cast<unsigned long long>(st.notifications), static_cast<unsigned long long>(st.cache_hits));
  }
  char buf[128] = {};
  if (WIFEXITED(status) && WEXITSTATUS(status) == 0 && ::read(pipefd[0], buf, sizeof buf - 1) > 0)
    std::sscanf(buf, "%lf %lf", &out.first_ns, &out.last_ns);
  ::close(pipefd[0]);
  return out;
}

double run_variant(const std::string& variant, long iterations) {
  g_supervisor_cpu_ns = 0;
  int pipefd[2];
  if (::pipe(pipefd) != 0) return -1;
  const std::string fd = std::to_string(pipefd[1]), its = std::to_string(iterations);
  std::vector<std::string> args = {"/proc/self/exe", "--child", variant, its, fd};
  std::vector<char*> argv;
  for (std::string& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  double ns = -1;
  if (variant == "none" || variant == "none-getpid") {
    pid_t pid = ::fork();
    if (pid == 0) {
      ::close(pipefd[0]);
      ::_exit(child(variant, iterations, pipefd[1]));
    }
    ::close(pipefd[1]);
    int status;
    ::waitpid(pid, &status, 0);
  } else {
    sc::SupervisedChild c = sc::spawn_supervised(argv[0], argv.data());
    ::close(pipefd[1]);
    if (c.pid < 0) {
      std::fprintf(stderr, "spawn: %s: %s\n", c.step.c_str(), std::strerror(c.error));
      return -1;
    }
    rusage before{}, after{};
    ::getrusage(RUSAGE_SELF, &before);
    sc::supervise_until_exit(c);
    ::getrusage(RUSAGE_SELF, &after);
    const sc::SupervisorStats& st = c.supervisor->stats();
    auto us = [](const timeval& t) { return 1e6 * static_cast<double>(t.tv_sec) + static_cast<double>(t.tv_usec); };
    const double cpu = us(after.ru_utime) + us(after.ru_stime) - us(before.ru_utime) - us(before.ru_stime);
    if (st.notifications > 0) g_supervisor_cpu_ns = 1000 * cpu / static_cast<double>(st.notifications);
    if (std::getenv("BENCH_SUPERVISOR_STATS"))
      std::fprintf(stderr, "%s: notifications %llu, cache hits %llu, EPERM %llu\n", variant.c_str(),
                   static_cast<unsigned long long>(st.notifications), static_cast<unsigned long long>(st.cache_hits),
                   static_cast<unsigned long long>(st.answered_eperm));
  }
  char buf[64] = {};
  if (::read(pipefd[0], buf, sizeof buf - 1) > 0) ns = std::atof(buf);
  ::close(pipefd[0]);
  return ns;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc == 5 && std::strcmp(argv[1], "--child") == 0) return child(argv[2], std::atol(argv[3]), std::atoi(argv[4]));
  int rounds = 5;
  long iterations = 20000, seals = 800, window = 100;
  bool only_seals = false, without_query = false;
  for (int i = 1; i < argc; ++i) {
    const bool has_value = i + 1 < argc;
    if (std::strcmp(argv[i], "--without-procmap-query") == 0) without_query = true;
    else if (has_value && std::strcmp(argv[i], "--rounds") == 0) rounds = std::atoi(argv[++i]);
    else if (has_value && std::strcmp(argv[i], "--iterations") == 0) iterations = std::atol(argv[++i]);
    else if (has_value && std::strcmp(argv[i], "--seals") == 0) seals = std::atol(argv[++i]);
    else if (has_value && std::strcmp(argv[i], "--window") == 0) window = std::atol(argv[++i]);
    else if (has_value && std::strcmp(argv[i], "--only") == 0) only_seals = std::strcmp(argv[++i], "seals") == 0;
    else {
      std::fprintf(stderr, "bench_supervisor: unknown argument %s (see the usage at the top of bench_supervisor.cpp)\n",
                   argv[i]);
      return 2;
    }
  }
  if (without_query && !only_seals) {
    std::fprintf(stderr, "bench_supervisor: --without-procmap-query goes with --only seals (the other variants "
                         "measure a process without any filter)\n");
    return 2;
  }
  if (without_query) {
    if (int e = sealkit::test::refuse_procmap_query()) {
      std::fprintf(stderr, "bench_supervisor: installing the filter that refuses PROCMAP_QUERY: %s\n",
                   std::strerror(e));
      return 2;
    }
  }
  if (rounds <= 0 || iterations <= 0 || window <= 0 || seals < 2 * window) {
    std::fprintf(stderr, "bench_supervisor: --rounds, --iterations and --window must be positive and --seals at "
                         "least twice --window\n");
    return 2;
  }
  ::setenv("SEALKIT_BACKEND", "seccomp", 1);  // the seals variant's sealkit_mseal registers, whatever the kernel
  const std::vector<std::string> variants = {"none-getpid", "unguarded", "none", "notified",
                                             "notified+10", "notified+100", "attack"};
  std::vector<std::vector<double>> results(variants.size()), cpu(variants.size());
  std::vector<double> first, last, cpu_first, cpu_last;
  for (int r = 0; r < rounds; ++r) {
    for (std::size_t v = 0; v < variants.size() && !only_seals; ++v) {
      results[v].push_back(run_variant(variants[v], iterations));
      cpu[v].push_back(g_supervisor_cpu_ns);
    }
    const SealsResult s = run_seals(seals, window);
    first.push_back(s.first_ns);
    last.push_back(s.last_ns);
    cpu_first.push_back(s.cpu_first_ns);
    cpu_last.push_back(s.cpu_last_ns);
  }
  if (!only_seals)
    std::printf("%-44s %10s %22s   (median of %d rounds, %ld calls each, each in a fresh process)\n", "variant",
                "ns/op", "supervisor CPU ns/call", rounds, iterations);
  const char* what[] = {"getpid, no filter", "getpid, root filter (not notified)", "munmap of a hole, no filter",
                        "munmap of a hole, notified (0 seals)", "munmap of a hole, notified (10 seals)",
                        "munmap of a hole, notified (100 seals)", "munmap of a sealed page (EPERM)"};
  for (std::size_t v = 0; v < variants.size() && !only_seals; ++v) {
    std::vector<double> x = results[v], c = cpu[v];
    std::sort(x.begin(), x.end());
    std::sort(c.begin(), c.end());
    if (v < 3) std::printf("%-44s %10.1f %22s\n", what[v], x[x.size() / 2], "-");
    else std::printf("%-44s %10.1f %22.0f\n", what[v], x[x.size() / 2], c[c.size() / 2]);
  }
  std::printf("\n%-44s %10s %22s   (%ld one-page seals in one process, median of %d rounds%s)\n", "sealkit_mseal",
              "ns/op", "supervisor CPU ns/reg", seals, rounds, without_query ? ", without PROCMAP_QUERY" : "");
  char label[96];
  std::snprintf(label, sizeof label, "seals 1-%ld (baseline)", window);
  std::printf("%-44s %10.0f %22.0f\n", label, median(first), median(cpu_first));
  std::snprintf(label, sizeof label, "seals %ld-%ld", seals - window + 1, seals);
  std::printf("%-44s %10.0f %22.0f\n", label, median(last), median(cpu_last));
  std::printf("%-44s %10.2f %22.2f\n", "last / first", median(last) / median(first),
              median(cpu_last) / median(cpu_first));
  return 0;
}
