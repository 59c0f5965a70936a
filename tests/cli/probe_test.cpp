// `sealkit probe` on this machine: the /proc/PID/mem facts against what the
// kernel does when this test itself writes through /proc/self/mem, and what
// /proc/cmdline says.
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fstream>
#include <sstream>
#include <string>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "runtime/subprocess.hpp"

namespace {

using sealkit::test::Captured;
using sealkit::test::run_captured;

// In a child: a read-only private page, then one byte written to it through
// /proc/self/mem. Exit 0: the byte changed; 1: the write was refused.
bool proc_mem_write_succeeds() {
  const pid_t pid = fork();
  if (pid == 0) {
    auto* p = static_cast<char*>(mmap(nullptr, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0));
    if (p == MAP_FAILED) _exit(2);
    p[0] = 'x';
    mprotect(p, 4096, PROT_READ);
    const int fd = open("/proc/self/mem", O_RDWR);
    const char y = 'y';
    _exit(fd >= 0 && pwrite(fd, &y, 1, reinterpret_cast<off_t>(p)) == 1 && p[0] == 'y' ? 0 : 1);
  }
  int status = 0;
  waitpid(pid, &status, 0);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) != 2) << status;
  return WIFEXITED(status) && WEXITSTATUS(status) == 0;
}

// proc_mem.force_override= from the kernel's own words, before init's "--".
std::string force_override_on_cmdline() {
  std::ifstream in("/proc/cmdline");
  std::string w;
  while (in >> w && w != "--") {
    if (w.rfind("proc_mem.force_override=", 0) == 0) return w.substr(w.find('=') + 1);
  }
  return "default";
}

TEST(SealkitProbe, SaysWhetherWritesThroughProcPidMemAreRefused) {
  Captured o = run_captured({SEALKIT_BIN, "probe", "--json"});
  ASSERT_TRUE(o.status == 0 || o.status == 1) << o.err;
  const auto facts = nlohmann::json::parse(o.out)["facts"];
  const auto& blocked = facts["proc_mem_writes_blocked"];
  ASSERT_TRUE(blocked["value"].is_boolean()) << blocked.dump();
  EXPECT_EQ(blocked["value"].get<bool>(), !proc_mem_write_succeeds()) << blocked.dump();
  if (!blocked["value"].get<bool>()) {
    EXPECT_NE(blocked["detail"].get<std::string>().find("proc_mem.force_override=never"), std::string::npos)
        << "says how to refuse them: " << blocked.dump();
  }
  EXPECT_EQ(facts["proc_mem_force_override"]["value"], force_override_on_cmdline()) << facts.dump();

  Captured table = run_captured({SEALKIT_BIN, "probe"});
  EXPECT_NE(table.out.find("writes through /proc/PID/mem refused"), std::string::npos) << table.out;
  EXPECT_NE(table.out.find("proc_mem.force_override"), std::string::npos) << table.out;
}

}  // namespace
