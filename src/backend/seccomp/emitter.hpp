// The code generator behind build() (filter.hpp has the layout it produces):
// one Emitter writes one program into an Assembler. Its parts live in
//   emit_arith.cpp   64-bit arithmetic on 32-bit words in scratch memory
//   emit_calls.cpp   the dispatch and the per-call blocks
//   emit_search.cpp  the two-level range search
#pragma once

#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <sys/mman.h>

#include <cerrno>
#include <cstddef>
#include <cstdint>

#include "backend/kernel_abi.hpp"
#include "backend/seccomp/bpf_asm.hpp"
#include "backend/seccomp/filter.hpp"
#include "backend/seccomp/range_layout.hpp"

namespace sealkit::backend::seccomp::detail {

inline constexpr std::uint32_t kRetAllow = SECCOMP_RET_ALLOW;
inline constexpr std::uint32_t kX32SyscallBit = 0x40000000u;
inline constexpr std::uint32_t kPageOffsetMask = static_cast<std::uint32_t>(kPageSize - 1);
inline constexpr std::uint32_t kUioMaxIov = 1024;
inline constexpr std::uint32_t kProtSem = 0x8;  // accepted and ignored on x86_64 (arch_validate_prot)
// Islands are flushed once a pending reference is this far back (jt/jf reach 255).
inline constexpr std::size_t kIslandDistance = 200;

// The advice values mseal refuses on a sealed, anonymous, non-writable VMA
// (mm/madvise.c is_discard / can_madvise_modify).
// The i386 numbers of the guarded calls (arch/x86/entry/syscalls/syscall_32.tbl,
// asm/unistd_32.h; tests/backend/i386_numbers.cpp checks them against the header).
namespace i386 {
inline constexpr std::uint32_t kOldMmap = 90;  // its arguments are a pointer to a struct in memory
inline constexpr std::uint32_t kMunmap = 91;
inline constexpr std::uint32_t kIpc = 117;  // the multiplexer: compat_ksys_ipc (ipc/syscall.c)
inline constexpr std::uint32_t kMprotect = 125;
inline constexpr std::uint32_t kMremap = 163;
inline constexpr std::uint32_t kMmap2 = 192;  // sys_mmap_pgoff: the offset in pages
inline constexpr std::uint32_t kMadvise = 219;
inline constexpr std::uint32_t kPkeyMprotect = 380;
inline constexpr std::uint32_t kShmat = 397;
inline constexpr std::uint32_t kProcessMadvise = 440;
inline constexpr std::uint32_t kIpcShmat = 21;  // ipc's call SHMAT (linux/ipc.h); version 1 is EINVAL
}  // namespace i386

inline constexpr std::uint32_t kDiscardAdvice[] = {MADV_FREE,        MADV_DONTNEED,   MADV_DONTNEED_LOCKED,
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
  // Programs that guard i386 (I386Guard::kAll): 0xffffffff for an x86_64
  // call, 0 for an i386 one. Every argument's high word is ANDed with it, so
  // the per-call blocks serve both ABIs: i386 arguments are 32-bit, but
  // seccomp shows the caller's whole registers (int 0x80 from a 64-bit
  // process: high words the caller chose), so an i386 high word counts as 0.
  kHighMask,
};

inline std::uint32_t arg_offset(int arg, bool high) noexcept {
  return static_cast<std::uint32_t>(offsetof(seccomp_data, args) + 8 * static_cast<std::size_t>(arg) + (high ? 4 : 0));
}

inline std::uint16_t op(int code) noexcept { return static_cast<std::uint16_t>(code); }

class Emitter {
 public:
  Emitter(Assembler& a, const Input& in, const RangeLayout& all, const RangeLayout& discard,
          const std::uint8_t* long_nodes, bool exact_mremap_destination, I386Guard i386_guard) noexcept
      : a_(a),
        in_(in),
        all_(all),
        discard_(discard),
        long_nodes_(long_nodes),
        exact_dest_(exact_mremap_destination),
        i386_guard_(i386_guard) {}

  void program();

 private:
  // ---- the program's phases (emit_calls.cpp) ----
  enum class Block : std::uint8_t { kShared, kMmap, kMunmap, kMprotect, kShmat, kMremap, kMadvise, kProcessMadvise };
  struct GuardedCall {
    std::uint32_t nr = 0;
    Label block = kNoLabel;
    Block emit = Block::kShared;  // kShared: another entry's block serves this number too
  };
  struct GuardedCalls {
    GuardedCall x86_64[8];
    std::size_t count = 0;
    GuardedCall i386[8];  // the i386 numbers entering the x86_64 blocks
    std::size_t i386_count = 0;
    bool has_all = false;      // mprotect, munmap, mmap, mremap, shmat over every range
    bool has_discard = false;  // madvise and process_madvise over the discard-protected ranges
  };
  Label arch_dispatch();
  GuardedCalls guarded_calls();
  void first_dispatch(const GuardedCalls& c, Label guarded_call);
  void first_dispatch_i386(const GuardedCalls& c, Label i386_entry, Label guarded_call);
  void second_dispatch(const GuardedCalls& c);
  void emit_block(const GuardedCall& call);

  // ---- single instructions ----
  void ld_abs(std::uint32_t offset) { a_.stmt(op(BPF_LD | BPF_W | BPF_ABS), offset); }
  // An argument's word; a high word masked with kHighMask when the blocks serve i386 too.
  void ld_arg(int arg, bool high) {
    if (high && i386_guard_ == I386Guard::kAll) {
      ldx(kHighMask);
      ld_abs(arg_offset(arg, high));
      a_.stmt(op(BPF_ALU | BPF_AND | BPF_X), 0);
    } else {
      ld_abs(arg_offset(arg, high));
    }
  }
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
  void mremap_arguments(Label pass, Label to_source);
  void mremap_exact_search(Label pass, Label to_source);
  void mremap_hull_search(Label pass, Label to_source);
  void block_common_request();
  void mremap_source_range();
  // i386, decided in its first dispatch without scratch memory:
  // shmat(shmid, addr, flags) and ipc(SHMAT, shmid, flags, result, addr).
  void block_i386_shmat(Label entry, Label deny, Label pass);
  void block_i386_ipc(Label entry, Label deny, Label pass);
  void i386_shm_address(int addr_arg, int flags_arg, Label deny, Label pass);

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
  I386Guard i386_guard_;
  bool i386_discard_ = false;     // a discard-protected range is within i386 reach
  Label mmap_i386_ = kNoLabel;    // mmap2's entry into the mmap block, past the x86_64 offset check

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

}  // namespace sealkit::backend::seccomp::detail
