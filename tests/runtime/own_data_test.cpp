// Programs that change the protection of their own data after start-up (V8's
// frozen flags, Chromium's protected_memory; own_data.h) keep working sealed:
// the page-aligned writable sections that hold such data stay unsealed
// (core/mutable_sections.hpp), in the program, in a library it needs and in
// one it dlopens, in both deployments, while every other page is sealed,
// data that is not page-aligned included. `sealkit check` names the sections
// and counts the bytes left, and `sealkit audit` finds every page it asks
// for sealed: the runtime, check and audit apply one rule.
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <map>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "runtime/live_process.hpp"
#include "runtime/subprocess.hpp"

namespace {

using nlohmann::json;
using sealkit::test::Live;
using sealkit::test::smaps_of;
using sealkit::test::Vma;

struct TempReport {
  std::string path;
  TempReport() {
    char tmpl[] = "/tmp/sealkit-test-own-data-XXXXXX";
    const int fd = mkstemp(tmpl);
    if (fd >= 0) close(fd);
    path = tmpl;
  }
  TempReport(const TempReport&) = delete;
  TempReport& operator=(const TempReport&) = delete;
  ~TempReport() { unlink(path.c_str()); }
  std::map<std::string, std::string> read() const {
    std::map<std::string, std::string> m;
    std::ifstream in(path);
    std::string name, value;
    while (in >> name && std::getline(in >> std::ws, value)) m[name] = value;
    return m;
  }
};

const char* const kObjects[] = {"main", "needed", "dlopened"};

// argv and environment for `deployment`: "run" (sealkit run), "machine-wide"
// (the preload object alone, as /etc/ld.so.preload loads it) or "none".
void command_for(const std::string& deployment, const std::string& target, const std::string& dl,
                 const std::string& preload, const TempReport& report, bool wait, std::vector<std::string>& argv,
                 std::vector<std::string>& env) {
  if (deployment == "run") argv = {SEALKIT_BIN, "run", "--"};
  if (deployment == "machine-wide") env.push_back("LD_PRELOAD=" + preload);
  argv.insert(argv.end(), {target, report.path, dl});
  if (wait) argv.push_back("--wait");
}

TEST(OwnData, WithoutSealkitEveryChangeSucceeds) {
  TempReport report;
  std::vector<std::string> argv, env;
  command_for("none", OWN_DATA_TARGET, OWN_DATA_DL, SEALKIT_PRELOAD, report, false, argv, env);
  const auto c = sealkit::test::run_captured(argv, env);
  ASSERT_EQ(c.status, 0) << c.err;
  const auto r = report.read();
  for (const char* o : kObjects) {
    EXPECT_EQ(r.at(std::string(o) + "_frozen"), "ok") << o;
    EXPECT_EQ(r.at(std::string(o) + "_toggled"), "ok") << o;
    EXPECT_EQ(r.at(std::string(o) + "_ordinary"), "ok") << o;
  }
}

json check_json(const std::string& file) {
  const auto c = sealkit::test::run_captured({SEALKIT_BIN, "check", "--json", file});
  EXPECT_EQ(c.status, 0) << c.err;
  return json::parse(c.out).at("files").at(0);
}

class OwnDataSealed : public ::testing::TestWithParam<std::string> {};

TEST_P(OwnDataSealed, PageAlignedDataStaysChangeableAndEverythingElseIsSealed) {
  TempReport report, log;
  std::vector<std::string> argv, env;
  command_for(GetParam(), OWN_DATA_TARGET, OWN_DATA_DL, SEALKIT_PRELOAD, report, true, argv, env);
  env.push_back("SEALKIT_LOG=" + log.path);
  Live l;
  std::string why;
  ASSERT_TRUE(sealkit::test::start_live(l, argv, env, why)) << why;

  // What the program could do to its own data.
  const auto r = report.read();
  for (const char* o : kObjects) {
    SCOPED_TRACE(o);
    EXPECT_EQ(r.at(std::string(o) + "_frozen"), "ok") << "a page-aligned variable in .data, frozen read-only";
    EXPECT_EQ(r.at(std::string(o) + "_toggled"), "ok") << "a page-aligned section, read-only, writable, read-only";
    EXPECT_EQ(r.at(std::string(o) + "_ordinary"), "EPERM") << "data that is not page-aligned is sealed";
  }

  // What stays unsealed of each object is writable data, as much as
  // `sealkit check` says: never text, read-only data or RELRO.
  for (const std::string file : {OWN_DATA_TARGET, OWN_DATA_NEEDED, OWN_DATA_DL}) {
    SCOPED_TRACE(file);
    std::uint64_t open_bytes = 0;
    std::size_t sealed = 0;
    for (const Vma& v : smaps_of(l.pid)) {
      if (v.path != file) continue;
      if (v.sealed) {
        ++sealed;
        continue;
      }
      open_bytes += v.end - v.begin;
      EXPECT_NE(v.perms[2], 'x') << "no text is left unsealed: " << v.range() << " " << v.perms;
    }
    EXPECT_GE(sealed, 3u) << "text, read-only data, RELRO";
    const json c = check_json(file);
    std::vector<std::string> names;
    for (const json& m : c.at("mutable_sections")) names.push_back(m.at("name"));
    EXPECT_EQ(names, (std::vector<std::string>{".data", "own_data_protected"})) << c;
    EXPECT_EQ(open_bytes, c.at("run_leaves_bytes").get<std::uint64_t>()) << c;
    EXPECT_NE(c.at("run").get<std::string>().find("seals all but .data, own_data_protected"), std::string::npos) << c;
  }

  // The start-up line counts the objects that kept pages: the program and the library it needs.
  std::ifstream in(log.path);
  std::string line;
  json startup;
  while (std::getline(in, line))
    if (line.find("\"phase\":\"startup\"") != std::string::npos) startup = json::parse(line);
  ASSERT_FALSE(startup.is_null()) << "no start-up log line";
  EXPECT_EQ(startup.at("objects_with_mutable_sections"), 2) << startup;
  EXPECT_EQ(startup.at("mseal_failures"), 0) << startup;

  // The audit asks for no page the runtime left: every asked-for byte is sealed.
  const auto a = sealkit::test::run_captured({SEALKIT_BIN, "audit", "--json", std::to_string(l.pid)});
  ASSERT_EQ(a.status, 0) << a.err;
  const json p = json::parse(a.out).at("processes").at(0);
  EXPECT_EQ(p.at("sealed_should_bytes"), p.at("should_bytes")) << p;
  EXPECT_EQ(p.at("objects_fully_sealed"), p.at("objects")) << p;
}

INSTANTIATE_TEST_SUITE_P(Deployments, OwnDataSealed, ::testing::Values("run", "machine-wide"),
                         [](const ::testing::TestParamInfo<std::string>& i) {
                           return i.param == "run" ? std::string("SealkitRun") : std::string("MachineWide");
                         });

#ifdef OWN_DATA_TARGET_I386
// The 32-bit runtime reads Elf32 section tables.
TEST(OwnDataI386, PageAlignedDataStaysChangeableUnderBothDeployments) {
  std::string why;
  if (!sealkit::test::kernel_executes(OWN_DATA_TARGET_I386, why)) GTEST_SKIP() << why;
  for (const std::string deployment : {"run", "machine-wide"}) {
    SCOPED_TRACE(deployment);
    TempReport report;
    std::vector<std::string> argv, env;
    command_for(deployment, OWN_DATA_TARGET_I386, OWN_DATA_DL_I386, SEALKIT_PRELOAD_I386, report, false, argv, env);
    const auto c = sealkit::test::run_captured(argv, env);
    ASSERT_EQ(c.status, 0) << c.err;
    const auto r = report.read();
    for (const char* o : kObjects) {
      SCOPED_TRACE(o);
      EXPECT_EQ(r.at(std::string(o) + "_frozen"), "ok");
      EXPECT_EQ(r.at(std::string(o) + "_toggled"), "ok");
      EXPECT_EQ(r.at(std::string(o) + "_ordinary"), "EPERM");
    }
  }
}
#endif

}  // namespace
