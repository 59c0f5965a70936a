#include "runtime/prot_guard.hpp"

#include "runtime/sys.hpp"

namespace sealkit::rt {

namespace {

Vma vma_of(const core::MapsEntry& m) {
  Vma v;
  v.range = m.range;
  v.read = m.read;
  v.write = m.write;
  v.exec = m.exec;
  v.offset = m.offset;
  v.dev_major = m.dev_major;
  v.dev_minor = m.dev_minor;
  v.inode = m.inode;
  return v;
}

bool wx(unsigned prot) { return (prot & kProtWrite) != 0 && (prot & kProtExec) != 0; }

}  // namespace

Intent intended_at(const ElfImage& img, std::uintptr_t addr, std::uintptr_t limit) {
  Intent in{0, limit};
  auto stop_at = [&](std::uintptr_t b) {
    if (b > addr && b < in.end) in.end = b;
  };
  if (!img.relro.empty()) {
    if (img.relro.contains(addr)) {
      in.prot = kProtRead;
      stop_at(img.relro.end);
      return in;
    }
    stop_at(img.relro.begin);
  }
  for (std::size_t i = 0; i < img.nseg; ++i) {
    if (img.segments[i].contains(addr)) {
      in.prot |= img.prot[i];
      stop_at(img.segments[i].end);
    } else {
      stop_at(img.segments[i].begin);
    }
  }
  return in;
}

bool ProtLookup::find(std::uintptr_t addr, bool or_next, Vma& out) {
  none_ = false;
  const MapsSnapshot* text = nullptr;
  if (maps_ != nullptr && !stale_) {
    text = maps_;
  } else if (query_ == nullptr) {
    // No PROCMAP_QUERY (Linux 6.10, or /proc/self/maps could not be opened
    // for it): the text once more, after each change (rare: only a part that
    // had more than its file asks is changed).
    if (stale_ || !own_ok_) {
      own_ok_ = own_.load();
      stale_ = false;
      maps_ = nullptr;
    }
    if (!own_ok_) return false;
    text = &own_;
  }
  if (text != nullptr) {
    const core::MapsEntry* e = or_next ? text->find_from(addr) : text->find(addr);
    none_ = e == nullptr;
    if (e == nullptr) return false;
    out = vma_of(*e);
    return true;
  }
  if (query_->find(addr, or_next, false, out)) return true;
  none_ = query_->last_error() == -ENOENT;  // no such VMA
  // No PROCMAP_QUERY in this kernel (ENOTTY before 6.11). Before any change
  // the caller plans from the text it reads once for every object; after a
  // change, the text is read again here.
  if (none_ || !stale_) return false;
  query_ = nullptr;
  return find(addr, or_next, out);
}

unsigned ProtLookup::allowed(unsigned asked, unsigned cur) {
  if ((asked & kProtRead) == 0 || (cur & ~asked & kProtExec) == 0) return asked;  // it could not matter
  if (read_implies_exec_ < 0) read_implies_exec_ = sys::read_implies_exec() ? 1 : 0;
  return read_implies_exec_ == 1 ? asked | kProtExec : asked;
}

Verdict settle(ProtLookup* look, core::Range part, unsigned cur, unsigned want, ProtStats& st) {
  const unsigned target = cur & want;  // never a permission the part does not have now
  unsigned now = cur;
  if (target != cur && look != nullptr) {
    const long rc = sys::mprotect(part.begin, part.size(), target);
    look->changed();
    // What the kernel made of it: under READ_IMPLIES_EXEC a readable part
    // stays executable. An answer that does not cover the part is no answer.
    Vma v;
    if (rc == 0 && look->find(part.begin, false, v) && v.range.begin <= part.begin && v.range.end >= part.end)
      now = prot_of(v);
    else if (rc == 0)
      now = kProtRead | kProtWrite | kProtExec;  // unknown: not sealed
  }
  if (wx(now)) {
    ++st.wx_refused;
    return Verdict::kRefused;
  }
  if ((now & ~want) != 0) {
    ++st.not_restored;
    return Verdict::kRefused;
  }
  if (now != cur) {
    ++st.restored;
    return Verdict::kRestored;
  }
  return Verdict::kSeal;
}

void check_after_seal(ProtLookup& look, core::Range part, unsigned want, ProtStats& st) {
  Vma v;
  if (!look.find(part.begin, false, v) || v.range.begin > part.begin || v.range.end < part.end ||
      (prot_of(v) & ~want) != 0)
    ++st.raced;
}

}  // namespace sealkit::rt
