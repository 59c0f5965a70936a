// audit::scan_smaps_fast must read exactly what core::for_each_smaps_entry
// reads from the kernel's text, and refuse anything else.
#include "audit/smaps_scan.hpp"

#include <dirent.h>
#include <gtest/gtest.h>

#include <cstdlib>
#include <string>
#include <vector>

#include "core/proc_maps.hpp"

using namespace sealkit::core;
using namespace sealkit::audit;

namespace {

struct Seen {
  Range range;
  std::string path;
  bool sealed;
  bool operator==(const Seen&) const = default;
};

std::optional<std::vector<Seen>> fast(std::string_view text) {
  std::vector<Seen> out;
  bool ok = scan_smaps_fast(text, [&](const MapsEntry& m, bool sealed) {
    out.push_back({m.range, std::string(m.path), sealed});
  });
  if (!ok) return std::nullopt;
  return out;
}

std::vector<Seen> careful(std::string_view text) {
  std::vector<Seen> out;
  for_each_smaps_entry(text, [&](const SmapsEntry& e) {
    out.push_back({e.map.range, std::string(e.map.path), e.sealed});
    return true;
  });
  return out;
}

}  // namespace

// Every process of this machine: the same entries, paths and seals.
TEST(SmapsScan, AgreesWithTheCarefulParserOnEveryProcess) {
  DIR* d = opendir("/proc");
  ASSERT_NE(d, nullptr);
  std::size_t compared = 0;
  while (const dirent* e = readdir(d)) {
    char* end = nullptr;
    long pid = std::strtol(e->d_name, &end, 10);
    if (end == e->d_name || *end != '\0' || pid <= 0) continue;
    auto text = read_proc_file(("/proc/" + std::string(e->d_name) + "/smaps").c_str());
    if (!text || text->empty()) continue;  // gone, denied, or a kernel thread
    auto got = fast(*text);
    ASSERT_TRUE(got) << "pid " << pid << ": the kernel's own text was refused";
    EXPECT_EQ(*got, careful(*text)) << "pid " << pid;
    ++compared;
  }
  closedir(d);
  EXPECT_GT(compared, 0u);
}

TEST(SmapsScan, TricksInPathsAndFlags) {
  const std::string text =
      "10000-11000 r--p 00000000 fe:00 12 /tmp/VmFlags: sl\n"
      "Size:                  4 kB\n"
      "VmFlags: rd mr mw me sl \n"
      "20000-21000 rw-p 00000000 00:00 0 \n"
      "Rss:                   4 kB\n"
      "VmFlags: rd wr mr mw me slx \n"
      "30000-31000 rw-p 00000000 00:00 0\n"
      "VmFlags: sl";
  auto got = fast(text);
  ASSERT_TRUE(got);
  EXPECT_EQ(*got, careful(text));
  ASSERT_EQ(got->size(), 3u);
  EXPECT_TRUE((*got)[0].sealed);
  EXPECT_FALSE((*got)[1].sealed);
  EXPECT_TRUE((*got)[2].sealed);
}

TEST(SmapsScan, RefusesWhatIsNotTheKernelsLayout) {
  // An entry without VmFlags: its neighbour's must not be taken for its own.
  EXPECT_FALSE(fast("10000-11000 rw-p 00000000 00:00 0\nRss: 4 kB\n"
                    "20000-21000 rw-p 00000000 00:00 0\nRss: 4 kB\nVmFlags: rd sl \n"));
  EXPECT_FALSE(fast("10000-11000 rw-p 00000000 00:00 0\n"));               // no fields
  EXPECT_FALSE(fast("10000-11000 rw-p 00000000 00:00 0\nrss: 1\nVmFlags: sl \n"));  // not a field line
  EXPECT_FALSE(fast("garbage\nVmFlags: sl \n"));
  EXPECT_FALSE(fast("10000-11000 rw-p 00000000 00:00 0\nSize: 4 kB\nXVmFlags: sl \n"));
  // A maps line may start with a capital hex digit; the careful parser takes it for one, so must this.
  EXPECT_FALSE(fast("10000-11000 rw-p 00000000 00:00 0\nSize: 4 kB\n"
                    "ABC000-ABD000 rw-p 00000000 00:00 0\nVmFlags: sl \n"));
  EXPECT_TRUE(fast("10000-11000 rw-p 00000000 00:00 0\nAnonymous: 0 kB\nFilePmdMapped: 0 kB\nVmFlags: sl \n"));
  EXPECT_TRUE(fast(""));
}
