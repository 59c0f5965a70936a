#include "runtime/sealer.hpp"

#include <string_view>

#include "core/seal_plan.hpp"
#include "runtime/elf_image.hpp"
#include "runtime/image_plan.hpp"
#include "runtime/mseal_gate.hpp"
#include "runtime/mutable_sections.hpp"
#include "runtime/native_elf.hpp"
#include "runtime/process_info.hpp"
#include "runtime/seal_object.hpp"
#include "runtime/seccomp/collector.hpp"
#include "runtime/seccomp/install.hpp"
#include "runtime/seccomp/polyfill.hpp"
#include "runtime/sys.hpp"
#include "runtime/system_extents.hpp"

// Start-up sealing runs in every process, so its cost is the runtime's cost
// (docs/benchmarks.md, "Runtime"). Reading /proc/self/maps alone costs the
// kernel ~26 us for /bin/true, far more than the 1% of a spawn the runtime
// may cost, and even opening it (for PROCMAP_QUERY) costs ~20 us in a new
// process, so the usual path does not touch /proc at all:
//
// - each object's ELF header is found from what is already known: ld.so's
//   copy of its program headers when the caller has them (the preload object
//   asks dl_iterate_phdr), the main program's program headers from AT_PHDR,
//   ld.so's header at AT_BASE, the runtime's own at __ehdr_start, and any
//   other object's at its load bias, after one PROCMAP_QUERY lookup says a
//   readable mapping of a file starts there at offset 0. Each header is
//   accepted only if its PT_DYNAMIC lies where ld.so says the object's dynamic
//   section is (link_map l_ld);
// - an object whose page-rounded PT_LOAD segments leave no gap is sealed as
//   their union: core::plan_object_seal seals every mapped page of the span
//   then, and every page is mapped (a page that is not makes mseal fail with
//   ENOMEM before it seals anything, and the object is planned again from the
//   maps). An object with gaps is planned from PROCMAP_QUERY lookups of the
//   VMAs in its span, which is what the planner reads from the maps;
// - the vDSO with its [vvar] neighbours, and the stack, are found by probes
//   that need no /proc (system_extents.hpp), else looked up by an address
//   known to be in them;
// - runs of different objects that touch are sealed in one mseal call;
// - an object's mutable sections (core/mutable_sections.hpp) are read from
//   its file: the one open per object that start-up sealing does.
//
// /proc/self/maps is opened for PROCMAP_QUERY only at the first lookup that is
// needed. Anything the fast path cannot establish (no PROCMAP_QUERY before
// Linux 6.11, no auxiliary vector, a header that does not check out) is
// planned from /proc/self/maps, read once, only when needed.
namespace sealkit::rt {

namespace {

constexpr std::size_t kMaxTracked = 4097;  // audit.cpp records at most 4096 objects, plus the runtime
constexpr std::size_t kMaxPieces = 1024;
constexpr std::size_t kOwnerSystem = kMaxTracked;      // [vdso], [vvar], [vvar_vclock]
constexpr std::size_t kOwnerStack = kMaxTracked + 1;  // [stack]
using sys::kPage;

// How each object (and the system mappings, the stack) was or will be sealed:
// kSealed, whichever way (from its headers, its pieces queued for
// seal_pieces, which sends a failed one to kMaps; or from the maps); kMaps,
// left to the maps pass; kSkipped (no image: the vDSO, or unreadable),
// kFailed, kExcluded (the configuration's exclude-object).
enum class Path : std::uint8_t { kSealed, kMaps, kSkipped, kFailed, kExcluded };

struct Piece {
  core::Range range;
  std::size_t owner;
};

// Per-process state of one start-up pass; static because it is large and the
// pass runs once, from ld.so, on one thread. Raw storage, not arrays of
// structs: a constructor zeroing it at load would fault in pages that are
// otherwise never touched. A pass lays it out for its own number of objects:
// the slots (one per object, then the system mappings and the stack) and
// right after them the pieces, so that a small process touches one page of
// it, not one per array (every page first touched is a page fault).
struct Slot {
  Path path;
  bool memory_seal_property;  // GNU_PROPERTY_MEMORY_SEAL seen in the object's image
  bool mutable_sections;      // mutable sections kept unsealed (runtime/mutable_sections.hpp)
  core::Range relro;          // its RELRO as ld.so protects it, for harden-discard; empty without one
};
struct Pass {
  std::size_t npieces;
  std::size_t nobjects;  // objects[0..n], the runtime included: slots 0..n; then the system mappings, the stack
  Slot* slots;
  Piece* pieces;
  alignas(Piece) unsigned char bytes[(kMaxTracked + 2) * sizeof(Slot) + alignof(Piece) + kMaxPieces * sizeof(Piece)];

  void lay_out(std::size_t n) {
    nobjects = n;
    slots = reinterpret_cast<Slot*>(bytes);
    std::size_t end = (n + 2) * sizeof(Slot);
    end = (end + alignof(Piece) - 1) / alignof(Piece) * alignof(Piece);
    pieces = reinterpret_cast<Piece*>(bytes + end);
    npieces = 0;
  }
  // kOwnerSystem and kOwnerStack follow the objects' slots.
  Slot& slot(std::size_t owner) {
    return slots[owner == kOwnerSystem ? nobjects : owner == kOwnerStack ? nobjects + 1 : owner];
  }
  Path& path(std::size_t owner) { return slot(owner).path; }
};
Pass g_pass;

// A VMA name as PROCMAP_QUERY wrote it (NUL-terminated within the array).
std::string_view name_of(const Vma& v) {
  std::size_t n = 0;
  while (n < sizeof v.name && v.name[n] != '\0') ++n;
  return {v.name, n};
}

bool is_system_mapping(std::string_view p) { return p == "[vdso]" || p == "[vvar]" || p == "[vvar_vclock]"; }

// On the seccomp backend every "seal" of the pass is gathered here and the
// one filter is installed at the end (finish_seccomp); null on the kernel's.
seccomp::Collector* g_collector = nullptr;

// READ_IMPLIES_EXEC in this process's personality for the pass: 1 or 0, -1
// when not asked (ProtLookup asks if it matters).
int g_read_implies_exec = -1;
// x86_64's execve of a 64-bit program clears READ_IMPLIES_EXEC
// (set_personality_64bit): no start-up image of this build has it. A 32-bit
// one keeps it (setarch -X), and gets it without PT_GNU_STACK.
#if defined(__x86_64__)
constexpr bool kExecKeepsReadImpliesExec = false;
#else
constexpr bool kExecKeepsReadImpliesExec = true;
#endif

// One seal (seal_object.hpp), counting mseal calls. A collector that is not
// ready could not read the maps (first_error says EIO).
long seal_call(core::Range r, SealStats& st) { return SealTarget(g_collector, &st.mseal_calls).seal(r); }

// Seals r, counting the call; a failure is counted as the process's failure.
// Once a call said ENOSYS (no mseal in this kernel, or a filter says so),
// none is made again: every one would fail the same way.
bool seal_final(core::Range r, SealStats& st) {
  if (st.first_error == -ENOSYS) return false;  // not a call, so not counted as one
  const long rc = seal_call(r, st);
  if (rc != 0) {
    ++st.mseal_failures;
    if (st.first_error == 0) st.first_error = rc;
  }
  return rc == 0;
}

bool add_piece(core::Range r, std::size_t owner) {
  if (g_pass.npieces == kMaxPieces) return false;
  g_pass.pieces[g_pass.npieces++] = Piece{r, owner};
  return true;
}

// Plans `img` from its headers into the pass's pieces (owned by `owner`);
// false when it cannot be done that way, and then none of its pieces stay.
// With `look`, each part's protection is looked up first (prot_guard.hpp).
bool plan_from_headers_into_pieces(LazyQuery& q, const ElfImage& img, std::size_t owner, bool look, SealStats& st) {
  const std::size_t mark = g_pass.npieces;
  const ProtCheck check{look, nullptr, g_read_implies_exec};
  const bool ok = plan_from_headers(
      q, img, check, st.prot, [&](core::Range part) { return add_piece(part, owner); },
      [&](core::Range part) { return seal_final(part, st); });
  if (!ok) g_pass.npieces = mark;
  return ok;
}

// An object's image from what is known without the maps (see the top).
// `self`: this process's id, 0 until the first object that needs it asks.
bool find_image_without_maps(LazyQuery& q, const StartupAux& aux, const LoadedRef& obj, ElfImage& img, long& self) {
  bool found = false;
  if (obj.phdr != 0 && obj.phnum != 0) {
    found = read_image(ImageSource::phdrs(obj.bias, obj.phdr, obj.phnum), img) == ImageError::kNone;  // ld.so's copy
  } else if (obj.name != nullptr && obj.name[0] == '\0' && aux.phdr != 0) {
    found = read_image(ImageSource::phdrs(obj.bias, aux.phdr, aux.phnum), img) == ImageError::kNone;  // the main program
  } else if (aux.base != 0 && obj.bias == aux.base) {
    // ld.so, mapped by the kernel from offset 0 at AT_BASE; it reads its own
    // header there. Its program headers follow the header in the first page.
    found = read_image(ImageSource::header(obj.bias, obj.bias, obj.bias + kPage), img) == ImageError::kNone;
  }
  if (!found && obj.bias % kPage == 0) {
    // Any other object (the audit module has no dl_iterate_phdr): its header
    // at its load bias, where ld.so mapped its file from offset 0, once a
    // copy of it says that the page is there and readable (no lookup, no
    // /proc). Program headers beyond that page need the lookup below.
    NativeEhdr probe;
    if (self == 0) self = sys::getpid();
    if (sys::read_own_memory(self, obj.bias, &probe, sizeof probe) == static_cast<long>(sizeof probe))
      found = read_image(ImageSource::header(obj.bias, obj.bias, obj.bias + kPage), img) == ImageError::kNone &&
              img.dynamic == obj.dynamic;
  }
  if (!found && obj.bias % kPage == 0) {
    Vma v;
    if (q.find(obj.bias, false, false, v) && v.range.begin == obj.bias && v.read && v.offset == 0 && v.inode != 0)
      found = read_image(ImageSource::header(obj.bias, obj.bias, v.range.end), img) == ImageError::kNone;
  }
  return found && img.dynamic == obj.dynamic;
}

// The vDSO's VMA and the kernel's data pages below it, as one range.
bool find_system_mappings(LazyQuery& q, std::uintptr_t vdso, core::Range& out, std::size_t& count) {
  Vma v;
  if (!q.find(vdso, false, true, v) || name_of(v) != "[vdso]") return false;
  out = v.range;
  count = 1;
  // Every kernel that has them maps [vvar] and [vvar_vclock] right below the
  // vDSO's text (x86_64, arm64, riscv: the data pages precede the code).
  for (int i = 0; i < 4 && out.begin > 0; ++i) {
    if (!q.find(out.begin - 1, false, true, v) || v.range.end != out.begin || !is_system_mapping(name_of(v))) break;
    out.begin = v.range.begin;
    ++count;
  }
  return true;
}

void sort_pieces(Piece* p, std::size_t n) {
  for (std::size_t i = 1; i < n; ++i) {
    Piece x = p[i];
    std::size_t j = i;
    for (; j > 0 && p[j - 1].range.begin > x.range.begin; --j) p[j] = p[j - 1];
    p[j] = x;
  }
}

// Seals the pieces, touching runs in one call. When a joint call fails (it
// then sealed nothing: mseal checks the whole range first), each piece is
// tried alone; a piece that still fails sends its owner to the maps path.
void seal_pieces(SealStats& st) {
  Piece* p = g_pass.pieces;
  const std::size_t n = g_pass.npieces;
  sort_pieces(p, n);
  for (std::size_t i = 0; i < n;) {
    std::size_t j = i + 1;
    core::Range joint = p[i].range;
    while (j < n && p[j].range.begin <= joint.end) {
      if (p[j].range.end > joint.end) joint.end = p[j].range.end;
      ++j;
    }
    const long rc = seal_call(joint, st);
    if (rc == -ENOSYS) {
      // No mseal in this kernel (or a filter says so): retrying each run, and
      // then from the maps, would only cost time. Nothing can be sealed.
      ++st.mseal_failures;
      if (st.first_error == 0) st.first_error = rc;
      for (std::size_t k = 0; k < n; ++k) g_pass.path(p[k].owner) = Path::kFailed;
      return;
    }
    if (rc != 0) {
      for (std::size_t k = i; k < j; ++k) {
        if (seal_call(p[k].range, st) != 0) g_pass.path(p[k].owner) = Path::kMaps;
      }
    }
    i = j;
  }
}

// Everything the fast path left to the maps path.
void seal_with_maps(const LoadedRef* objects, std::size_t n, std::uintptr_t self_ehdr, bool look, SealStats& st) {
  // On the seccomp backend the collector read the maps at the start of the
  // pass: the same text, not a second /proc read in every process.
  MapsSnapshot own;
  const bool shared = g_collector != nullptr && g_collector->ready();
  const MapsSnapshot& maps = shared ? g_collector->maps() : own;
  if (!shared && !own.load()) {
    ++st.mseal_failures;
    if (st.first_error == 0) st.first_error = -EIO;  // /proc/self/maps unreadable, these left unsealed
    for (std::size_t i = 0; i <= n && i < kMaxTracked; ++i) {
      if (g_pass.path(i) == Path::kMaps) g_pass.path(i) = Path::kFailed;
    }
    return;
  }
  st.maps_bad_lines = maps.bad_lines();
  for (std::size_t i = 0; i <= n && i < kMaxTracked; ++i) {
    if (g_pass.path(i) != Path::kMaps) continue;
    ElfImage img;
    const bool self = i == n;
    const ImageError e = read_image(self ? ImageSource::header_in(maps, self_ehdr, self_ehdr)
                                         : ImageSource::loaded(maps, objects[i].bias, objects[i].dynamic),
                                    img);
    if (e != ImageError::kNone) {
      // The vDSO (no file) is sealed as a system mapping; others are
      // reported as skipped.
      g_pass.path(i) = Path::kSkipped;
      continue;
    }
    // The runtime's own object has none.
    g_pass.slot(i).mutable_sections = !self && add_mutable_sections(objects[i].name, img) != 0;
    g_pass.slot(i).memory_seal_property = img.memory_seal_property;
    g_pass.slot(i).relro = img.relro;
    const ProtCheck check{look, &maps, g_read_implies_exec};
    const bool sealed = seal_from_maps(maps, img, check, st.prot, [&](core::Range part) { return seal_final(part, st); });
    g_pass.path(i) = sealed ? Path::kSealed : Path::kFailed;
  }
  const bool system = g_pass.path(kOwnerSystem) == Path::kMaps;
  const bool stack = g_pass.path(kOwnerStack) == Path::kMaps;
  for (const core::MapsEntry& m : maps) {
    if (system && is_system_mapping(m.path)) {
      if (seal_final(m.range, st)) ++st.system_mappings_sealed;
    } else if (stack && m.path == "[stack]") {
      // Growth of a sealed stack still works (the kernel extends the VMA).
      st.stack_sealed = seal_final(m.range, st);
    }
  }
}

// The seccomp backend's end of the pass: one filter for everything gathered,
// with the process policy unless an earlier image's filter holds it already
// (it survives execve; asked only with the SIGSYS handler in place, see
// polyfill.hpp). If it cannot be installed, nothing is sealed.
void finish_seccomp(std::size_t n, SealStats& st) {
  st.policy_inherited = st.polyfill && seccomp::policy_inherited();
  // From the audit module this runs before any code of the program: no task
  // can share the address space yet (install.hpp, SharerCheck).
  const bool fresh = std::string_view(st.injected_as) == "audit";
  const seccomp::FilterResult r =
      g_collector->size() == 0
          ? seccomp::FilterResult{}
          : g_collector->install(!st.policy_inherited,
                                 fresh ? seccomp::SharerCheck::kFreshAddressSpace : seccomp::SharerCheck::kLook);
  st.filter_installed = g_collector->size() != 0 && r.error == 0;
  st.filter_ranges = r.ranges;
  st.filter_discard_ranges = r.discard_ranges;
  st.filter_instructions = r.instructions;
  st.filter_kernel_length = r.kernel_length;
  st.set_no_new_privs = r.set_no_new_privs;
  if (r.error == 0) return;
  ++st.mseal_failures;
  if (st.first_error == 0) st.first_error = -r.error;
  for (std::size_t i = 0; i <= n; ++i) {
    if (g_pass.path(i) == Path::kSealed) g_pass.path(i) = Path::kFailed;
  }
  st.system_mappings_sealed = 0;
  st.stack_sealed = false;
}

// harden-discard on the kernel backend: mseal lets discarding madvise drop
// the copy-on-write pages of a sealed private file mapping, so a sealed RELRO
// (GOT, vtables, relocated pointers) would read back from the file,
// unrelocated. One filter refuses that advice on the RELRO of every object
// sealed whole. Only RELRO: it is the one sealed part whose pages differ from
// the file and that the program cannot write (text and rodata read back the
// same bytes; data is writable anyway), and the smaller the ranges, the rarer
// a later image's memory at these addresses (the filter outlives execve).
void harden_discard(std::size_t n, SealStats& st) {
  std::size_t count = 0;
  for (std::size_t i = 0; i <= n; ++i) count += g_pass.path(i) == Path::kSealed && !g_pass.slot(i).relro.empty();
  if (count == 0) return;
  const std::size_t bytes = count * sizeof(seccomp::SealedRange);
  auto* ranges = static_cast<seccomp::SealedRange*>(sys::mmap_anon(bytes));
  if (ranges == nullptr) {
    st.harden_error = ENOMEM;
    return;
  }
  std::size_t k = 0;
  for (std::size_t i = 0; i <= n && k < count; ++i) {
    const core::Range r = g_pass.slot(i).relro;
    if (g_pass.path(i) == Path::kSealed && !r.empty()) ranges[k++] = {r.begin, r.end, true};
  }
  const seccomp::FilterResult r = seccomp::install_discard_guard(ranges, k);
  sys::munmap(ranges, bytes);
  st.harden_error = r.error;
  st.harden_installed = r.error == 0;
  // This filter refuses discard advice only: mseal stays callable.
  if (st.harden_installed) mseal_gate_trust_own_filter();
  st.harden_ranges = r.ranges;
  st.harden_kernel_length = r.kernel_length;
}

// Every object starts on the maps path (or excluded), as do the system
// mappings and the stack; the header path promotes what it seals.
void begin_pass(const LoadedRef* objects, std::size_t n) {
  g_pass.lay_out(n + 1);
  for (std::size_t i = 0; i <= n; ++i) {
    g_pass.path(i) = i < n && objects[i].excluded ? Path::kExcluded : Path::kMaps;
    g_pass.slot(i).memory_seal_property = false;
    g_pass.slot(i).mutable_sections = false;
    g_pass.slot(i).relro = {};
  }
  g_pass.path(kOwnerSystem) = g_pass.path(kOwnerStack) = Path::kMaps;
}

// Where mseal is missing (a kernel before 6.10, an allow-list that answers
// ENOSYS for it, a process emulated by valgrind or qemu-user) nothing can be
// sealed: one question first, then no probe of the stack or the vDSO and no
// read of the maps, whose only use here is sealing (valgrind reports the
// probes as errors of the program). Not counted as a call: it seals nothing.
// Where a filter would kill the process for it, mseal is not called at all
// (mseal_gate.hpp), as if missing. True when nothing can be sealed.
bool nothing_can_be_sealed(SealStats& st) {
  if (!st.seccomp && (!mseal_gate_open() || sys::mseal(0, 0) == -ENOSYS)) {
    st.first_error = -ENOSYS;
    ++st.mseal_failures;
  }
  return st.first_error == -ENOSYS;
}

// Under READ_IMPLIES_EXEC the kernel made every readable mapping of the
// objects executable, their data writable and executable: look (and leave
// those parts unsealed). One system call where a new image can have it,
// none where nothing can be sealed. Returns whether the pass looks at
// protections.
bool decide_look(bool no_mseal, SealStats& st) {
  const bool read_implies_exec = kExecKeepsReadImpliesExec && !no_mseal && sys::read_implies_exec();
  const bool look = !no_mseal && (st.look_at_protections || read_implies_exec);
  st.look_at_protections = look;
  g_read_implies_exec = kExecKeepsReadImpliesExec && !no_mseal ? read_implies_exec : -1;
  return look;
}

// Each loaded object, then the runtime itself, planned from its headers
// into the pass's pieces; those that cannot be stay on the maps path.
void plan_objects_from_headers(LazyQuery& q, const StartupAux& aux, const LoadedRef* objects, std::size_t n,
                               std::uintptr_t self_ehdr, bool look, SealStats& st) {
  long own_pid = 0;
  for (std::size_t i = 0; i < n; ++i) {
    if (g_pass.path(i) == Path::kExcluded) continue;
    if (aux.sysinfo_ehdr != 0 && objects[i].bias == aux.sysinfo_ehdr) {
      g_pass.path(i) = Path::kSkipped;  // the vDSO: no file, sealed as a system mapping
      continue;
    }
    ElfImage img;
    if (!find_image_without_maps(q, aux, objects[i], img, own_pid)) continue;
    g_pass.slot(i).mutable_sections = add_mutable_sections(objects[i].name, img) != 0;
    g_pass.slot(i).memory_seal_property = img.memory_seal_property;
    g_pass.slot(i).relro = img.relro;
    if (plan_from_headers_into_pieces(q, img, i, look, st)) g_pass.path(i) = Path::kSealed;
  }
  const std::size_t self = n;  // the runtime's slot
  ElfImage img;
  if (read_image(ImageSource::header(self_ehdr, self_ehdr, self_ehdr + kPage), img) == ImageError::kNone) {
    g_pass.slot(self).relro = img.relro;
    if (plan_from_headers_into_pieces(q, img, self, look, st)) g_pass.path(self) = Path::kSealed;
  }
}

// The vDSO and its data pages as one piece, found without /proc when the
// probes can, else by lookups. Returns how many mappings it counts as.
std::size_t plan_system_mappings(LazyQuery& q, const StartupAux& aux) {
  std::size_t count = 0;
  core::Range system;
  if (aux.sysinfo_ehdr == 0) {
    g_pass.path(kOwnerSystem) = Path::kSealed;  // no vDSO (vdso=0): the kernel maps none of them
  } else if (find_vdso_without_proc(aux.sysinfo_ehdr, system)) {
    // [vdso] and its data pages, which only /proc could tell apart: counted as two.
    if (add_piece(system, kOwnerSystem)) g_pass.path(kOwnerSystem) = Path::kSealed;
    count = 2;
  } else if (find_system_mappings(q, aux.sysinfo_ehdr, system, count) && add_piece(system, kOwnerSystem)) {
    g_pass.path(kOwnerSystem) = Path::kSealed;
  }
  return count;
}

// The main thread's stack as one piece.
void plan_stack(LazyQuery& q, const StartupAux& aux) {
  core::Range stack_range;
  if (find_stack_without_proc(aux.execfn, stack_range)) {
    if (add_piece(stack_range, kOwnerStack)) g_pass.path(kOwnerStack) = Path::kSealed;
    return;
  }
  // ld.so runs the start-up audit callbacks and the preload object's
  // constructor on the initial thread, so a local is on [stack].
  int on_stack = 0;
  Vma stack;
  if (q.find(reinterpret_cast<std::uintptr_t>(&on_stack), false, true, stack) && name_of(stack) == "[stack]" &&
      add_piece(stack.range, kOwnerStack))
    g_pass.path(kOwnerStack) = Path::kSealed;
}

bool anything_left_to_the_maps(std::size_t n) {
  bool left = g_pass.path(kOwnerSystem) == Path::kMaps || g_pass.path(kOwnerStack) == Path::kMaps;
  for (std::size_t i = 0; i <= n; ++i) left |= g_pass.path(i) == Path::kMaps;
  return left;
}

void count_objects(std::size_t n, SealStats& st) {
  st.objects_seen = n + 1;
  for (std::size_t i = 0; i <= n; ++i) {
    if (g_pass.path(i) == Path::kSealed) ++st.objects_sealed;
    else if (g_pass.path(i) == Path::kSkipped) ++st.objects_skipped;
    else if (g_pass.path(i) == Path::kExcluded) ++st.objects_excluded;
    st.objects_memory_seal_property += g_pass.slot(i).memory_seal_property;
    st.objects_with_mutable_sections += g_pass.slot(i).mutable_sections;
  }
}

}  // namespace

void seal_startup(const LoadedRef* objects, std::size_t n, std::uintptr_t self_ehdr, SealStats& st) {
  const std::uint64_t t0 = st.timed ? sys::monotonic_ns() : 0;
  if (n >= kMaxTracked) n = kMaxTracked - 1;  // cannot happen: audit.cpp records at most 4096
  begin_pass(objects, n);

  seccomp::Collector collector;
  if (st.seccomp) {
    g_collector = &collector;
    // Without the maps nothing can be checked: nothing is sealed (EIO).
    if (!collector.begin()) st.first_error = -EIO;
  }
  const bool no_mseal = nothing_can_be_sealed(st);
  const bool look = decide_look(no_mseal, st);

  const StartupAux& aux = startup_aux();
  LazyQuery q;
  std::size_t system_count = 0;
  if (aux.valid && !no_mseal) {
    plan_objects_from_headers(q, aux, objects, n, self_ehdr, look, st);
    system_count = plan_system_mappings(q, aux);
    plan_stack(q, aux);
    seal_pieces(st);
  }

  const bool need_maps = anything_left_to_the_maps(n);
  if (g_pass.path(kOwnerSystem) == Path::kSealed) st.system_mappings_sealed = system_count;
  if (g_pass.path(kOwnerStack) == Path::kSealed) st.stack_sealed = true;
  if (need_maps && !no_mseal) seal_with_maps(objects, n, self_ehdr, look, st);
  if (st.seccomp) {
    finish_seccomp(n, st);
    g_collector = nullptr;
  } else if (st.harden_discard && !no_mseal) {
    harden_discard(n, st);
  }
  count_objects(n, st);
  if (st.timed) st.elapsed_ns = sys::monotonic_ns() - t0;
}

}  // namespace sealkit::rt
