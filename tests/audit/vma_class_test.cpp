// audit::classify_smaps on smaps texts written here (each case states the
// layout it models), and audit::audit_process on live processes.
#include "audit/process_audit.hpp"

#include <gtest/gtest.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cinttypes>
#include <cstdio>
#include <memory>
#include <string>

#include "backend/seccomp/filter.hpp"
#include "audit/elf_file.hpp"
#include "audit/filter_seals.hpp"
#include "sealkit/sealkit.h"

using namespace sealkit::core;
using namespace sealkit::audit;

namespace {

constexpr std::uint64_t kLibInode = 4242;

// One smaps entry: the header line, an Rss field and VmFlags.
std::string entry(std::uintptr_t b, std::uintptr_t e, const char* perms, std::uint64_t off, std::uint64_t inode,
                  const std::string& path, bool sealed) {
  char head[256];
  std::snprintf(head, sizeof head, "%" PRIxPTR "-%" PRIxPTR " %s %08" PRIx64 " %s %" PRIu64, b, e, perms, off,
                inode ? "fe:00" : "00:00", inode);
  std::string s = head;
  if (!path.empty()) s += std::string(26, ' ') + path;
  s += "\nSize:                  4 kB\nRss:                   4 kB\nVmFlags: rd mr mw me";
  s += sealed ? " sl\n" : "\n";
  return s;
}

// A typical shared object as ld.so maps it at 0x7f0000000000: rodata page at
// offset 0, text, rodata, RELRO then data in one rw segment, bss past the file.
ElfLayout lib_layout() {
  ElfLayout l;
  l.loads = {{0x0, 0x1000}, {0x1000, 0x3000}, {0x3000, 0x4000}, {0x4000, 0x7000}};
  l.relro = {0x4000, 0x5000};
  l.offset0_vaddr = 0;
  return l;
}

ElfLookupFn lookup_returning(ElfLookup::Kind kind, std::optional<ElfLayout> layout = std::nullopt) {
  std::shared_ptr<const ElfLayout> shared;
  if (layout) shared = std::make_shared<const ElfLayout>(*layout);
  return [kind, shared](const MapsEntry& m) {
    ElfLookup r;
    if (m.inode != kLibInode) {
      r.kind = ElfLookup::Kind::kNotElf;
      return r;
    }
    r.kind = kind;
    r.layout = shared;
    return r;
  };
}

constexpr std::uintptr_t kBase = 0x7f0000000000;

std::string lib_smaps(bool seal_data) {
  const std::string lib = "/usr/lib/libdemo.so";
  return entry(kBase + 0x0000, kBase + 0x1000, "r--p", 0x0000, kLibInode, lib, true) +
         entry(kBase + 0x1000, kBase + 0x3000, "r-xp", 0x1000, kLibInode, lib, true) +
         entry(kBase + 0x3000, kBase + 0x4000, "r--p", 0x3000, kLibInode, lib, true) +
         entry(kBase + 0x4000, kBase + 0x5000, "r--p", 0x4000, kLibInode, lib, true) +
         entry(kBase + 0x5000, kBase + 0x6000, "rw-p", 0x5000, kLibInode, lib, seal_data) +
         entry(kBase + 0x6000, kBase + 0x7000, "rw-p", 0, 0, "", true);
}

const VmaRecord& at(const ProcessAudit& a, std::uintptr_t addr) {
  for (const VmaRecord& v : a.vmas)
    if (v.map.range.contains(addr)) return v;
  ADD_FAILURE() << "no VMA at " << std::hex << addr;
  static VmaRecord none;
  return none;
}

}  // namespace

TEST(VmaClass, SharedObjectPartsAreNamedAndAllShouldBeSealed) {
  ProcessAudit a = classify_smaps(lib_smaps(false), lookup_returning(ElfLookup::Kind::kElf, lib_layout()));
  ASSERT_EQ(a.status, AuditStatus::kOk);
  ASSERT_EQ(a.vmas.size(), 6u);
  ASSERT_EQ(a.objects.size(), 1u);
  EXPECT_TRUE(a.objects[0].verified);
  EXPECT_EQ(a.objects[0].path, "/usr/lib/libdemo.so");
  EXPECT_EQ(a.objects[0].span, (Range{kBase, kBase + 0x7000}));
  const VmaClass want[] = {VmaClass::kElfRodata, VmaClass::kElfText, VmaClass::kElfRodata,
                           VmaClass::kElfRelro,  VmaClass::kElfData, VmaClass::kElfBss};
  for (std::size_t i = 0; i < 6; ++i) {
    SCOPED_TRACE(i);
    EXPECT_EQ(a.vmas[i].cls, want[i]);
    EXPECT_EQ(a.vmas[i].object, 0);
    EXPECT_EQ(a.vmas[i].should_seal_bytes, a.vmas[i].map.range.size());
  }
  EXPECT_EQ(a.vmas[4].verdict(), Verdict::kUnsealed);
  EXPECT_EQ(a.vmas[5].verdict(), Verdict::kSealed);
  EXPECT_EQ(a.total.should_vmas, 6u);
  EXPECT_EQ(a.total.sealed_should_vmas, 5u);
  EXPECT_EQ(a.total.should_bytes, 0x7000u);
  EXPECT_EQ(a.total.sealed_should_bytes, 0x6000u);
  EXPECT_DOUBLE_EQ(*a.total.coverage_bytes(), 6.0 / 7.0);
  EXPECT_DOUBLE_EQ(*a.total.coverage_vmas(), 5.0 / 6.0);
  EXPECT_EQ(a.by_class[static_cast<std::size_t>(VmaClass::kElfData)].should_vmas, 1u);
  EXPECT_EQ(a.by_class[static_cast<std::size_t>(VmaClass::kElfData)].sealed_should_vmas, 0u);
  EXPECT_FALSE(a.objects[0].fully_sealed());

  ProcessAudit sealed = classify_smaps(lib_smaps(true), lookup_returning(ElfLookup::Kind::kElf, lib_layout()));
  EXPECT_TRUE(sealed.objects[0].fully_sealed());
  EXPECT_DOUBLE_EQ(*sealed.total.coverage_bytes(), 1.0);
}

TEST(VmaClass, KernelAndProcessMappingsByName) {
  std::string text = entry(0x10000, 0x11000, "rw-p", 0, 0, "[heap]", false) +
                     entry(0x20000, 0x21000, "---p", 0, 0, "", false) +   // guard
                     entry(0x21000, 0x29000, "rw-p", 0, 0, "", false) +   // thread stack above it
                     entry(0x30000, 0x38000, "rw-p", 0, 0, "", false) +   // malloc arena: usable part first
                     entry(0x38000, 0x40000, "---p", 0, 0, "", false) +   // ... its reserve above
                     entry(0x50000, 0x51000, "rw-s", 0, 77, "/dev/shm/ring", false) +
                     entry(0x52000, 0x53000, "rw-s", 0, 78, "/memfd:jit (deleted)", false) +
                     entry(0x54000, 0x55000, "r--p", 0, 79, "/usr/share/zoneinfo/UTC", false) +
                     entry(0x56000, 0x57000, "rw-p", 0, 0, "[anon:arena]", true) +
                     entry(0x7ffd0000, 0x7ffd1000, "rw-p", 0, 0, "[stack]", true) +
                     entry(0x7ffe0000, 0x7ffe1000, "r--p", 0, 0, "[vvar]", false) +
                     entry(0x7ffe1000, 0x7ffe2000, "r--p", 0, 0, "[vvar_vclock]", false) +
                     entry(0x7ffe2000, 0x7ffe3000, "r-xp", 0, 0, "[vdso]", false) +
                     // an address sanitizer's shadow gap (PROT_NONE) and high shadow above it: no thread stack
                     entry(0x100000000000, 0x200000000000, "---p", 0, 0, "", false) +
                     entry(0x200000000000, 0x300000000000, "rw-p", 0, 0, "", false) +
                     entry(0xffffffffff600000, 0xffffffffff601000, "--xp", 0, 0, "[vsyscall]", false);
  ProcessAudit a = classify_smaps(text, lookup_returning(ElfLookup::Kind::kNotElf));
  ASSERT_EQ(a.status, AuditStatus::kOk);
  EXPECT_EQ(at(a, 0x10000).cls, VmaClass::kHeap);
  EXPECT_EQ(at(a, 0x20000).cls, VmaClass::kAnon);
  EXPECT_EQ(at(a, 0x21000).cls, VmaClass::kThreadStack);
  EXPECT_EQ(at(a, 0x30000).cls, VmaClass::kAnon);
  EXPECT_EQ(at(a, 0x50000).cls, VmaClass::kShm);
  EXPECT_EQ(at(a, 0x52000).cls, VmaClass::kShm);
  EXPECT_EQ(at(a, 0x54000).cls, VmaClass::kFile);
  EXPECT_EQ(at(a, 0x56000).cls, VmaClass::kAnon);
  EXPECT_EQ(at(a, 0x200000000000).cls, VmaClass::kAnon) << "16 TiB above a 16 TiB guard is no thread stack";
  EXPECT_EQ(at(a, 0x7ffd0000).cls, VmaClass::kStack);
  EXPECT_EQ(at(a, 0x7ffe0000).cls, VmaClass::kVvar);
  EXPECT_EQ(at(a, 0x7ffe1000).cls, VmaClass::kVvarVclock);
  EXPECT_EQ(at(a, 0x7ffe2000).cls, VmaClass::kVdso);
  EXPECT_EQ(at(a, 0xffffffffff600000).cls, VmaClass::kSpecial);
  // Only the four kernel-made mappings are asked for; a sealed arena still counts as sealed.
  EXPECT_EQ(a.total.should_vmas, 4u);
  EXPECT_EQ(a.total.sealed_should_vmas, 1u);
  EXPECT_EQ(at(a, 0x56000).verdict(), Verdict::kSealed);
  EXPECT_EQ(at(a, 0x10000).verdict(), Verdict::kNotApplicable);
  EXPECT_EQ(at(a, 0x7ffe2000).verdict(), Verdict::kUnsealed);
  EXPECT_EQ(a.total.sealed_vmas, 2u);
  EXPECT_TRUE(a.objects.empty());
}

// ld.so reserves the whole span and leaves PROT_NONE file VMAs between
// segments: sealed with the object. Anonymous memory someone mapped into a
// hole between segments is not the object's.
TEST(VmaClass, OwnGapIsTheObjectsForeignMemoryIsNot) {
  ElfLayout l;
  l.loads = {{0x0, 0x2000}, {0x10000, 0x12000}};
  const std::string lib = "/usr/lib/libgap.so";
  std::string text = entry(kBase, kBase + 0x2000, "r-xp", 0, kLibInode, lib, false) +
                     entry(kBase + 0x2000, kBase + 0x8000, "---p", 0x2000, kLibInode, lib, false) +
                     entry(kBase + 0x8000, kBase + 0x9000, "rw-p", 0, 0, "", false) +
                     entry(kBase + 0x10000, kBase + 0x12000, "rw-p", 0x10000, kLibInode, lib, false);
  ProcessAudit a = classify_smaps(text, lookup_returning(ElfLookup::Kind::kElf, l));
  ASSERT_EQ(a.status, AuditStatus::kOk);
  EXPECT_EQ(at(a, kBase + 0x2000).cls, VmaClass::kElfGap);
  EXPECT_EQ(at(a, kBase + 0x2000).should_seal_bytes, 0x6000u);
  EXPECT_EQ(at(a, kBase + 0x8000).cls, VmaClass::kAnon);
  EXPECT_EQ(at(a, kBase + 0x8000).object, -1);
  EXPECT_FALSE(at(a, kBase + 0x8000).should_seal());
  EXPECT_EQ(at(a, kBase + 0x10000).cls, VmaClass::kElfData);
}

// PT_GNU_MUTABLE: the pages the object asks to keep are not counted as
// should-be-sealed, even when they share a VMA with sealed-wanted pages.
TEST(VmaClass, GnuMutablePagesAreNotAskedFor) {
  ElfLayout l = lib_layout();
  l.mutables = {{0x5000, 0x6000}};
  ProcessAudit a = classify_smaps(lib_smaps(false), lookup_returning(ElfLookup::Kind::kElf, l));
  ASSERT_EQ(a.status, AuditStatus::kOk);
  EXPECT_EQ(at(a, kBase + 0x5000).cls, VmaClass::kElfData);
  EXPECT_EQ(at(a, kBase + 0x5000).should_seal_bytes, 0u);
  EXPECT_EQ(at(a, kBase + 0x5000).verdict(), Verdict::kNotApplicable);
  EXPECT_EQ(a.total.should_bytes, 0x6000u);
  EXPECT_DOUBLE_EQ(*a.total.coverage_bytes(), 1.0);
}

// A file whose headers cannot be read: smaps alone says which VMAs are its
// (the run of its file from offset 0 plus the bss after it), when it has code.
TEST(VmaClass, UnreadableObjectIsClassifiedFromSmapsAndCounted) {
  ProcessAudit a = classify_smaps(lib_smaps(false), lookup_returning(ElfLookup::Kind::kUnknown));
  ASSERT_EQ(a.objects.size(), 1u);
  EXPECT_FALSE(a.objects[0].verified);
  EXPECT_EQ(a.objects_unverified, 1u);
  EXPECT_EQ(at(a, kBase + 0x1000).cls, VmaClass::kElfText);
  EXPECT_EQ(at(a, kBase + 0x4000).cls, VmaClass::kElfRodata);  // RELRO is not visible without headers
  EXPECT_EQ(at(a, kBase + 0x6000).cls, VmaClass::kElfBss);
  EXPECT_EQ(a.total.should_vmas, 6u);

  std::string data_file = entry(0x10000, 0x20000, "r--p", 0, kLibInode, "/var/cache/data.bin", false);
  ProcessAudit d = classify_smaps(data_file, lookup_returning(ElfLookup::Kind::kUnknown));
  EXPECT_TRUE(d.objects.empty());
  EXPECT_EQ(d.vmas.at(0).cls, VmaClass::kFile);
}

TEST(VmaClass, TornTextIsReportedNotClassified) {
  std::string no_flags = "10000-11000 rw-p 00000000 00:00 0\nRss: 4 kB\n" + entry(0x20000, 0x21000, "rw-p", 0, 0, "", 0);
  EXPECT_EQ(classify_smaps(no_flags, lookup_returning(ElfLookup::Kind::kNotElf)).status, AuditStatus::kTorn);
  std::string backwards = entry(0x20000, 0x21000, "rw-p", 0, 0, "", false) + entry(0x10000, 0x11000, "rw-p", 0, 0, "", 0);
  EXPECT_EQ(classify_smaps(backwards, lookup_returning(ElfLookup::Kind::kNotElf)).status, AuditStatus::kTorn);
  std::string cut = entry(0x10000, 0x11000, "rw-p", 0, 0, "", false) + "20000-21";
  EXPECT_EQ(classify_smaps(cut, lookup_returning(ElfLookup::Kind::kNotElf)).status, AuditStatus::kTorn);
}

TEST(VmaClass, LayoutFromLibcHeaders) {
  std::string err;
  auto facts = read_elf_file("/lib/x86_64-linux-gnu/libc.so.6", err);
  ASSERT_TRUE(facts) << err;
  auto l = layout_from_headers(facts->segments);
  ASSERT_TRUE(l);
  EXPECT_EQ(l->loads.size(), facts->load_segments);
  EXPECT_EQ(l->offset0_vaddr, 0u);
  EXPECT_FALSE(l->relro.empty());
  for (const Range& r : l->loads) EXPECT_EQ(r.begin % 4096, 0u);
  // A relocatable object has no PT_LOAD: nothing a loader maps.
  EXPECT_FALSE(layout_from_headers({}));
}

// This test process: libc is a verified object, [stack] is asked for, and an
// anonymous mapping it seals itself is counted as sealed but not asked for.
TEST(ProcessAudit, LiveProcessWithSelfSealedMapping) {
  if (std::string(sealkit_backend()) != "kernel") GTEST_SKIP() << "this kernel has no mseal(2)";
  void* p = mmap(nullptr, 3 * 4096, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  ASSERT_NE(p, MAP_FAILED);
  ASSERT_EQ(sealkit_mseal(p, 3 * 4096, 0), 0);
  const auto addr = reinterpret_cast<std::uintptr_t>(p);

  ElfLayoutCache cache;
  ProcessAudit a = audit_process(getpid(), cache);
  ASSERT_EQ(a.status, AuditStatus::kOk) << a.detail;
  EXPECT_EQ(a.comm.substr(0, 10), "test_audit");
  EXPECT_NE(a.exe.find("test_audit_engine"), std::string::npos);
  const VmaRecord& mine = at(a, addr);
  EXPECT_TRUE(mine.sealed);
  EXPECT_FALSE(mine.should_seal());
  EXPECT_EQ(mine.verdict(), Verdict::kSealed);

  bool libc = false, stack = false;
  for (const ObjectRecord& o : a.objects) libc = libc || (o.verified && o.path.find("/libc.so.6") != std::string::npos);
  for (const VmaRecord& v : a.vmas) {
    if (v.cls == VmaClass::kStack) stack = v.should_seal_bytes == v.map.range.size();
    if (v.path.find("/libc.so.6") != std::string::npos) {
      EXPECT_TRUE(is_elf_class(v.cls)) << v.path;
      EXPECT_GE(v.object, 0);
    }
  }
  EXPECT_TRUE(libc);
  EXPECT_TRUE(stack);
  EXPECT_GT(cache.files_read(), 0u);

  // A second audit reads no file again: every layout is cached.
  const std::size_t read_before = cache.files_read();
  ProcessAudit again = audit_process(getpid(), cache);
  EXPECT_EQ(again.status, AuditStatus::kOk);
  EXPECT_EQ(cache.files_read(), read_before);
  munmap(p, 3 * 4096);  // sealed: fails with EPERM, and the mapping stays until exit
}

TEST(ProcessAudit, ZombieAndGoneAreStatusesNotErrors) {
  pid_t child = fork();
  ASSERT_GE(child, 0);
  if (child == 0) _exit(0);
  // Wait until it is a zombie (exit is asynchronous); WNOWAIT keeps it one.
  siginfo_t info{};
  ASSERT_EQ(waitid(P_PID, static_cast<id_t>(child), &info, WEXITED | WNOWAIT), 0);
  ElfLayoutCache cache;
  EXPECT_EQ(audit_process(child, cache).status, AuditStatus::kZombie);
  ASSERT_EQ(waitpid(child, nullptr, 0), child);
  EXPECT_EQ(audit_process(child, cache).status, AuditStatus::kGone);
}

TEST(ProcessAudit, KernelThreadHasNoMemory) {
  ElfLayoutCache cache;
  ProcessAudit a = audit_process(2, cache);
  if (a.status == AuditStatus::kGone) GTEST_SKIP() << "pid 2 (kthreadd) is not visible in this pid namespace";
  EXPECT_EQ(a.status, AuditStatus::kKernelThread);
  EXPECT_EQ(a.comm, "kthreadd");
}

// A filter seal inside one VMA (audit::apply_filter_seals): the object's bss
// merged with an anonymous allocation after it, [bss 1 page | 3 pages not
// the object's]. Only the refused bytes that the rule asks for count towards
// coverage; the VMA counts as sealed-as-asked when all its asked bytes are.
namespace {

ProcessAudit merged_bss_with_filter(std::uint64_t sealed_begin, std::uint64_t sealed_end) {
  const std::string lib = "/usr/lib/libdemo.so";
  const std::string text = entry(kBase + 0x0000, kBase + 0x1000, "r--p", 0x0000, kLibInode, lib, false) +
                           entry(kBase + 0x1000, kBase + 0x3000, "r-xp", 0x1000, kLibInode, lib, false) +
                           entry(kBase + 0x3000, kBase + 0x4000, "r--p", 0x3000, kLibInode, lib, false) +
                           entry(kBase + 0x4000, kBase + 0x5000, "r--p", 0x4000, kLibInode, lib, false) +
                           entry(kBase + 0x5000, kBase + 0x6000, "rw-p", 0x5000, kLibInode, lib, false) +
                           entry(kBase + 0x6000, kBase + 0xa000, "rw-p", 0, 0, "", false);
  ProcessAudit a = classify_smaps(text, lookup_returning(ElfLookup::Kind::kElf, lib_layout()));
  namespace gen = sealkit::backend::seccomp;
  const gen::SealedRange range{sealed_begin, sealed_end, false};
  gen::Input in{&range, 1, gen::task_size()};
  auto program = std::make_unique<gen::Program>();
  EXPECT_EQ(gen::build(in, *program), gen::BuildStatus::kOk);
  ProcessFilters filters;
  filters.status = ProcessFilters::Status::kRead;
  filters.programs.emplace_back(program->insns, program->insns + program->length);
  apply_filter_seals(filters, &kAbiX86_64, 1 << 24, a);
  return a;
}

}  // namespace

TEST(VmaClass, AFilterSealInsideAMergedVmaCountsItsAskedPart) {
  // The whole object sealed: the bss page is the VMA's asked part, and it is the sealed part.
  ProcessAudit a = merged_bss_with_filter(kBase, kBase + 0x7000);
  ASSERT_EQ(a.status, AuditStatus::kOk);
  const VmaRecord& bss = at(a, kBase + 0x6000);
  EXPECT_EQ(bss.cls, VmaClass::kElfBss);
  EXPECT_EQ(bss.should_seal_bytes, 0x1000u);
  EXPECT_EQ(bss.filter, FilterCheck::kPartial);
  EXPECT_FALSE(bss.sealed);
  EXPECT_EQ(bss.verdict(), Verdict::kPartial);
  EXPECT_EQ(bss.filter_part_bytes, 0x1000u);
  EXPECT_EQ(bss.filter_part_should_bytes, 0x1000u);
  EXPECT_TRUE(a.objects[0].fully_sealed());
  EXPECT_EQ(a.total.should_bytes, 0x7000u);
  EXPECT_EQ(a.total.sealed_should_bytes, 0x7000u);
  EXPECT_DOUBLE_EQ(*a.total.coverage_bytes(), 1.0);
  EXPECT_EQ(a.total.sealed_vmas, 5u) << "whole VMAs";
  EXPECT_EQ(a.total.partial_vmas, 1u);
  EXPECT_EQ(a.total.sealed_bytes, 0x7000u);
  EXPECT_EQ(a.filters.partial_vmas, 1u);

  // Sealed in the allocation's part only: refused bytes, none of them asked for.
  ProcessAudit b = merged_bss_with_filter(kBase + 0x8000, kBase + 0xa000);
  const VmaRecord& other = at(b, kBase + 0x6000);
  EXPECT_EQ(other.filter, FilterCheck::kPartial);
  EXPECT_EQ(other.filter_part_bytes, 0x2000u);
  EXPECT_EQ(other.filter_part_should_bytes, 0u);
  EXPECT_EQ(b.total.sealed_should_bytes, 0u);
  EXPECT_EQ(b.total.sealed_bytes, 0x2000u);
  EXPECT_EQ(b.total.sealed_should_vmas, 0u);
  EXPECT_FALSE(b.objects[0].fully_sealed());

  // Straddling the edge of the asked part: one asked page of two refused.
  ProcessAudit c = merged_bss_with_filter(kBase + 0x5000, kBase + 0x8000);
  const VmaRecord& edge = at(c, kBase + 0x6000);
  EXPECT_EQ(edge.filter_part_bytes, 0x2000u);
  EXPECT_EQ(edge.filter_part_should_bytes, 0x1000u);
  EXPECT_TRUE(at(c, kBase + 0x5000).sealed) << "the data VMA is wholly refused";
  EXPECT_EQ(c.total.sealed_should_bytes, 0x2000u);
}
