// The range search: level 1 over 4 GiB windows, level 2 over the pieces of one window.
#include "backend/seccomp/emitter.hpp"

namespace sealkit::backend::seccomp::detail {

Label Emitter::deny_island() {
  if (deny_island_ == kNoLabel) {
    deny_island_ = label();
    if (none_island_ == kNoLabel) island_first_use_ = a_.size();
  }
  return deny_island_;
}

Label Emitter::none_island() {
  if (none_island_ == kNoLabel) {
    none_island_ = label();
    if (deny_island_ == kNoLabel) island_first_use_ = a_.size();
  }
  return none_island_;
}

void Emitter::emit_none() {
  if (none_target_ == kNoLabel) {
    ret(kRetAllow);
  } else {
    ja(none_target_);
  }
}

// Called only where no instruction falls through (after a leaf).
void Emitter::maybe_flush_islands(bool force) {
  if (deny_island_ == kNoLabel && none_island_ == kNoLabel) return;
  if (!force && a_.size() - island_first_use_ < kIslandDistance) return;
  if (deny_island_ != kNoLabel) {
    bind(deny_island_);
    ret(in_.refusal_action);
    deny_island_ = kNoLabel;
  }
  if (none_island_ != kNoLabel) {
    bind(none_island_);
    emit_none();
    none_island_ = kNoLabel;
  }
}

// A balanced search for the first index i in [lo, hi) whose key(i) >= A, with
// hi meaning "none": pre-order, one JGT per node, the left half falling through.
template <typename Key, typename Leaf>
void Emitter::search(std::size_t lo, std::size_t hi, Key key, Leaf leaf) {
  if (lo == hi) {
    a_.set_tag(0);
    leaf(lo);
    maybe_flush_islands(false);
    return;
  }
  const std::size_t mid = lo + (hi - lo) / 2;
  const std::uint32_t serial = ++node_serial_;
  Label right = label(), left = label();
  a_.set_tag(serial);
  if (serial < kMaxTreeNodes && long_nodes_[serial]) {
    Label trampoline = label();
    jmp(BPF_JGT, key(mid), trampoline, left);
    a_.set_tag(0);
    bind(trampoline);
    ja(right);
  } else {
    jmp(BPF_JGT, key(mid), right, left);
    a_.set_tag(0);
  }
  bind(left);
  search(lo, mid, key, leaf);
  bind(right);
  search(mid + 1, hi, key, leaf);
}

void Emitter::tree(const RangeLayout& t, Label entry, Label none_target) {
  none_target_ = none_target;
  deny_island_ = none_island_ = kNoLabel;
  bind(entry);
  if (t.window_count == 0) {
    emit_none();
    return;
  }
  // QHi: L's low word when L is in S's window; otherwise every offset of S's
  // window is <= L, so 0xffffffff.
  Label same = label(), cross = label(), search_start = label();
  ld(kSHi);
  ldx(kLHi);
  jmp_x(BPF_JEQ, same, cross);
  bind(same);
  copy(kLLo, kQHi);
  ja(search_start);
  bind(cross);
  ld_imm(0xffffffffu);
  st(kQHi);
  bind(search_start);
  ld(kSHi);

  const std::size_t n = t.window_count;
  Label in_window[kMaxWindows + 1];
  Label gap_before[kMaxWindows + 1];
  for (std::size_t i = 0; i < n; ++i) {
    in_window[i] = label();
    gap_before[i] = label();
  }
  // Level 1: the first window entry whose last window >= S's window.
  search(
      0, n, [&](std::size_t i) { return t.windows[i].last_window; },
      [&](std::size_t i) {
        if (i == n) {
          emit_none();
          return;
        }
        Label to_in = label(), to_gap = label();
        jmp(BPF_JGE, t.windows[i].first_window, to_in, to_gap);
        bind(to_in);
        ja(in_window[i]);
        bind(to_gap);
        ja(gap_before[i]);
      });
  maybe_flush_islands(true);
  for (std::size_t i = 0; i < n; ++i) {
    const WindowEntry& w = t.windows[i];
    // S lies below this entry (and above the previous one): the first sealed
    // address at or above S is this entry's first; deny iff it is <= L.
    bind(gap_before[i]);
    const std::uint32_t first_offset = w.first_offset(t.pieces);
    ld(kLHi);
    if (first_offset == 0) {
      jmp(BPF_JGE, w.first_window, deny_island(), none_island());
    } else {
      Label not_above = label(), equal = label();
      jmp(BPF_JGT, w.first_window, deny_island(), not_above);
      bind(not_above);
      jmp(BPF_JEQ, w.first_window, equal, none_island());
      bind(equal);
      ld(kLLo);
      jmp(BPF_JGE, first_offset, deny_island(), none_island());
    }
    maybe_flush_islands(false);
    // S lies in this entry's windows.
    bind(in_window[i]);
    if (w.full()) {
      ret(in_.refusal_action);
      continue;
    }
    // Level 2: the first piece of this window whose last offset >= S's offset.
    ld(kSLo);
    const Piece* pieces = t.pieces + w.piece_begin;
    const std::size_t count = w.piece_count;
    const bool last_entry = i + 1 == n;
    search(
        0, count, [&](std::size_t j) { return pieces[j].last; },
        [&](std::size_t j) {
          if (j == count) {
            if (last_entry) {
              emit_none();
            } else {
              ja(gap_before[i + 1]);
            }
            return;
          }
          ld(kQHi);
          jmp(BPF_JGE, pieces[j].first, deny_island(), none_island());
        });
  }
  maybe_flush_islands(true);
}

}  // namespace sealkit::backend::seccomp::detail
