// Sealing one object's image: the part the start-up pass (sealer.cpp) and the
// preload object's later passes (preload/later_objects.cpp) share. Each keeps
// its own policy (which objects, when the maps text is read, how runs are
// batched and counted); how an image becomes seals is here:
//
// - SealTarget: where a seal goes: mseal(2) behind the gate (mseal_gate.hpp),
//   or on the seccomp backend the range added to the collector's one filter;
// - LazyQuery: PROCMAP_QUERY, opened at the first lookup that is needed;
// - plan_from_headers: the image's runs from its program headers
//   (image_plan.hpp), with lookups only where its segments leave gaps or
//   protections must be looked at (prot_guard.hpp);
// - seal_from_maps: the fallback, planned from the /proc/self/maps text.
#pragma once

#include <cstddef>

#include "core/range.hpp"
#include "core/seal_plan.hpp"
#include "runtime/elf_image.hpp"
#include "runtime/image_plan.hpp"
#include "runtime/maps_snapshot.hpp"
#include "runtime/prot_guard.hpp"
#include "runtime/seccomp/collector.hpp"

namespace sealkit::rt {

// One seal: mseal(2), or on the seccomp backend the range added to the
// collector's filter, which checks as mseal would that every page is mapped.
class SealTarget {
 public:
  // `collector` null: mseal. `mseal_calls`, when given, counts the calls made.
  explicit SealTarget(seccomp::Collector* collector, std::size_t* mseal_calls = nullptr)
      : collector_(collector), mseal_calls_(mseal_calls) {}
  // 0, or -errno: ENOMEM when a page is not mapped; ENOSYS when nothing can
  // be sealed (no mseal, or the collector could not read the maps).
  long seal(core::Range r);
  bool seccomp() const { return collector_ != nullptr; }

 private:
  seccomp::Collector* collector_;
  std::size_t* mseal_calls_;
};

// PROCMAP_QUERY on /proc/self/maps, opened at the first lookup: most
// processes need none (system_extents.hpp), and the open is the dearest step.
class LazyQuery {
 public:
  VmaQuery* get();
  bool find(std::uintptr_t addr, bool or_next, bool with_name, Vma& out) {
    VmaQuery* q = get();
    return q != nullptr && q->find(addr, or_next, with_name, out);
  }

 private:
  VmaQuery q_;
  bool tried_ = false, ok_ = false;
};

// How an image's protections are judged before its seal (prot_guard.hpp).
struct ProtCheck {
  bool look = false;                    // look at each part's protection first
  const MapsSnapshot* text = nullptr;   // a maps text in hand to look in (else PROCMAP_QUERY)
  int read_implies_exec = -1;           // as ProtLookup takes it
};

// Plans `img` from its program headers alone. Runs to seal go to
// keep(core::Range) -> bool (false: no room, the plan is incomplete); parts
// whose protection had to be lowered are sealed at once with
// seal_now(core::Range) -> bool. false when the plan is incomplete: the
// caller drops what keep() took and plans the object from the maps, which
// judges its parts again (what was sealed at once stays sealed). `prot`
// counts what the look found, the refusals only of a complete plan.
template <class Keep, class SealNow>
bool plan_from_headers(LazyQuery& q, const ElfImage& img, const ProtCheck& check, ProtStats& prot, Keep&& keep,
                       SealNow&& seal_now) {
  const bool gaps = has_gaps(img);
  VmaQuery* lookups = nullptr;
  if (gaps || (check.look && check.text == nullptr)) {
    lookups = q.get();
    if (lookups == nullptr) return false;
  }
  ProtLookup vmas(lookups, check.text, check.read_implies_exec);
  ProtStats found;
  bool room = true, looked = true;
  const bool planned = plan_without_maps(gaps ? lookups : nullptr, img, [&](core::Range r) {
    looked = guard_run(check.look ? &vmas : nullptr, img, r, found, [&](core::Range part) { room = keep(part) && room; },
                       seal_now) &&
             looked;
  });
  const bool complete = planned && room && looked;
  prot.restored += found.restored;
  prot.raced += found.raced;
  if (complete) {
    prot.wx_refused += found.wx_refused;
    prot.not_restored += found.not_restored;
  }
  return complete;
}

// Plans `img` from the maps text, which also says each part's protection
// when check.look, and seals every run with seal_now(core::Range) -> bool.
// false when a seal failed or a part could not be looked at.
template <class SealNow>
bool seal_from_maps(const MapsSnapshot& maps, const ElfImage& img, const ProtCheck& check, ProtStats& prot,
                    SealNow&& seal_now) {
  bool ok = true;
  ProtLookup vmas(nullptr, &maps, check.read_implies_exec);
  core::plan_object_seal(img.segments, img.nseg, img.keep_mutable, img.nmut, maps, [&](core::Range r) {
    ok = guard_run(check.look ? &vmas : nullptr, img, r, prot, [&](core::Range part) { ok = seal_now(part) && ok; },
                   seal_now) &&
         ok;
  });
  return ok;
}

}  // namespace sealkit::rt
