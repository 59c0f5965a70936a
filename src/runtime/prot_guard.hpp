// What a sealed page of an object may be: at most what its ELF file asks for,
// and never writable and executable at once.
//
// mseal(2) freezes whatever protection a VMA has when it is sealed. Code that
// runs before the seal can change an object's protection: a library's
// constructor that makes its text writable to patch it, a thread that does so
// while another thread's dlopen is being sealed, a program that makes RELRO
// writable again before glibc's own loads (NSS, gconv) are sealed at the next
// dlopen. Sealed as found, such a page would stay writable for good: worse
// than not sealing it. So each planned run is split where the protection the
// file asks for changes (intended_at), and each part is
//
// - sealed as it is when its protection is at most the file's (a program that
//   made its own data read-only keeps it read-only: nothing is ever added);
// - else lowered first with mprotect to its protection minus what the file does
//   not ask for, looked at again, sealed, and looked at once more after the
//   seal (a thread may change it in between: counted as `raced`);
// - left unsealed when it is still writable and executable (the file asks for
//   that, or the kernel keeps it so: READ_IMPLIES_EXEC) or more than the file
//   asks and could not be lowered.
//
// Where no code but ld.so's can have run since the objects were mapped (the
// audit module at start-up), the protections are the file's by construction
// and nothing is looked at: the parts are judged by what the file asks alone.
#pragma once

#include <cstddef>
#include <cstdint>

#include "core/range.hpp"
#include "runtime/elf_image.hpp"
#include "runtime/maps_snapshot.hpp"

namespace sealkit::rt {

struct ProtStats {
  std::size_t restored = 0;      // parts lowered to the file's protection, then sealed
  std::size_t wx_refused = 0;    // parts left unsealed: writable and executable
  std::size_t not_restored = 0;  // parts left unsealed: more than the file asks, and mprotect did not lower them
  std::size_t raced = 0;         // restored parts found otherwise right after their seal
  bool any() const { return restored + wx_refused + not_restored + raced != 0; }
};

// The protection the file asks for at `addr`, and where that stops (at most `limit`):
// - inside RELRO: read-only (what ld.so makes it once relocated);
// - inside PT_LOAD segments: the union of their p_flags (rounded out to pages,
//   two segments can share one);
// - elsewhere in the object's span (ld.so's reservations between segments): nothing.
struct Intent {
  unsigned prot;
  std::uintptr_t end;
};
Intent intended_at(const ElfImage& img, std::uintptr_t addr, std::uintptr_t limit);

// Where current protections are read: a maps text already in hand (free), and
// PROCMAP_QUERY. A text is a snapshot: after a change it is read again, unless
// PROCMAP_QUERY works.
//
// READ_IMPLIES_EXEC in the process's personality makes the kernel map every
// readable mapping executable, mprotect's included. That execute permission
// is the process's own, not a change to undo: a readable part may then be
// executable too (and a writable one is then writable and executable, never
// sealed). `read_implies_exec`: 1 or 0 when the caller knows, -1 to ask the
// kernel the first time it matters (an executable part the file does not ask
// to be executable), which is never in the usual pass.
class ProtLookup {
 public:
  ProtLookup(VmaQuery* query, const MapsSnapshot* maps, int read_implies_exec)
      : query_(query), maps_(maps), read_implies_exec_(read_implies_exec) {}
  ProtLookup(const ProtLookup&) = delete;
  ProtLookup& operator=(const ProtLookup&) = delete;

  // The VMA holding addr or, with or_next, the first one above it. false when
  // there is none (then none() is true) or the lookup failed.
  bool find(std::uintptr_t addr, bool or_next, Vma& out);
  bool none() const { return none_; }
  // An mprotect happened: a text in hand no longer says the truth.
  void changed() { stale_ = true; }
  // What a part that is `cur` now may be, given what the file asks for it.
  unsigned allowed(unsigned asked, unsigned cur);

 private:
  VmaQuery* query_;
  const MapsSnapshot* maps_;
  int read_implies_exec_;
  MapsSnapshot own_;  // read again after a change when there is no PROCMAP_QUERY
  bool stale_ = false;
  bool own_ok_ = false;
  bool none_ = false;
};

enum class Verdict { kSeal, kRestored, kRefused };

// One part: `cur` is its protection now, `want` the file's. Lowers it when it
// has more (mprotect to cur & want), counts, and says what to do with it.
Verdict settle(ProtLookup* look, core::Range part, unsigned cur, unsigned want, ProtStats& st);

// After the seal of a restored part: counts it as raced unless its VMA still
// covers it with at most `want`.
void check_after_seal(ProtLookup& look, core::Range part, unsigned want, ProtStats& st);

inline unsigned prot_of(const Vma& v) {
  return (v.read ? kProtRead : 0) | (v.write ? kProtWrite : 0) | (v.exec ? kProtExec : 0);
}

// Splits the planned run `r` of `img` into parts and settles each. `look`
// null: the protections are taken to be the file's (see the top). Parts to
// seal go to emit(core::Range), touching ones merged; restored parts are
// sealed at once with seal(core::Range) -> bool and looked at again. false
// when the VMAs could not be looked up (the caller then plans the object
// another way); unmapped pages of the run are skipped.
template <class Emit, class Seal>
bool guard_run(ProtLookup* look, const ElfImage& img, core::Range r, ProtStats& st, Emit&& emit, Seal&& seal) {
  core::Range pending{0, 0};
  auto flush = [&] {
    if (!pending.empty()) emit(pending);
    pending = {0, 0};
  };
  std::uintptr_t addr = r.begin;
  while (addr < r.end) {
    core::Range vma{addr, r.end};
    unsigned cur = 0;
    if (look != nullptr) {
      Vma v;
      if (!look->find(addr, true, v)) {
        if (!look->none()) return false;
        break;  // nothing mapped from here to the end of the run
      }
      if (v.range.begin >= r.end) break;
      if (v.range.begin > addr) {
        flush();  // a hole
        addr = v.range.begin;
      }
      vma = {addr, v.range.end < r.end ? v.range.end : r.end};
      cur = prot_of(v);
    }
    while (addr < vma.end) {
      const Intent in = intended_at(img, addr, vma.end);
      const core::Range part{addr, in.end};
      const unsigned want = look != nullptr ? look->allowed(in.prot, cur) : in.prot;
      switch (settle(look, part, look != nullptr ? cur : want, want, st)) {
        case Verdict::kSeal:
          if (!pending.empty() && pending.end == part.begin) pending.end = part.end;
          else flush(), pending = part;
          break;
        case Verdict::kRestored:
          flush();
          if (seal(part)) check_after_seal(*look, part, want, st);
          break;
        case Verdict::kRefused:
          flush();
          break;
      }
      addr = in.end;
    }
  }
  flush();
  return true;
}

}  // namespace sealkit::rt
