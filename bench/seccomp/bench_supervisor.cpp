// What a supervised process pays (docs/seccomp-exec.md, "Costs"): each variant
// is this binary re-executed as a child (a filter cannot be removed), this
// process its supervisor. The child times a loop and writes ns/op to a pipe.
//   none          no filter at all
//   unguarded     getpid under the root filter (never notified: the kernel's action cache)
//   notified      munmap of an unmapped page under the root filter: every call a
//                 round trip (the supervisor reads the caller's maps, finds no
//                 token, answers CONTINUE)
//   notified+N    the same after N seals registered (N tokens in the caller's maps,
//                 N programs run per notification)
//   attack        munmap of a sealed page: every call answered EPERM
// Usage: bench_supervisor [--rounds N] [--iterations N]
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>
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
#include "backend/seccomp/supervisor_process.hpp"

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

int child(const std::string& variant, long iterations, int out_fd) {
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
  long iterations = 20000;
  for (int i = 1; i + 1 < argc; i += 2) {
    if (std::strcmp(argv[i], "--rounds") == 0) rounds = std::atoi(argv[i + 1]);
    if (std::strcmp(argv[i], "--iterations") == 0) iterations = std::atol(argv[i + 1]);
  }
  const std::vector<std::string> variants = {"none-getpid", "unguarded", "none", "notified",
                                             "notified+10", "notified+100", "attack"};
  std::vector<std::vector<double>> results(variants.size()), cpu(variants.size());
  for (int r = 0; r < rounds; ++r)
    for (std::size_t v = 0; v < variants.size(); ++v) {
      results[v].push_back(run_variant(variants[v], iterations));
      cpu[v].push_back(g_supervisor_cpu_ns);
    }
  std::printf("%-44s %10s %22s   (median of %d rounds, %ld calls each, each in a fresh process)\n", "variant",
              "ns/op", "supervisor CPU ns/call", rounds, iterations);
  const char* what[] = {"getpid, no filter", "getpid, root filter (not notified)", "munmap of a hole, no filter",
                        "munmap of a hole, notified (0 seals)", "munmap of a hole, notified (10 seals)",
                        "munmap of a hole, notified (100 seals)", "munmap of a sealed page (EPERM)"};
  for (std::size_t v = 0; v < variants.size(); ++v) {
    std::vector<double> x = results[v], c = cpu[v];
    std::sort(x.begin(), x.end());
    std::sort(c.begin(), c.end());
    if (v < 3) std::printf("%-44s %10.1f %22s\n", what[v], x[x.size() / 2], "-");
    else std::printf("%-44s %10.1f %22.0f\n", what[v], x[x.size() / 2], c[c.size() / 2]);
  }
  return 0;
}
