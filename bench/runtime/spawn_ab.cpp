// Spawns one program under several injections in alternation (round i runs
// every variant once, starting at variant i mod n) and prints the median
// per-spawn time of each, and its ratio to the first variant: the median of
// the per-round ratios (paired: both spawns of a pair see the same moment of a
// shared machine) and the ratio of the medians.
//
//   spawn_ab [--runs N] [--warmup W] [--child-reports] NAME=ENV [NAME=ENV ...] -- PROGRAM [ARGS...]
//
// ENV is "" (no injection) or VAR=VALUE settings, separated by ';', added to
// the environment, e.g.
//   none= empty_audit=LD_AUDIT=/x/libbench_empty_audit.so runtime=LD_AUDIT=/x/libsealkit-runtime.so
//   sealkit_run='LD_AUDIT=/x/libsealkit-runtime.so;LD_PRELOAD=/x/libsealkit-preload.so'
// ENV may instead be "+WORD,WORD,...": no setting, but these words run
// before PROGRAM (a wrapper such as `sealkit,run,--`, its first word a path),
// e.g. alone= sealkit_run=+/x/bin/sealkit,run,-- -- /x/static_program.
// With --child-reports the figure of a run is not the spawn's wall time but
// the number of nanoseconds the program prints on its stdout (dlopen_child
// times its own dlopen calls that way).
// Every variant runs without the LD_AUDIT, LD_PRELOAD and SEALKIT_* of the
// caller's environment. A spawn is posix_spawn (vfork-like) plus waitpid; a
// failed spawn or a non-zero exit stops the bench.
#include <spawn.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <string_view>
#include <vector>

extern char** environ;

namespace {

struct Variant {
  std::string name;
  std::vector<char*> env;  // NULL-terminated
  std::vector<std::string> prefix;  // words before PROGRAM ("+WORD,...")
  std::vector<char*> argv;          // prefix, PROGRAM and its arguments, NULL-terminated
  std::vector<double> ns;  // one per round
};

bool injected_setting(std::string_view kv) {
  return kv.starts_with("LD_AUDIT=") || kv.starts_with("LD_PRELOAD=") || kv.starts_with("SEALKIT_");
}

double now_ns() {
  timespec ts{};
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<double>(ts.tv_sec) * 1e9 + static_cast<double>(ts.tv_nsec);
}

bool g_child_reports = false;

double spawn_once(char* const* argv, char* const* envp) {
  int out[2] = {-1, -1};
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  if (g_child_reports) {
    if (pipe(out) != 0) {
      std::perror("spawn_ab: pipe");
      std::exit(2);
    }
    posix_spawn_file_actions_adddup2(&fa, out[1], 1);
    posix_spawn_file_actions_addclose(&fa, out[0]);
  }
  const double t0 = now_ns();
  pid_t pid = 0;
  int rc = posix_spawn(&pid, argv[0], &fa, nullptr, argv, envp);
  posix_spawn_file_actions_destroy(&fa);
  if (rc != 0) {
    std::fprintf(stderr, "spawn_ab: posix_spawn %s: %s\n", argv[0], std::strerror(rc));
    std::exit(2);
  }
  std::string reported;
  if (g_child_reports) {
    close(out[1]);
    char buf[64];
    ssize_t n;
    while ((n = read(out[0], buf, sizeof buf)) > 0) reported.append(buf, static_cast<std::size_t>(n));
    close(out[0]);
  }
  int status = 0;
  while (waitpid(pid, &status, 0) < 0) {
  }
  const double t1 = now_ns();
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    std::fprintf(stderr, "spawn_ab: %s did not exit 0 (status 0x%x)\n", argv[0], status);
    std::exit(2);
  }
  if (!g_child_reports) return t1 - t0;
  char* end = nullptr;
  const double v = std::strtod(reported.c_str(), &end);
  if (end == reported.c_str() || v <= 0) {
    std::fprintf(stderr, "spawn_ab: %s printed no time: '%s'\n", argv[0], reported.c_str());
    std::exit(2);
  }
  return v;
}

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  const std::size_t n = v.size();
  return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

double quantile(std::vector<double> v, double q) {
  std::sort(v.begin(), v.end());
  return v[static_cast<std::size_t>(q * static_cast<double>(v.size() - 1))];
}

[[noreturn]] void usage() {
  std::fprintf(stderr,
               "usage: spawn_ab [--runs N] [--warmup W] [--child-reports] NAME=ENV [NAME=ENV ...] -- PROGRAM [ARGS...]\n"
               "       ENV: empty, VAR=VALUE settings separated by ';', or +WORD,WORD,... run before PROGRAM\n");
  std::exit(2);
}

}  // namespace

int main(int argc, char** argv) {
  long runs = 2000, warmup = 100;
  std::vector<Variant> variants;
  std::vector<std::string> extra;  // owns each variant's added VAR=VALUE
  extra.reserve(static_cast<std::size_t>(argc) * 4);
  int i = 1;
  for (; i < argc && std::strcmp(argv[i], "--") != 0; ++i) {
    std::string_view a = argv[i];
    if (a == "--child-reports") {
      g_child_reports = true;
      continue;
    }
    if ((a == "--runs" || a == "--warmup") && i + 1 < argc) {
      long v = std::strtol(argv[++i], nullptr, 10);
      if (v <= 0) usage();
      (a == "--runs" ? runs : warmup) = v;
      continue;
    }
    const std::size_t eq = a.find('=');
    if (eq == 0 || eq == std::string_view::npos) usage();
    Variant v;
    v.name = std::string(a.substr(0, eq));
    for (char** e = environ; *e; ++e) {
      if (!injected_setting(*e)) v.env.push_back(*e);
    }
    if (a.substr(eq + 1, 1) == "+") {
      for (std::string_view rest = a.substr(eq + 2); !rest.empty();) {
        const std::size_t comma = rest.find(',');
        v.prefix.emplace_back(rest.substr(0, comma));
        rest = comma == std::string_view::npos ? std::string_view() : rest.substr(comma + 1);
      }
      if (v.prefix.empty() || v.prefix.front().empty() || v.prefix.front().front() != '/') usage();
      v.env.push_back(nullptr);
      variants.push_back(std::move(v));
      continue;
    }
    for (std::string_view rest = a.substr(eq + 1); !rest.empty();) {
      const std::size_t semi = rest.find(';');
      std::string_view kv = rest.substr(0, semi);
      rest = semi == std::string_view::npos ? std::string_view() : rest.substr(semi + 1);
      if (kv.empty()) continue;
      if (kv.find('=') == std::string_view::npos || extra.size() == extra.capacity()) usage();
      extra.emplace_back(kv);
      v.env.push_back(extra.back().data());
    }
    v.env.push_back(nullptr);
    variants.push_back(std::move(v));
  }
  if (variants.empty() || i + 1 >= argc) usage();
  char* const* prog = argv + i + 1;
  const std::size_t n = variants.size();
  for (Variant& v : variants) {
    for (std::string& w : v.prefix) v.argv.push_back(w.data());
    for (char* const* a = prog; *a; ++a) v.argv.push_back(*a);
    v.argv.push_back(nullptr);
  }

  for (long w = 0; w < warmup; ++w) {
    for (Variant& v : variants) spawn_once(v.argv.data(), v.env.data());
  }
  for (long r = 0; r < runs; ++r) {
    for (std::size_t k = 0; k < n; ++k) {
      Variant& v = variants[(static_cast<std::size_t>(r) + k) % n];
      v.ns.push_back(spawn_once(v.argv.data(), v.env.data()));
    }
  }

  double load[3] = {0, 0, 0};
  if (getloadavg(load, 3) < 0) load[0] = load[1] = load[2] = -1;
  std::printf("# spawn_ab: %s, %ld rounds (+%ld warm-up), %s, load average %.2f %.2f %.2f\n", prog[0], runs, warmup,
              g_child_reports ? "times the program reported" : "spawn+wait wall time", load[0], load[1], load[2]);
  int width = 14;  // the name column: as wide as the longest name
  for (const Variant& v : variants) width = std::max(width, static_cast<int>(v.name.size()));
  std::printf("%-*s %12s %10s %10s %14s %16s\n", width, "variant", "median_us", "p25_us", "p75_us", "paired_ratio",
              "ratio_of_medians");
  const Variant& base = variants[0];
  for (const Variant& v : variants) {
    std::vector<double> ratios;
    for (std::size_t r = 0; r < v.ns.size(); ++r) ratios.push_back(v.ns[r] / base.ns[r]);
    std::printf("%-*s %12.1f %10.1f %10.1f %14.4f %16.4f\n", width, v.name.c_str(), median(v.ns) / 1e3,
                quantile(v.ns, 0.25) / 1e3, quantile(v.ns, 0.75) / 1e3, median(ratios), median(v.ns) / median(base.ns));
  }
  return 0;
}
