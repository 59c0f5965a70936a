// Objects loaded where no dlopen wrapper sees the call: glibc's own loads
// (NSS modules, gconv modules, libgcc_s) and a dlopen found by a lookup
// (dlsym(RTLD_NEXT, "dlopen") in a library, dlvsym or dlsym on libc's
// handle). Every VMA of each is sealed right after the call that loaded it
// returns, before the program uses it (for libgcc_s: while it unwinds its
// first stack), in both deployments: `sealkit run` and machine-wide through
// /etc/ld.so.preload. In a private mount namespace whose
// /etc is an overlay: nsswitch.conf there names the compat module, which
// libc6 itself ships, so the NSS case needs no other package.
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "runtime/private_mounts.hpp"
#include "runtime/subprocess.hpp"

namespace {

namespace fs = std::filesystem;

struct Outcome {
  sealkit::test::Captured run;
  std::map<std::string, std::string> lines;  // "LABEL STATE" lines of unwrapped_loads_target
};

class UnwrappedLoads : public ::testing::TestWithParam<bool> {
 protected:
  static void SetUpTestSuite() {
    if (!sealkit::test::enter_private_mounts({"/etc"}, scratch_, why_)) return;
    std::ofstream("/etc/nsswitch.conf", std::ios::trunc) << "passwd: compat\ngroup: compat\nshadow: compat\n";
    ready_ = true;
  }
  void SetUp() override {
    if (!ready_) GTEST_SKIP() << why_;
  }

  // The target under `sealkit run` (GetParam() true) or with the preload
  // object in /etc/ld.so.preload; none: without sealkit.
  static Outcome target(const std::vector<std::string>& command, bool sealkit_run, bool none = false) {
    // The program with a dlopen wrapper of its own linked in, and the one
    // that sandboxes itself, run apart.
    std::vector<std::string> argv{command[0] == "interposed" ? INTERPOSED_TARGET
                                  : command[0] == "sandboxed" ? SANDBOXED_TARGET
                                                              : UNWRAPPED_LOADS_TARGET};
    argv.insert(argv.end(), command.begin() + (command[0] == "sandboxed" ? 1 : 0), command.end());
    if (sealkit_run && !none) argv.insert(argv.begin(), {SEALKIT_BIN, "run", "--"});
    if (!sealkit_run && !none) std::ofstream("/etc/ld.so.preload", std::ios::trunc) << SEALKIT_PRELOAD << "\n";
    Outcome o;
    o.run = sealkit::test::run_captured(argv);
    std::ofstream("/etc/ld.so.preload", std::ios::trunc).close();
    std::istringstream ls(o.run.out);
    std::string label, state;
    while (ls >> label && std::getline(ls >> std::ws, state)) o.lines[label] = state;
    return o;
  }

  static inline bool ready_ = false;
  static inline std::string why_, scratch_;
};

const char* mode(bool sealkit_run) { return sealkit_run ? "sealkit run" : "machine-wide"; }

TEST_P(UnwrappedLoads, GconvModulesAreSealedBeforeIconvOpenReturns) {
  Outcome plain = target({"iconv"}, GetParam(), true);
  ASSERT_EQ(plain.lines["iconv-works"], "yes") << plain.run.out << plain.run.err;
  ASSERT_TRUE(plain.lines["iconv"].starts_with("open ")) << plain.lines["iconv"] << ", without sealkit: " << plain.run.out;
  Outcome o = target({"iconv"}, GetParam());
  ASSERT_EQ(o.run.status, 0) << o.run.err;
  EXPECT_TRUE(o.lines["iconv"].starts_with("all-sealed ")) << o.lines["iconv"] << ", " << mode(GetParam()) << ": " << o.run.out << o.run.err;
  EXPECT_EQ(o.lines["iconv-works"], "yes") << o.run.out;
}

TEST_P(UnwrappedLoads, NssModulesAreSealedBeforeTheLookupReturns) {
  Outcome plain = target({"nss"}, GetParam(), true);
  ASSERT_EQ(plain.lines["nss-works"], "yes") << plain.run.out << plain.run.err;
  ASSERT_TRUE(plain.lines["nss"].starts_with("open ")) << plain.lines["nss"] << ", without sealkit: " << plain.run.out;
  Outcome o = target({"nss"}, GetParam());
  ASSERT_EQ(o.run.status, 0) << o.run.err;
  EXPECT_TRUE(o.lines["nss"].starts_with("all-sealed ")) << o.lines["nss"] << ", " << mode(GetParam()) << ": " << o.run.out << o.run.err;
  EXPECT_EQ(o.lines["nss-works"], "yes") << o.run.out;
}

// pthread_cancel, pthread_exit and backtrace each load libgcc_s first: it
// is sealed already while it unwinds (read in the thread's cleanup handler).
TEST_P(UnwrappedLoads, TheUnwinderIsSealedBeforeItFirstRuns) {
  for (const std::string command : {"cancel", "exit", "backtrace"}) {
    Outcome plain = target({command}, GetParam(), true);
    ASSERT_EQ(plain.lines[command + "-works"], "yes") << plain.run.out << plain.run.err;
    ASSERT_TRUE(plain.lines[command].starts_with("open ")) << plain.lines[command] << ", without sealkit: " << plain.run.out;
    Outcome o = target({command}, GetParam());
    ASSERT_EQ(o.run.status, 0) << command << ": " << o.run.err;
    EXPECT_TRUE(o.lines[command].starts_with("all-sealed ")) << o.lines[command]
        << command << ", " << ", " << mode(GetParam()) << ": " << o.run.out << o.run.err;
    EXPECT_EQ(o.lines[command + "-works"], "yes") << o.run.out;
  }
}

// A dlopen found by a lookup loads through this object's wrapper: sealed
// before it returns.
TEST_P(UnwrappedLoads, ADlopenFoundByALookupSealsWhatItLoads) {
  for (const std::string how : {"next", "vsym", "handle"}) {
    Outcome plain = target({how, DL_LIB}, GetParam(), true);
    ASSERT_EQ(plain.lines[how + "-works"], "yes") << how << ": " << plain.run.out << plain.run.err;
    ASSERT_TRUE(plain.lines[how].starts_with("open ")) << how << ", without sealkit: " << plain.run.out;
    Outcome o = target({how, DL_LIB}, GetParam());
    ASSERT_EQ(o.run.status, 0) << how << ": " << o.run.err;
    EXPECT_TRUE(o.lines[how].starts_with("all-sealed ")) << how << ", " << mode(GetParam()) << ": " << o.run.out
                                                          << o.run.err;
    EXPECT_EQ(o.lines[how + "-works"], "yes") << o.run.out;
  }
}

// An FFI calling libc's iconv_open through libc's handle (python's ctypes
// does) gets the wrapper: the module is sealed before the call returns.
TEST_P(UnwrappedLoads, LibcsOwnFunctionCalledThroughItsHandleIsWrappedToo) {
  Outcome plain = target({"ffi-iconv"}, GetParam(), true);
  ASSERT_EQ(plain.lines["ffi-iconv-works"], "yes") << plain.run.out << plain.run.err;
  ASSERT_TRUE(plain.lines["ffi-iconv"].starts_with("open ")) << "without sealkit: " << plain.run.out;
  Outcome o = target({"ffi-iconv"}, GetParam());
  ASSERT_EQ(o.run.status, 0) << o.run.err;
  EXPECT_TRUE(o.lines["ffi-iconv"].starts_with("all-sealed ")) << mode(GetParam()) << ": " << o.run.out << o.run.err;
  EXPECT_EQ(o.lines["ffi-iconv-works"], "yes") << o.run.out;
}

// A library of the program's that wraps dlopen and calls on through
// dlsym(RTLD_NEXT, "dlopen") sits between the preload object and libc: it
// gets libc's dlopen as its next, as without sealkit (the wrapper would
// loop), each call goes through it once, and what it loads is sealed.
TEST_P(UnwrappedLoads, AnotherDlopenWrapperBehindThePreloadObjectCallsOnToLibc) {
  Outcome plain = target({"interposed", DL_LIB}, GetParam(), true);
  ASSERT_EQ(plain.lines["interposed-works"], "yes") << plain.run.out << plain.run.err;
  ASSERT_EQ(plain.lines["interposer-calls"], "1") << plain.run.out;
  Outcome o = target({"interposed", DL_LIB}, GetParam());
  ASSERT_EQ(o.run.status, 0) << o.run.err;
  EXPECT_EQ(o.lines["interposer-calls"], "1") << mode(GetParam()) << ": " << o.run.out << o.run.err;
  EXPECT_TRUE(o.lines["interposed"].starts_with("all-sealed ")) << mode(GetParam()) << ": " << o.run.out;
  EXPECT_EQ(o.lines["interposed-works"], "yes") << o.run.out;
}

// An object the code of a dlmopen namespace loads through that namespace's
// own libc (no wrapper of the preload object's is there): sealed at the
// program's next wrapped call, here a lookup.
TEST_P(UnwrappedLoads, AnObjectLoadedInsideADlmopenNamespaceIsSealedAtTheNextWrappedCall) {
  Outcome plain = target({"namespace", NEXT_DLOPEN_LIB, DL_LIB}, GetParam(), true);
  ASSERT_EQ(plain.lines["namespace-works"], "yes") << plain.run.out << plain.run.err;
  ASSERT_TRUE(plain.lines["namespace"].starts_with("open ")) << "without sealkit: " << plain.run.out;
  Outcome o = target({"namespace", NEXT_DLOPEN_LIB, DL_LIB}, GetParam());
  ASSERT_EQ(o.run.status, 0) << o.run.err;
  EXPECT_TRUE(o.lines["namespace"].starts_with("all-sealed ")) << mode(GetParam()) << ": " << o.run.out << o.run.err;
  EXPECT_EQ(o.lines["namespace-works"], "yes") << o.run.out;
}

// A program that sandboxes itself with a seccomp filter after start-up: a
// wrapped call under it makes no system call that libc's own would not (a
// lookup asks nothing of the kernel; a pthread_exit or backtrace with the
// unwinder loaded at start-up opens no file), else the filter kills it.
TEST_P(UnwrappedLoads, WrappedCallsMakeNoSystemCallsOfTheirOwnUnderAProgramsSeccompFilter) {
  for (const std::string command : {"lookup", "exit", "backtrace"}) {
    Outcome plain = target({"sandboxed", command}, GetParam(), true);
    ASSERT_EQ(plain.run.status, 0) << command << ": " << plain.run.err;
    ASSERT_EQ(plain.lines[command + "-works"], "yes") << command << ", without sealkit: " << plain.run.out;
    Outcome o = target({"sandboxed", command}, GetParam());
    EXPECT_EQ(o.run.status, 0) << command << ", " << mode(GetParam()) << ": " << o.run.err;
    EXPECT_EQ(o.lines[command + "-works"], "yes") << command << ", " << mode(GetParam()) << ": " << o.run.out;
  }
}

// A dlopen that loads dependencies makes a pass over every namespace. The
// audit modules' namespaces (`sealkit run`'s own) are left alone: glibc's
// dlmopen into one fails with ld.so's load lock still taken, and the next
// lookup on another thread waited forever.
TEST_P(UnwrappedLoads, AnotherThreadsLookupAfterALoadWithDependenciesDoesNotWait) {
  // libstdc++ brings libm and libgcc_s: more than the one object of the quick pass.
  Outcome plain = target({"thread-lookup", "libstdc++.so.6"}, GetParam(), true);
  ASSERT_EQ(plain.lines["thread-lookup-works"], "yes") << plain.run.out << plain.run.err;
  Outcome o = target({"thread-lookup", "libstdc++.so.6"}, GetParam());
  EXPECT_EQ(o.run.status, 0) << mode(GetParam()) << ": " << o.run.err;
  EXPECT_EQ(o.lines["thread-lookup-works"], "yes") << mode(GetParam()) << ": " << o.run.out;
}

INSTANTIATE_TEST_SUITE_P(Deployments, UnwrappedLoads, ::testing::Bool(),
                         [](const ::testing::TestParamInfo<bool>& p) {
                           return std::string(p.param ? "SealkitRun" : "MachineWide");
                         });

}  // namespace
