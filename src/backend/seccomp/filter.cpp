#include "backend/seccomp/filter.hpp"

#include <linux/audit.h>
#include <linux/seccomp.h>
#include <sys/mman.h>
#include <sys/shm.h>
#include <sys/syscall.h>

#include <cerrno>
#include <cstddef>
#include <cstring>
#include <initializer_list>
#include <new>

#include "backend/kernel_abi.hpp"

namespace sealkit::backend::seccomp {
namespace {

constexpr std::uint32_t kRetAllow = SECCOMP_RET_ALLOW;
constexpr std::uint32_t kRetDeny = SECCOMP_RET_ERRNO | EPERM;
constexpr std::uint32_t kX32SyscallBit = 0x40000000u;
constexpr std::uint32_t kPageOffsetMask = static_cast<std::uint32_t>(kPageSize - 1);
constexpr std::uint32_t kUioMaxIov = 1024;
constexpr std::uint32_t kProtSem = 0x8;  // accepted and ignored on x86_64 (arch_validate_prot)
// Islands are flushed once a pending reference is this far back (jt/jf reach 255).
constexpr std::size_t kIslandDistance = 200;

// The advice values mseal refuses on a sealed, anonymous, non-writable VMA
// (mm/madvise.c is_discard / can_madvise_modify).
constexpr std::uint32_t kDiscardAdvice[] = {MADV_FREE,        MADV_DONTNEED,   MADV_DONTNEED_LOCKED,
                                            MADV_REMOVE,      MADV_DONTFORK,   MADV_WIPEONFORK,
                                            MADV_GUARD_INSTALL};

// Scratch memory words (BPF_MEMWORDS = 16).
enum Slot : std::uint32_t {
  kSHi,   // request start S (64-bit)
  kSLo,
  kLHi,   // request last address L (inclusive)
  kLLo,
  kQHi,   // L's low word if L is in S's window, else 0xffffffff
  kRHi,   // a rounded length
  kRLo,
  kNHi,   // mremap: the rounded new length
  kNLo,
  kEHi,   // an end address (exclusive)
  kELo,
  kDHi,   // mremap: destination start
  kDLo,
  kDLHi,  // mremap: destination last address
  kDLLo,
};

std::uint32_t arg_offset(int arg, bool high) noexcept {
  return static_cast<std::uint32_t>(offsetof(seccomp_data, args) + 8 * static_cast<std::size_t>(arg) + (high ? 4 : 0));
}

std::uint16_t op(int code) noexcept { return static_cast<std::uint16_t>(code); }

class Emitter {
 public:
  Emitter(Assembler& a, const Input& in, const RangeLayout& all, const RangeLayout& discard,
          const std::uint8_t* long_nodes, bool exact_mremap_destination) noexcept
      : a_(a), in_(in), all_(all), discard_(discard), long_nodes_(long_nodes), exact_dest_(exact_mremap_destination) {}

  void program();

 private:
  // ---- single instructions ----
  void ld_abs(std::uint32_t offset) { a_.stmt(op(BPF_LD | BPF_W | BPF_ABS), offset); }
  void ld_arg(int arg, bool high) { ld_abs(arg_offset(arg, high)); }
  void ld(Slot s) { a_.stmt(op(BPF_LD | BPF_MEM), s); }
  void ldx(Slot s) { a_.stmt(op(BPF_LDX | BPF_MEM), s); }
  void st(Slot s) { a_.stmt(op(BPF_ST), s); }
  void ld_imm(std::uint32_t k) { a_.stmt(op(BPF_LD | BPF_IMM), k); }
  void alu(int alu_op, std::uint32_t k) { a_.stmt(op(BPF_ALU | alu_op | BPF_K), k); }
  void add_x() { a_.stmt(op(BPF_ALU | BPF_ADD | BPF_X), 0); }
  void ret(std::uint32_t k) { a_.stmt(op(BPF_RET | BPF_K), k); }
  void jmp(int cond, std::uint32_t k, Label jt, Label jf) { a_.jump(op(BPF_JMP | cond | BPF_K), k, jt, jf); }
  void jmp_x(int cond, Label jt, Label jf) { a_.jump(op(BPF_JMP | cond | BPF_X), 0, jt, jf); }
  void ja(Label l) { a_.jump_always(l); }
  Label label() { return a_.label(); }
  void bind(Label l) { a_.bind(l); }

  // ---- 64-bit arithmetic in scratch memory ----
  void store_arg(int arg, Slot hi, Slot lo);
  void round_up_len(int arg, Slot hi, Slot lo, Label wrapped);
  void if_zero64(Slot hi, Slot lo, Label zero, Label nonzero);
  void add64(Slot ahi, Slot alo, Slot bhi, Slot blo, Slot ohi, Slot olo, Label overflow);
  void gt64_const(Slot hi, Slot lo, std::uint64_t c, Label yes, Label no);
  void last_from_end(Slot ehi, Slot elo, Slot lhi, Slot llo);
  void less64(Slot ahi, Slot alo, Slot bhi, Slot blo, Label yes, Label no);
  void copy(Slot from, Slot to) {
    ld(from);
    st(to);
  }

  // S = addr and E = addr + PAGE_ALIGN(len), passing (to `pass`) what every
  // one of these calls refuses before its seal check.
  void plain_request(int addr_arg, int len_arg, Label pass);
  void if_discard_advice(int arg, Label yes, Label no);

  // ---- per-call blocks ----
  void block_mprotect(Label entry);
  void block_munmap(Label entry);
  void block_mmap(Label entry);
  void block_madvise(Label entry);
  void block_process_madvise(Label entry);
  void block_shmat(Label entry);
  void block_mremap(Label entry);
  void block_common_request();
  void mremap_source_range();

  // ---- the range search ----
  void tree(const RangeLayout& t, Label entry, Label none_target);
  template <typename Key, typename Leaf>
  void search(std::size_t lo, std::size_t hi, Key key, Leaf leaf);
  Label deny_island();
  Label none_island();
  void maybe_flush_islands(bool force);
  void emit_none();

  Assembler& a_;
  const Input& in_;
  const RangeLayout& all_;
  const RangeLayout& discard_;
  const std::uint8_t* long_nodes_;
  bool exact_dest_;

  Label main_tree_ = kNoLabel;
  Label discard_tree_ = kNoLabel;
  Label mremap_source_ = kNoLabel;
  Label common_request_ = kNoLabel;
  std::uint32_t node_serial_ = 0;
  // Islands of the tree being emitted.
  Label none_target_ = kNoLabel;
  Label deny_island_ = kNoLabel;
  Label none_island_ = kNoLabel;
  std::size_t island_first_use_ = 0;
};

// ---------------------------------------------------------------- arithmetic

void Emitter::store_arg(int arg, Slot hi, Slot lo) {
  ld_arg(arg, true);
  st(hi);
  ld_arg(arg, false);
  st(lo);
}

void Emitter::round_up_len(int arg, Slot hi, Slot lo, Label wrapped) {
  ld_arg(arg, true);
  st(hi);
  ld_arg(arg, false);
  alu(BPF_ADD, kPageOffsetMask);
  st(lo);
  Label carry = label(), no_carry = label();
  jmp(BPF_JGE, kPageOffsetMask, no_carry, carry);  // the low word wrapped iff it is now below the addend
  bind(carry);
  ld(hi);
  alu(BPF_ADD, 1);
  st(hi);
  jmp(BPF_JEQ, 0, wrapped, no_carry);
  bind(no_carry);
  ld(lo);
  alu(BPF_AND, ~kPageOffsetMask);
  st(lo);
}

void Emitter::if_zero64(Slot hi, Slot lo, Label zero, Label nonzero) {
  ld(hi);
  Label check_low = label();
  jmp(BPF_JEQ, 0, check_low, nonzero);
  bind(check_low);
  ld(lo);
  jmp(BPF_JEQ, 0, zero, nonzero);
}

void Emitter::add64(Slot ahi, Slot alo, Slot bhi, Slot blo, Slot ohi, Slot olo, Label overflow) {
  ldx(blo);
  ld(alo);
  add_x();
  st(olo);
  Label carry = label(), no_carry = label(), add_high = label(), done = label();
  jmp_x(BPF_JGE, no_carry, carry);
  bind(carry);
  ld(ahi);
  alu(BPF_ADD, 1);
  st(ohi);
  jmp(BPF_JEQ, 0, overflow, add_high);
  bind(no_carry);
  copy(ahi, ohi);
  bind(add_high);
  ldx(bhi);
  ld(ohi);
  add_x();
  st(ohi);
  jmp_x(BPF_JGE, done, overflow);
  bind(done);
}

void Emitter::gt64_const(Slot hi, Slot lo, std::uint64_t c, Label yes, Label no) {
  const auto c_hi = static_cast<std::uint32_t>(c >> 32), c_lo = static_cast<std::uint32_t>(c);
  Label high_equal = label();
  ld(hi);
  Label not_greater = label();
  jmp(BPF_JGT, c_hi, yes, not_greater);
  bind(not_greater);
  jmp(BPF_JEQ, c_hi, high_equal, no);
  bind(high_equal);
  ld(lo);
  jmp(BPF_JGT, c_lo, yes, no);
}

void Emitter::last_from_end(Slot ehi, Slot elo, Slot lhi, Slot llo) {
  Label borrow = label(), no_borrow = label(), done = label();
  ld(elo);
  jmp(BPF_JEQ, 0, borrow, no_borrow);
  bind(no_borrow);
  alu(BPF_SUB, 1);
  st(llo);
  copy(ehi, lhi);
  ja(done);
  bind(borrow);
  ld_imm(0xffffffffu);
  st(llo);
  ld(ehi);
  alu(BPF_SUB, 1);
  st(lhi);
  bind(done);
}

void Emitter::less64(Slot ahi, Slot alo, Slot bhi, Slot blo, Label yes, Label no) {
  Label high_not_greater = label(), high_equal = label();
  ld(ahi);
  ldx(bhi);
  jmp_x(BPF_JGT, no, high_not_greater);
  bind(high_not_greater);
  jmp_x(BPF_JEQ, high_equal, yes);
  bind(high_equal);
  ld(alo);
  ldx(blo);
  jmp_x(BPF_JGE, no, yes);
}

void Emitter::plain_request(int addr_arg, int len_arg, Label pass) {
  Label aligned = label(), zero_checked = label();
  ld_arg(addr_arg, false);
  jmp(BPF_JSET, kPageOffsetMask, pass, aligned);  // EINVAL
  bind(aligned);
  store_arg(addr_arg, kSHi, kSLo);
  round_up_len(len_arg, kRHi, kRLo, pass);     // PAGE_ALIGN(len) wrapped: EINVAL/ENOMEM
  if_zero64(kRHi, kRLo, pass, zero_checked);  // len 0: success or EINVAL, never EPERM
  bind(zero_checked);
  add64(kSHi, kSLo, kRHi, kRLo, kEHi, kELo, pass);  // start + len overflows: EINVAL/ENOMEM
}

void Emitter::if_discard_advice(int arg, Label yes, Label no) {
  ld_arg(arg, false);  // an int: the high word is ignored by the kernel
  for (std::uint32_t advice : kDiscardAdvice) {
    Label next = label();
    jmp(BPF_JEQ, advice, yes, next);
    bind(next);
  }
  ja(no);
}

// ---------------------------------------------------------------- blocks

void Emitter::block_mprotect(Label entry) {
  // mprotect(addr, len, prot) and pkey_mprotect(addr, len, prot, pkey).
  bind(entry);
  Label pass = label(), prot_low = label(), grows = label(), prot_ok = label();
  ld_arg(2, true);
  jmp(BPF_JEQ, 0, prot_low, pass);  // prot is unsigned long: high bits are invalid
  bind(prot_low);
  ld_arg(2, false);
  const std::uint32_t valid = PROT_READ | PROT_WRITE | PROT_EXEC | kProtSem | PROT_GROWSDOWN | PROT_GROWSUP;
  Label known = label();
  jmp(BPF_JSET, ~valid, pass, known);
  bind(known);
  jmp(BPF_JSET, PROT_GROWSDOWN, grows, prot_ok);
  bind(grows);
  jmp(BPF_JSET, PROT_GROWSUP, pass, prot_ok);  // both: EINVAL
  bind(prot_ok);
  ja(common_request_);
  bind(pass);
  ret(kRetAllow);
}

void Emitter::block_common_request() {
  // mprotect, pkey_mprotect, munmap, mmap(MAP_FIXED) and madvise(discard) all
  // name [arg0, arg0 + PAGE_ALIGN(arg1)); they differ after that in the nr alone.
  bind(common_request_);
  Label pass = label(), limited = label(), no_limit = label(), check_mmap = label();
  plain_request(0, 1, pass);
  // munmap: start > TASK_SIZE or len > TASK_SIZE - start is EINVAL; mmap: ENOMEM.
  ld_abs(offsetof(seccomp_data, nr));
  alu(BPF_AND, ~kX32SyscallBit);
  jmp(BPF_JEQ, __NR_munmap, limited, check_mmap);
  bind(check_mmap);
  jmp(BPF_JEQ, __NR_mmap, limited, no_limit);
  bind(limited);
  gt64_const(kEHi, kELo, in_.task_size, pass, no_limit);
  bind(no_limit);
  last_from_end(kEHi, kELo, kLHi, kLLo);
  if (discard_.window_count != 0) {
    Label to_discard = label(), to_main = label();
    ld_abs(offsetof(seccomp_data, nr));
    alu(BPF_AND, ~kX32SyscallBit);
    jmp(BPF_JEQ, __NR_madvise, to_discard, to_main);
    bind(to_discard);
    ja(discard_tree_);
    bind(to_main);
  }
  ja(main_tree_);
  bind(pass);
  ret(kRetAllow);
}

void Emitter::block_munmap(Label entry) {
  bind(entry);
  ja(common_request_);
}

void Emitter::block_mmap(Label entry) {
  // mmap(addr, len, prot, flags, fd, off): only MAP_FIXED replaces a mapping;
  // MAP_FIXED_NOREPLACE fails with EEXIST on any existing mapping, sealed or not.
  bind(entry);
  Label pass = label(), fixed = label(), replaces = label(), offset_ok = label();
  ld_arg(3, false);
  jmp(BPF_JSET, MAP_FIXED, fixed, pass);
  bind(fixed);
  jmp(BPF_JSET, MAP_FIXED_NOREPLACE, pass, replaces);
  bind(replaces);
  ld_arg(5, false);
  jmp(BPF_JSET, kPageOffsetMask, pass, offset_ok);  // unaligned file offset: EINVAL
  bind(offset_ok);
  ja(common_request_);
  bind(pass);
  ret(kRetAllow);
}

void Emitter::block_madvise(Label entry) {
  bind(entry);
  Label pass = label(), discard = label();
  if_discard_advice(2, discard, pass);
  bind(discard);
  ja(common_request_);
  bind(pass);
  ret(kRetAllow);
}

void Emitter::block_process_madvise(Label entry) {
  // process_madvise(pidfd, iovec, vlen, advice, flags): the filter can read
  // neither the iovec (user memory) nor whom pidfd names, so a discard advice
  // is refused whenever anything is discard-protected (docs/seccomp.md).
  bind(entry);
  Label pass = label(), flags_ok = label(), discard = label(), vlen_low = label(), vlen_nonzero = label();
  ld_arg(4, false);
  jmp(BPF_JEQ, 0, flags_ok, pass);  // flags != 0: EINVAL
  bind(flags_ok);
  if_discard_advice(3, discard, pass);
  bind(discard);
  ld_arg(2, true);
  jmp(BPF_JEQ, 0, vlen_low, pass);  // vlen > UIO_MAXIOV: EINVAL
  bind(vlen_low);
  ld_arg(2, false);
  jmp(BPF_JEQ, 0, pass, vlen_nonzero);  // nothing to do
  bind(vlen_nonzero);
  Label deny = label();
  jmp(BPF_JGT, kUioMaxIov, pass, deny);
  bind(deny);
  ret(kRetDeny);
  bind(pass);
  ret(kRetAllow);
}

void Emitter::block_shmat(Label entry) {
  // shmat(shmid, addr, flags) with SHM_REMAP maps the whole segment over
  // [addr, addr + its size): the size is not an argument, so everything from
  // addr up counts (docs/seccomp.md).
  bind(entry);
  Label pass = label(), remap = label(), nonzero = label(), unaligned = label(), aligned = label();
  ld_arg(2, false);
  jmp(BPF_JSET, SHM_REMAP, remap, pass);
  bind(remap);
  store_arg(1, kSHi, kSLo);
  if_zero64(kSHi, kSLo, pass, nonzero);  // SHM_REMAP without an address: EINVAL
  bind(nonzero);
  ld(kSLo);
  jmp(BPF_JSET, kPageOffsetMask, unaligned, aligned);
  bind(unaligned);
  Label round_down = label(), rounded = label();
  ld_arg(2, false);
  jmp(BPF_JSET, SHM_RND, round_down, pass);  // unaligned without SHM_RND: EINVAL
  bind(round_down);
  ld(kSLo);
  alu(BPF_AND, ~kPageOffsetMask);  // SHMLBA is the page size on x86_64
  st(kSLo);
  if_zero64(kSHi, kSLo, pass, rounded);  // rounded down to 0 with SHM_REMAP: EINVAL
  bind(rounded);
  bind(aligned);
  ld_imm(0xffffffffu);
  st(kLHi);
  st(kLLo);
  ja(main_tree_);
  bind(pass);
  ret(kRetAllow);
}

void Emitter::block_mremap(Label entry) {
  // mremap(addr, old_len, new_len, flags, new_addr). First every EINVAL of
  // check_mremap_params (mm/mremap.c), then the destination (MREMAP_FIXED
  // unmaps it), then the source.
  bind(entry);
  Label pass = label(), flags_low = label(), flags_ok = label(), to_source = label();
  ld_arg(3, true);
  jmp(BPF_JEQ, 0, flags_low, pass);
  bind(flags_low);
  ld_arg(3, false);
  jmp(BPF_JSET, ~static_cast<std::uint32_t>(MREMAP_MAYMOVE | MREMAP_FIXED | MREMAP_DONTUNMAP), pass, flags_ok);
  bind(flags_ok);
  Label aligned = label();
  ld_arg(0, false);
  jmp(BPF_JSET, kPageOffsetMask, pass, aligned);
  bind(aligned);
  // PAGE_ALIGN(old_len): a wrapped one is 0, the "duplicate a shared mapping" case.
  Label old_wrapped = label(), old_done = label();
  round_up_len(1, kRHi, kRLo, old_wrapped);
  ja(old_done);
  bind(old_wrapped);
  ld_imm(0);
  st(kRHi);
  st(kRLo);
  bind(old_done);
  // PAGE_ALIGN(new_len): 0 or above TASK_SIZE is EINVAL.
  Label new_nonzero = label(), new_ok = label();
  round_up_len(2, kNHi, kNLo, pass);
  if_zero64(kNHi, kNLo, pass, new_nonzero);
  bind(new_nonzero);
  gt64_const(kNHi, kNLo, in_.task_size, pass, new_ok);
  bind(new_ok);
  // A new address is implied by MREMAP_FIXED or MREMAP_DONTUNMAP.
  Label implies_new = label();
  ld_arg(3, false);
  jmp(BPF_JSET, MREMAP_FIXED | MREMAP_DONTUNMAP, implies_new, to_source);
  bind(implies_new);
  Label new_aligned = label(), may_move = label(), dest_in_task = label();
  ld_arg(4, false);
  jmp(BPF_JSET, kPageOffsetMask, pass, new_aligned);
  bind(new_aligned);
  ld_arg(3, false);
  jmp(BPF_JSET, MREMAP_MAYMOVE, may_move, pass);
  bind(may_move);
  store_arg(4, kDHi, kDLo);
  add64(kDHi, kDLo, kNHi, kNLo, kEHi, kELo, pass);
  gt64_const(kEHi, kELo, in_.task_size, pass, dest_in_task);  // new_addr > TASK_SIZE - new_len
  bind(dest_in_task);
  last_from_end(kEHi, kELo, kDLHi, kDLLo);
  // MREMAP_DONTUNMAP may not resize.
  Label dontunmap = label(), sizes_ok = label(), low_equal = label();
  ld_arg(3, false);
  jmp(BPF_JSET, MREMAP_DONTUNMAP, dontunmap, sizes_ok);
  bind(dontunmap);
  ld(kRLo);
  ldx(kNLo);
  jmp_x(BPF_JEQ, low_equal, pass);
  bind(low_equal);
  ld(kRHi);
  ldx(kNHi);
  jmp_x(BPF_JEQ, sizes_ok, pass);
  bind(sizes_ok);
  // Only MREMAP_FIXED unmaps what is at the destination.
  Label fixed = label();
  ld_arg(3, false);
  jmp(BPF_JSET, MREMAP_FIXED, fixed, to_source);
  bind(fixed);
  if (exact_dest_) {
    copy(kDHi, kSHi);
    copy(kDLo, kSLo);
    copy(kDLHi, kLHi);
    copy(kDLLo, kLLo);
    Label dest_tree = label();
    ja(dest_tree);
    bind(to_source);
    ja(mremap_source_);
    bind(pass);
    ret(kRetAllow);
    tree(all_, dest_tree, mremap_source_);  // no overlap there: go on with the source
    bind(mremap_source_);
    mremap_source_range();
    ja(main_tree_);
    return;
  }
  // Budget mode: one search over the hull of source and destination.
  mremap_source_range();
  Label s_ok = label(), l_ok = label(), take_s = label(), take_l = label();
  less64(kDHi, kDLo, kSHi, kSLo, take_s, s_ok);
  bind(take_s);
  copy(kDHi, kSHi);
  copy(kDLo, kSLo);
  bind(s_ok);
  less64(kLHi, kLLo, kDLHi, kDLLo, take_l, l_ok);
  bind(take_l);
  copy(kDLHi, kLHi);
  copy(kDLLo, kLLo);
  bind(l_ok);
  ja(main_tree_);
  bind(to_source);
  mremap_source_range();
  ja(main_tree_);
  bind(pass);
  ret(kRetAllow);
}

void Emitter::mremap_source_range() {
  // The source: [addr, addr + max(PAGE_ALIGN(old_len), one page)) since the
  // kernel refuses a sealed VMA at addr even for old_len 0; if addr + old_len
  // overflows, everything from addr up (the kernel checks the VMA at addr
  // before it looks at the length).
  Label zero = label(), sized = label(), overflow = label(), done = label();
  store_arg(0, kSHi, kSLo);
  if_zero64(kRHi, kRLo, zero, sized);
  bind(zero);
  ld_imm(static_cast<std::uint32_t>(kPageSize));
  st(kRLo);
  bind(sized);
  add64(kSHi, kSLo, kRHi, kRLo, kEHi, kELo, overflow);
  last_from_end(kEHi, kELo, kLHi, kLLo);
  ja(done);
  bind(overflow);
  ld_imm(0xffffffffu);
  st(kLHi);
  st(kLLo);
  bind(done);
}

// ---------------------------------------------------------------- the search

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
    ret(kRetDeny);
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
      ret(kRetDeny);
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

// ---------------------------------------------------------------- the program

void Emitter::program() {
  main_tree_ = label();
  discard_tree_ = label();
  mremap_source_ = label();
  common_request_ = label();
  Label x86_64 = label(), other_abi = label();
  ld_abs(offsetof(seccomp_data, arch));
  jmp(BPF_JEQ, AUDIT_ARCH_X86_64, x86_64, other_abi);
  bind(other_abi);
  ret(kRetAllow);
  bind(x86_64);
  ld_abs(offsetof(seccomp_data, nr));
  Label x32 = label(), dispatch = label();
  jmp(BPF_JSET, kX32SyscallBit, x32, dispatch);
  bind(x32);
  alu(BPF_AND, ~kX32SyscallBit);  // x32 shares these calls' numbers and arguments
  bind(dispatch);

  enum class Block { kShared, kMmap, kMunmap, kMprotect, kShmat, kMremap, kMadvise, kProcessMadvise };
  struct Guarded {
    std::uint32_t nr;
    Label block;
    Block emit;  // kShared: the previous entry's block serves this number too
  };
  const bool has_all = all_.window_count != 0;
  const bool has_discard = discard_.window_count != 0;
  Guarded guarded[8];
  std::size_t n = 0;
  if (has_all) {
    guarded[n++] = {__NR_mmap, label(), Block::kMmap};
    guarded[n++] = {__NR_munmap, label(), Block::kMunmap};
    guarded[n++] = {__NR_mprotect, label(), Block::kMprotect};
    guarded[n] = {__NR_pkey_mprotect, guarded[n - 1].block, Block::kShared};
    ++n;
    guarded[n++] = {__NR_shmat, label(), Block::kShmat};
    guarded[n++] = {__NR_mremap, label(), Block::kMremap};
  }
  if (has_discard) {
    guarded[n++] = {__NR_madvise, label(), Block::kMadvise};
    guarded[n++] = {__NR_process_madvise, label(), Block::kProcessMadvise};
  }
  if (n == 0) {
    ret(kRetAllow);
    return;
  }
  // First dispatch: guarded or not. Only arch and nr are read on the way to
  // the RET ALLOW of the others, and no scratch store happens (the kernel's
  // action cache emulates that path and gives up at anything else).
  Label guarded_call = label();
  for (std::size_t i = 0; i < n; ++i) {
    Label next = label();
    jmp(BPF_JEQ, guarded[i].nr, guarded_call, next);
    bind(next);
  }
  ret(kRetAllow);
  // Every scratch word is stored once here: the kernel's load-before-store
  // check walks the program linearly and lets a RET's state flow into the next
  // instruction, so a block placed after a RET would otherwise be refused.
  bind(guarded_call);
  ld_imm(0);
  for (std::uint32_t slot = 0; slot < BPF_MEMWORDS; ++slot) st(static_cast<Slot>(slot));
  ld_abs(offsetof(seccomp_data, nr));
  alu(BPF_AND, ~kX32SyscallBit);
  for (std::size_t i = 0; i < n; ++i) {
    Label hit = label(), next = label();
    jmp(BPF_JEQ, guarded[i].nr, hit, next);
    bind(hit);
    ja(guarded[i].block);
    bind(next);
  }
  ret(kRetAllow);
  for (std::size_t i = 0; i < n; ++i) {
    const Label entry = guarded[i].block;
    switch (guarded[i].emit) {
      case Block::kShared: break;
      case Block::kMmap: block_mmap(entry); break;
      case Block::kMunmap: block_munmap(entry); break;
      case Block::kMprotect: block_mprotect(entry); break;
      case Block::kShmat: block_shmat(entry); break;
      case Block::kMremap: block_mremap(entry); break;
      case Block::kMadvise: block_madvise(entry); break;
      case Block::kProcessMadvise: block_process_madvise(entry); break;
    }
  }
  block_common_request();
  if (has_all) tree(all_, main_tree_, kNoLabel);
  if (has_discard) tree(discard_, discard_tree_, kNoLabel);
  ret(kRetAllow);  // never reached; the kernel wants a program to end in a return
}

// ---------------------------------------------------------------- build

}  // namespace

BuildStatus build(const Input& in, Program& out, BuildWorkspace& work) noexcept {
  out.length = 0;
  // Without TASK_SIZE every munmap and MAP_FIXED would look out of range and pass.
  if (in.task_size == 0 || (in.task_size & (kPageSize - 1)) != 0) return BuildStatus::kInvalidRange;
  LayoutStatus st = make_layout(in.ranges, in.count, false, work.spans, work.all);
  if (st == LayoutStatus::kInvalidRange) return BuildStatus::kInvalidRange;
  if (st == LayoutStatus::kTooMany) return BuildStatus::kTooLarge;
  st = make_layout(in.ranges, in.count, true, work.spans, work.discard);
  if (st != LayoutStatus::kOk) return BuildStatus::kTooLarge;

  std::uint8_t* long_nodes = work.long_nodes;
  for (bool exact : {true, false}) {
    if (exact && !in.try_exact_mremap_destination) continue;
    std::memset(long_nodes, 0, sizeof(work.long_nodes));
    for (int pass = 0; pass < 64; ++pass) {
      Assembler a(work.assembler);
      Emitter e(a, in, work.all, work.discard, long_nodes, exact);
      e.program();
      AsmStatus as = a.finish();
      if (as == AsmStatus::kOk) {
        std::memcpy(out.insns, a.instructions(), a.size() * sizeof(sock_filter));
        out.length = a.size();
        out.merged_ranges = work.all.merged_ranges;
        out.discard_ranges = work.discard.merged_ranges;
        out.pieces = work.all.piece_count;
        out.exact_mremap_destination = exact;
        return BuildStatus::kOk;
      }
      if (as == AsmStatus::kTooLarge) break;
      if (as != AsmStatus::kFarJump) return BuildStatus::kInternal;
      for (std::size_t i = 0; i < a.far_jump_count() && i < 256; ++i) {
        std::uint32_t tag = a.far_jump_tag(i);
        if (tag == 0 || tag >= kMaxTreeNodes) return BuildStatus::kInternal;
        long_nodes[tag] = 1;
      }
    }
  }
  return BuildStatus::kTooLarge;
}

BuildStatus build(const Input& in, Program& out) noexcept {
  BuildWorkspace* work = new (std::nothrow) BuildWorkspace;
  if (work == nullptr) {
    out.length = 0;
    return BuildStatus::kNoMemory;
  }
  BuildStatus st = build(in, out, *work);
  delete work;
  return st;
}

const char* to_string(BuildStatus s) noexcept {
  switch (s) {
    case BuildStatus::kOk: return "ok";
    case BuildStatus::kTooLarge: return "the ranges do not fit in one filter";
    case BuildStatus::kInvalidRange: return "a range is empty or not page-aligned";
    case BuildStatus::kNoMemory: return "no memory for the workspace";
    case BuildStatus::kInternal: return "internal error in the filter generator";
  }
  return "unknown";
}

int to_errno(BuildStatus s) noexcept {
  switch (s) {
    case BuildStatus::kOk: return 0;
    case BuildStatus::kTooLarge: return ENOMEM;
    case BuildStatus::kInvalidRange: return EINVAL;
    case BuildStatus::kNoMemory: return ENOMEM;
    case BuildStatus::kInternal: return EFAULT;
  }
  return EFAULT;
}

std::uint64_t task_size() noexcept {
  static const std::uint64_t size = [] {
    constexpr std::uint64_t k47 = std::uint64_t{1} << 47;
    // A hint above 2^47 is honoured only with 5-level paging (the kernel never
    // places a mapping there otherwise).
    void* p = ::mmap(reinterpret_cast<void*>(k47 << 1), kPageSize, PROT_NONE,
                     MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    std::uint64_t result = k47 - kPageSize;
    if (p != MAP_FAILED) {
      if (reinterpret_cast<std::uintptr_t>(p) >= k47) result = (std::uint64_t{1} << 56) - kPageSize;
      ::munmap(p, kPageSize);
    }
    return result;
  }();
  return size;
}

}  // namespace sealkit::backend::seccomp
