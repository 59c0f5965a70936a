// audit::read_elf_file against readelf (binutils, an independent reader) on
// real files of this machine, and on malformed and hostile inputs.
#include "audit/elf_file.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <memory>
#include <random>
#include <sstream>
#include <string>
#include <vector>

namespace fs = std::filesystem;
using sealkit::audit::ElfFacts;

namespace {

std::string command_output(const std::string& cmd) {
  std::string out;
  std::unique_ptr<FILE, int (*)(FILE*)> p(popen(cmd.c_str(), "r"), pclose);
  if (!p) return out;
  std::array<char, 4096> buf;
  std::size_t n;
  while ((n = std::fread(buf.data(), 1, buf.size(), p.get())) > 0) out.append(buf.data(), n);
  return out;
}

bool is_elf(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  char m[4] = {};
  in.read(m, 4);
  return in && m[0] == 0x7f && m[1] == 'E' && m[2] == 'L' && m[3] == 'F';
}

// A deterministic sample: every 7th ELF file of /usr/bin in name order.
std::vector<fs::path> sample_of_usr_bin() {
  std::vector<fs::path> all;
  for (const auto& e : fs::directory_iterator("/usr/bin")) {
    if (e.is_regular_file() && !e.is_symlink() && is_elf(e.path())) all.push_back(e.path());
  }
  std::sort(all.begin(), all.end());
  std::vector<fs::path> sample;
  for (std::size_t i = 0; i < all.size(); i += 7) sample.push_back(all[i]);
  return sample;
}

std::vector<char> read_all(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

}  // namespace

TEST(ElfFile, RelroPieAndBindNowAgreeWithReadelf) {
  if (command_output("command -v readelf").empty()) GTEST_SKIP() << "readelf (binutils) is not installed";
  auto sample = sample_of_usr_bin();
  ASSERT_GE(sample.size(), 20u) << "too few ELF files in /usr/bin for a meaningful sample";
  std::size_t pies = 0, full = 0, partial = 0;
  for (const fs::path& p : sample) {
    std::string err;
    auto f = sealkit::audit::read_elf_file(p.c_str(), err);
    ASSERT_TRUE(f) << p << ": " << err;
    const std::string hdr = command_output("readelf -hW '" + p.string() + "' 2>/dev/null");
    const std::string seg = command_output("readelf -lW '" + p.string() + "' 2>/dev/null");
    const std::string dyn = command_output("readelf -dW '" + p.string() + "' 2>/dev/null");
    const bool readelf_pie = hdr.find("DYN (Position-Independent Executable file)") != std::string::npos;
    const bool readelf_relro = seg.find("GNU_RELRO") != std::string::npos;
    bool readelf_now = false;
    std::istringstream lines(dyn);
    for (std::string line; std::getline(lines, line);) {
      const bool flags = line.find("(FLAGS)") != std::string::npos || line.find("(FLAGS_1)") != std::string::npos;
      if (line.find("(BIND_NOW)") != std::string::npos || (flags && (line + " ").find(" NOW ") != std::string::npos))
        readelf_now = true;
    }
    EXPECT_EQ(f->kind == ElfFacts::Kind::kPie, readelf_pie) << p;
    EXPECT_EQ(f->bind_now, readelf_now) << p;
    const ElfFacts::Relro want =
        !readelf_relro ? ElfFacts::Relro::kNone : (readelf_now ? ElfFacts::Relro::kFull : ElfFacts::Relro::kPartial);
    EXPECT_EQ(f->relro, want) << p;
    pies += f->kind == ElfFacts::Kind::kPie;
    full += f->relro == ElfFacts::Relro::kFull;
    partial += f->relro == ElfFacts::Relro::kPartial;
  }
  // The sample must exercise both answers, or agreement proves little.
  EXPECT_GT(pies, 0u);
  EXPECT_GT(full, 0u);
  EXPECT_GT(partial, 0u);
}

TEST(ElfFile, NonElfAndArchivesAreErrorsNotCrashes) {
  std::string err;
  EXPECT_FALSE(sealkit::audit::read_elf_file("/etc/passwd", err));
  EXPECT_EQ(err, "not an ELF file");
  EXPECT_FALSE(sealkit::audit::read_elf_file("/nonexistent/file", err));
  EXPECT_EQ(err, "No such file or directory");
  if (fs::exists("/usr/lib/x86_64-linux-gnu/libc.a")) {
    EXPECT_FALSE(sealkit::audit::read_elf_file("/usr/lib/x86_64-linux-gnu/libc.a", err));
    EXPECT_NE(err.find("ar archive"), std::string::npos) << err;
  }
}

// Every prefix length of a real executable's first pages: a clean answer or
// a clean error, never a crash (ASan runs this too).
TEST(ElfFile, TruncatedFilesGiveErrorsOrReports) {
  std::vector<char> bytes = read_all("/usr/bin/true");
  ASSERT_GT(bytes.size(), 4096u);
  std::size_t errors = 0;
  for (std::size_t len = 0; len <= 4096; len += 13) {
    std::string err;
    auto f = sealkit::audit::read_elf_bytes(bytes.data(), len, err);
    if (!f) {
      EXPECT_FALSE(err.empty()) << len;
      ++errors;
    }
  }
  EXPECT_GT(errors, 0u) << "a 0-byte or 13-byte ELF cannot be read";
}

TEST(ElfFile, HostileHeadersGiveErrors) {
  std::vector<char> bytes = read_all("/usr/bin/true");
  ASSERT_GT(bytes.size(), 64u);
  auto with = [&](std::size_t off, std::vector<unsigned char> patch) {
    std::vector<char> b = bytes;
    std::copy(patch.begin(), patch.end(), b.begin() + static_cast<long>(off));
    std::string err;
    auto f = sealkit::audit::read_elf_bytes(b.data(), b.size(), err);
    return std::make_pair(f.has_value(), err);
  };
  // e_phoff (offset 32) far past the end of the file.
  auto r1 = with(32, {0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f});
  EXPECT_FALSE(r1.first);
  EXPECT_FALSE(r1.second.empty());
  // e_phnum (offset 56) at its maximum.
  auto r2 = with(56, {0xfe, 0xff});
  EXPECT_FALSE(r2.first);
  // Random bytes after a valid ELF magic: no crash, whatever the answer.
  std::mt19937 rng(42);
  for (int i = 0; i < 200; ++i) {
    std::vector<char> b = bytes;
    b.resize(2048);
    for (std::size_t k = 16; k < b.size(); ++k) b[k] = static_cast<char>(rng());
    std::string err;
    auto f = sealkit::audit::read_elf_bytes(b.data(), b.size(), err);
    EXPECT_TRUE(f || !err.empty());
  }
}

TEST(ElfFile, StaticAndDynamicProgramsAreTold) {
  std::string err;
  auto dyn = sealkit::audit::read_elf_file("/usr/bin/true", err);
  ASSERT_TRUE(dyn) << err;
  EXPECT_TRUE(dyn->has_interp);
  EXPECT_GT(dyn->load_segments, 1u);
  EXPECT_GT(dyn->load_span_bytes, 0u);
  EXPECT_EQ(dyn->load_span_bytes % 4096, 0u);
  auto lib = sealkit::audit::read_elf_file("/usr/lib/x86_64-linux-gnu/libc.so.6", err);
  ASSERT_TRUE(lib) << err;
  EXPECT_EQ(lib->kind, ElfFacts::Kind::kSharedObject);
  EXPECT_EQ(lib->exec_stack, ElfFacts::ExecStack::kNo);
  EXPECT_EQ(lib->wx_segments, 0u);
}
