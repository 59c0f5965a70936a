// Programs built with a sanitizer, or whose libraries use much initial-exec
// TLS, start with sealkit as they start without it, in both deployments
// (`sealkit run`, and the preload object alone as /etc/ld.so.preload loads
// it), are sealed, and their sanitizer still works.
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "runtime/run_log.hpp"
#include "runtime/subprocess.hpp"

namespace {

using sealkit::test::Captured;
using sealkit::test::run_captured;
using sealkit::test::TempLog;

// The program under `sealkit run`, or with the preload object alone.
Captured sealed(bool run, const std::vector<std::string>& program, const TempLog& log,
                std::vector<std::string> env = {}) {
  if (run) {
    std::vector<std::string> argv{SEALKIT_BIN, "run", "--log", log.path, "--"};
    argv.insert(argv.end(), program.begin(), program.end());
    return run_captured(argv, env);
  }
  env.push_back("LD_PRELOAD=" SEALKIT_PRELOAD);
  env.push_back("SEALKIT_LOG=" + log.path);
  return run_captured(program, env);
}

void expect_sealed(const TempLog& log, const std::string& exe) {
  bool found = false;
  for (const auto& j : log.lines()) {
    if (j.at("exe") != exe) continue;
    found = true;
    EXPECT_EQ(j.at("mseal_failures"), 0) << j;
    EXPECT_EQ(j.at("objects_sealed").get<int>() + j.at("objects_skipped").get<int>(), j.at("objects_seen").get<int>())
        << j;
  }
  EXPECT_TRUE(found) << "no log line for " << exe;
}

class Sanitized : public ::testing::TestWithParam<bool> {};

}  // namespace

// GCC's AddressSanitizer refuses to start when another object precedes
// libasan in the initial library list, unless told not to check.
TEST_P(Sanitized, AnAsanProgramStartsIsSealedAndAsanStillWorks) {
  const bool run = GetParam();
  TempLog log;
  Captured o = sealed(run, {ASAN_TARGET}, log);
  EXPECT_EQ(o.status, 0) << o.err;
  EXPECT_EQ(o.out, "ok\n");
  EXPECT_EQ(o.err, "");
  expect_sealed(log, ASAN_TARGET);
  // The sanitizer still catches the bug, and the program's own ASAN_OPTIONS still count.
  TempLog log2;
  Captured bug = sealed(run, {ASAN_TARGET, "overflow"}, log2, {"ASAN_OPTIONS=exitcode=42"});
  EXPECT_EQ(bug.status, 42) << bug.err;
  EXPECT_NE(bug.err.find("heap-buffer-overflow"), std::string::npos) << bug.err;
}

INSTANTIATE_TEST_SUITE_P(Deployments, Sanitized, ::testing::Values(true, false),
                         [](const auto& p) { return p.param ? "SealkitRun" : "PreloadAlone"; });

// ThreadSanitizer's runtime has 786 KB of initial-exec TLS: under any LD_AUDIT
// module glibc 2.36 has no room for it unless told (cli/run/static_tls.hpp).
TEST_P(Sanitized, AThreadSanitizerProgramStartsAndIsSealed) {
  TempLog log;
  Captured o = sealed(GetParam(), {TSAN_TARGET, "thread"}, log);
  EXPECT_EQ(o.status, 0) << o.err;
  EXPECT_EQ(o.out, "ok\n");
  EXPECT_EQ(o.err, "");
  expect_sealed(log, TSAN_TARGET);
}

// redis-cli links jemalloc (2632 bytes of initial-exec TLS): as PROGRAM, and
// started by a shell inside the tree, where the floor of the room covers it.
TEST(SealkitRunStaticTls, RedisCliStartsAsTheProgramAndAsAChild) {
  Captured plain = run_captured({"redis-cli", "--version"});
  ASSERT_EQ(plain.status, 0) << "redis-cli (redis-tools, scripts/bootstrap) must be installed: " << plain.err;
  for (const std::vector<std::string>& program :
       {std::vector<std::string>{"redis-cli", "--version"}, {"/bin/sh", "-c", "redis-cli --version"}}) {
    TempLog log;
    Captured o = sealed(true, program, log);
    EXPECT_EQ(o.status, 0) << o.err;
    EXPECT_EQ(o.out, plain.out);
    EXPECT_EQ(o.err, "");
    expect_sealed(log, "/usr/bin/redis-cli");
  }
}

// The caller's own tunables are kept, and a larger room of theirs wins.
TEST(SealkitRunStaticTls, TheCallersTunablesAreKept) {
  TempLog log;
  Captured o = sealed(true, {"/bin/sh", "-c", "echo \"$GLIBC_TUNABLES\""}, log,
                      {"GLIBC_TUNABLES=glibc.malloc.check=0:glibc.rtld.optional_static_tls=100000"});
  EXPECT_EQ(o.out, "glibc.malloc.check=0:glibc.rtld.optional_static_tls=100000\n");
  Captured d = sealed(true, {"/bin/sh", "-c", "echo \"$GLIBC_TUNABLES\""}, log, {"GLIBC_TUNABLES="});
  EXPECT_EQ(d.out, "glibc.rtld.optional_static_tls=4096\n") << "the floor, for what the tree starts";
}
