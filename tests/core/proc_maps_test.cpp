#include "core/proc_maps.hpp"

#include <sys/mman.h>

#include <gtest/gtest.h>

#include <vector>

using namespace sealkit::core;

TEST(ProcMaps, ParsesLineWithPath) {
  auto e = parse_maps_line("7f0000001000-7f0000003000 r-xp 00002000 fd:01 123456   /usr/lib/libc.so.6");
  ASSERT_TRUE(e);
  EXPECT_EQ(e->range.begin, 0x7f0000001000u);
  EXPECT_EQ(e->range.end, 0x7f0000003000u);
  EXPECT_TRUE(e->read);
  EXPECT_FALSE(e->write);
  EXPECT_TRUE(e->exec);
  EXPECT_FALSE(e->shared);
  EXPECT_EQ(e->offset, 0x2000u);
  EXPECT_EQ(e->dev_major, 0xfdu);
  EXPECT_EQ(e->dev_minor, 1u);
  EXPECT_EQ(e->inode, 123456u);
  EXPECT_EQ(e->path, "/usr/lib/libc.so.6");
}

TEST(ProcMaps, PathMayHoldSpacesAndColons) {
  auto e = parse_maps_line("1000-2000 rw-s 00000000 00:05 7 /dev/shm/a b: c (deleted)");
  ASSERT_TRUE(e);
  EXPECT_TRUE(e->shared);
  EXPECT_EQ(e->path, "/dev/shm/a b: c (deleted)");
}

TEST(ProcMaps, RejectsMalformedLines) {
  EXPECT_FALSE(parse_maps_line(""));
  EXPECT_FALSE(parse_maps_line("2000-1000 r--p 00000000 00:00 0"));             // end before start
  EXPECT_FALSE(parse_maps_line("1000-2000 rwzp 00000000 00:00 0"));             // bad permission
  EXPECT_FALSE(parse_maps_line("1000-2000 r--p 00000000 00:00"));               // no inode
  EXPECT_FALSE(parse_maps_line("11112222333344445-2000 r--p 00000000 00:00 0"));  // 17 hex digits
  EXPECT_FALSE(parse_maps_line("1000-2000 r--p 00000000 00:00 99999999999999999999999"));  // overflow
}

TEST(ProcMaps, SmapsEntriesCarrySealFlag) {
  const char* text =
      "1000-2000 r--p 00000000 00:00 0 \n"
      "Size:                  4 kB\n"
      "Rss:                   4 kB\n"
      "VmFlags: rd mr mw me ac sl \n"
      "2000-3000 rw-p 00000000 00:00 0 \n"
      "Rss:                   0 kB\n"
      "VmFlags: rd wr mr mw me ac \n"
      "3000-4000 rw-p 00000000 00:00 0 [heap]\n"
      "garbage line\n";
  std::vector<SmapsEntry> got;
  auto st = for_each_smaps_entry(text, [&](const SmapsEntry& e) {
    got.push_back(e);
    return true;
  });
  ASSERT_EQ(got.size(), 3u);
  EXPECT_EQ(st.entries, 3u);
  EXPECT_EQ(st.bad_lines, 1u);
  EXPECT_TRUE(got[0].sealed);
  EXPECT_EQ(got[0].rss_kb, 4u);
  EXPECT_FALSE(got[1].sealed);
  EXPECT_TRUE(got[1].has_vmflags);
  EXPECT_FALSE(got[2].has_vmflags);  // torn entry: sealing state unknown
  EXPECT_EQ(got[2].map.path, "[heap]");
}

TEST(ProcMaps, ReadsOwnMaps) {
  auto text = read_proc_file("/proc/self/maps");
  ASSERT_TRUE(text);
  std::size_t n = 0;
  auto st = for_each_maps_entry(*text, [&](const MapsEntry&) {
    ++n;
    return true;
  });
  EXPECT_GT(n, 5u);
  EXPECT_EQ(st.bad_lines, 0u);
}

// The chunked reader sees the same entries as the whole text, across chunk
// boundaries (a region of 1200 VMAs makes the text far longer than a chunk),
// and stops reading when told to: the rest of the file is not read.
TEST(ProcMaps, ScansMapsFileInChunksAndStopsEarly) {
  constexpr std::size_t kPages = 1200, kPage = 4096;
  auto* region = static_cast<char*>(::mmap(nullptr, kPages * kPage, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0));
  ASSERT_NE(region, MAP_FAILED);
  for (std::size_t i = 0; i < kPages; i += 2) ASSERT_EQ(::mprotect(region + i * kPage, kPage, PROT_NONE), 0);
  const auto begin = reinterpret_cast<std::uintptr_t>(region), end = begin + kPages * kPage;
  auto in_region = [&](const MapsEntry& m) { return m.range.begin >= begin && m.range.end <= end; };

  std::vector<Range> whole, scanned;
  auto text = read_proc_file("/proc/self/maps");
  ASSERT_TRUE(text);
  for_each_maps_entry(*text, [&](const MapsEntry& m) {
    if (in_region(m)) whole.push_back(m.range);
    return true;
  });
  std::size_t all_bytes = 0;
  ASSERT_TRUE(scan_maps_file("/proc/self/maps", [&](const MapsEntry& m) {
    if (in_region(m)) scanned.push_back(m.range);
    return true;
  }, &all_bytes));
  EXPECT_EQ(whole.size(), kPages);
  ASSERT_EQ(scanned.size(), whole.size());
  for (std::size_t i = 0; i < whole.size(); ++i) EXPECT_TRUE(scanned[i] == whole[i]) << i;
  EXPECT_GT(all_bytes, std::size_t{4096 + 8192 + 16384}) << "the text spans several reads";

  std::size_t entries = 0, first_bytes = 0;
  ASSERT_TRUE(scan_maps_file("/proc/self/maps", [&](const MapsEntry&) { return ++entries < 1; }, &first_bytes));
  EXPECT_EQ(entries, 1u);
  EXPECT_LT(first_bytes, all_bytes / 2) << "stopped after the first chunk";
  EXPECT_FALSE(scan_maps_file("/proc/self/no-such-file", [](const MapsEntry&) { return true; }));
  ::munmap(region, kPages * kPage);
}
