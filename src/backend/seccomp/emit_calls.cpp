// The dispatch on arch and nr, and what each guarded call checks before the range search.
#include "backend/seccomp/emitter.hpp"

#include <sys/shm.h>
#include <sys/syscall.h>

namespace sealkit::backend::seccomp::detail {

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
  if (in_.discard_only) {
    ja(discard_tree_);  // madvise is the only call that comes here
  } else if (discard_.window_count != 0) {
    Label to_discard = label(), to_main = label();
    ld_abs(offsetof(seccomp_data, nr));
    alu(BPF_AND, ~kX32SyscallBit);
      if (i386_discard_) {
      Label not_x86_64 = label();
      jmp(BPF_JEQ, __NR_madvise, to_discard, not_x86_64);
      bind(not_x86_64);
      jmp(BPF_JEQ, i386::kMadvise, to_discard, to_main);  // never an x86_64 call: 219 is not guarded there
    } else {
      jmp(BPF_JEQ, __NR_madvise, to_discard, to_main);
    }
    bind(to_discard);
    ja(discard_tree_);
    bind(to_main);
  }
  if (!in_.discard_only) ja(main_tree_);
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
  Label pass = label(), fixed = label(), replaces = label();
  if (i386_guard_ == I386Guard::kAll) {
    // i386 mmap2 has the same arguments but its offset in pages, nothing to
    // check: it enters after the offset check, which therefore comes first.
    ld_arg(5, false);
    jmp(BPF_JSET, kPageOffsetMask, pass, mmap_i386_);  // unaligned file offset: EINVAL
    bind(mmap_i386_);
    ld_arg(3, false);
    jmp(BPF_JSET, MAP_FIXED, fixed, pass);
    bind(fixed);
    jmp(BPF_JSET, MAP_FIXED_NOREPLACE, pass, replaces);
    bind(replaces);
    ja(common_request_);
    bind(pass);
    ret(kRetAllow);
    return;
  }
  Label offset_ok = label();
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
  ret(in_.refusal_action);
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

// mremap(addr, old_len, new_len, flags, new_addr). First every EINVAL of
// check_mremap_params (mm/mremap.c), then the destination (MREMAP_FIXED
// unmaps it), then the source.
void Emitter::block_mremap(Label entry) {
  bind(entry);
  Label pass = label(), to_source = label();
  mremap_arguments(pass, to_source);
  if (exact_dest_) mremap_exact_search(pass, to_source);
  else mremap_hull_search(pass, to_source);
}

// Lets through (to `pass`) what the kernel refuses before any seal check,
// goes to `to_source` unless MREMAP_FIXED unmaps a destination, and leaves
// the rounded lengths (R, N) and the destination (D..DL) in scratch memory.
void Emitter::mremap_arguments(Label pass, Label to_source) {
  Label flags_low = label(), flags_ok = label();
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
}

// The destination searched on its own (its own copy of the range tree), then the source.
void Emitter::mremap_exact_search(Label pass, Label to_source) {
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
}

// Budget mode: one search over the hull of source and destination.
void Emitter::mremap_hull_search(Label pass, Label to_source) {
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

void Emitter::block_i386_shmat(Label entry, Label deny, Label pass) {
  // compat shmat(shmid, addr, flags): as shmat, and a 64-bit caller's segment
  // is not bound to 4 GiB (checked: a compat shmat maps beyond 8 GiB), so
  // [addr, 2^64) counts here too.
  bind(entry);
  Label remap = label();
  ld_arg(2, false);
  jmp(BPF_JSET, SHM_REMAP, remap, pass);
  bind(remap);
  i386_shm_address(1, 2, deny, pass);
}

void Emitter::block_i386_ipc(Label entry, Label deny, Label pass) {
  // compat_ksys_ipc(call, first, second, third, ptr, fifth): SHMAT is call &
  // 0xffff with version call >> 16 not 1 (EINVAL); do_shmat(first, ptr, second).
  bind(entry);
  Label is_shmat = label(), version_ok = label(), remap = label();
  ld_arg(0, false);
  alu(BPF_AND, 0xffff);
  jmp(BPF_JEQ, i386::kIpcShmat, is_shmat, pass);
  bind(is_shmat);
  ld_arg(0, false);
  alu(BPF_RSH, 16);
  jmp(BPF_JEQ, 1, pass, version_ok);
  bind(version_ok);
  ld_arg(2, false);
  jmp(BPF_JSET, SHM_REMAP, remap, pass);
  bind(remap);
  i386_shm_address(4, 2, deny, pass);
}

void Emitter::i386_shm_address(int addr_arg, int flags_arg, Label deny, Label pass) {
  // do_shmat's EINVALs first, as in block_shmat. Then [addr rounded down,
  // 2^64) overlaps a seal iff the rounded address is <= the last sealed
  // address, which ends in 0xfff: iff addr itself is. No scratch, no search.
  const std::uint64_t last = last_address(all_);
  // Above every 32-bit address: whatever passed the EINVALs is refused.
  const bool always = last > 0xffffffffu;
  Label nonzero = label(), unaligned = label(), round_down = label(), compare = always ? deny : label();
  ld_arg(addr_arg, false);
  jmp(BPF_JEQ, 0, pass, nonzero);  // SHM_REMAP without an address
  bind(nonzero);
  jmp(BPF_JSET, kPageOffsetMask, unaligned, compare);
  bind(unaligned);
  ld_arg(flags_arg, false);
  jmp(BPF_JSET, SHM_RND, round_down, pass);  // unaligned without SHM_RND
  bind(round_down);
  ld_arg(addr_arg, false);
  jmp(BPF_JGE, static_cast<std::uint32_t>(kPageSize), compare, pass);  // rounded down to 0
  if (!always) {
    bind(compare);
    jmp(BPF_JGT, static_cast<std::uint32_t>(last), pass, deny);
  }
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


// The program, phase by phase, in the order its instructions are laid out
// (filter.hpp draws the layout). Labels are created in emission order.
void Emitter::program() {
  main_tree_ = label();
  discard_tree_ = label();
  mremap_source_ = label();
  common_request_ = label();
  mmap_i386_ = label();
  i386_discard_ = i386_guard_ == I386Guard::kAll && discard_.window_count != 0 && first_address(discard_) < kI386Reach;

  const Label i386_entry = arch_dispatch();
  GuardedCalls calls = guarded_calls();
  if (calls.count == 0) {
    ret(kRetAllow);
    return;
  }
  const Label guarded_call = label();
  first_dispatch(calls, guarded_call);
  if (i386_guard_ != I386Guard::kNone) first_dispatch_i386(calls, i386_entry, guarded_call);
  bind(guarded_call);
  second_dispatch(calls);
  for (std::size_t i = 0; i < calls.count; ++i) emit_block(calls.x86_64[i]);
  block_common_request();
  if (calls.has_all) tree(all_, main_tree_, kNoLabel);
  if (calls.has_discard) tree(discard_, discard_tree_, kNoLabel);
  ret(kRetAllow);  // never reached; the kernel wants a program to end in a return
}

// x86_64 goes on with nr loaded (the x32 bit masked off: x32 shares these
// calls' numbers and arguments); i386 jumps to the returned label when the
// program guards it; every other ABI is allowed.
Label Emitter::arch_dispatch() {
  const bool i386_any = i386_guard_ != I386Guard::kNone;
  Label x86_64 = label(), other_abi = label(), i386_entry = label();
  ld_abs(offsetof(seccomp_data, arch));
  jmp(BPF_JEQ, AUDIT_ARCH_X86_64, x86_64, other_abi);
  bind(other_abi);
  if (i386_any) {
    Label neither = label();
    jmp(BPF_JEQ, AUDIT_ARCH_I386, i386_entry, neither);
    bind(neither);
  }
  ret(kRetAllow);
  bind(x86_64);
  ld_abs(offsetof(seccomp_data, nr));
  Label x32 = label(), dispatch = label();
  jmp(BPF_JSET, kX32SyscallBit, x32, dispatch);
  bind(x32);
  alu(BPF_AND, ~kX32SyscallBit);
  bind(dispatch);
  return i386_entry;
}

// Which calls this program guards, in each ABI, and the block each enters.
Emitter::GuardedCalls Emitter::guarded_calls() {
  GuardedCalls c;
  // A discard-only program (Input::discard_only) guards madvise and process_madvise alone.
  c.has_all = all_.window_count != 0 && !in_.discard_only;
  c.has_discard = discard_.window_count != 0;
  std::size_t& n = c.count;
  if (c.has_all) {
    c.x86_64[n++] = {__NR_mmap, label(), Block::kMmap};
    c.x86_64[n++] = {__NR_munmap, label(), Block::kMunmap};
    c.x86_64[n++] = {__NR_mprotect, label(), Block::kMprotect};
    c.x86_64[n] = {__NR_pkey_mprotect, c.x86_64[n - 1].block, Block::kShared};
    ++n;
    c.x86_64[n++] = {__NR_shmat, label(), Block::kShmat};
    c.x86_64[n++] = {__NR_mremap, label(), Block::kMremap};
  }
  if (c.has_discard) {
    c.x86_64[n++] = {__NR_madvise, label(), Block::kMadvise};
    c.x86_64[n++] = {__NR_process_madvise, label(), Block::kProcessMadvise};
  }
  if (n == 0) return c;
  // The i386 numbers that enter the same blocks (shmat has a block of its own,
  // in the i386 first dispatch).
  auto block_of = [&](std::uint32_t x86_64_nr) {
    for (std::size_t i = 0; i < n; ++i)
      if (c.x86_64[i].nr == x86_64_nr) return c.x86_64[i].block;
    return kNoLabel;  // not reached: i386 guards a subset of the x86_64 calls
  };
  std::size_t& m = c.i386_count;
  if (i386_guard_ == I386Guard::kAll && c.has_all) {
    c.i386[m++] = {i386::kMmap2, mmap_i386_, Block::kShared};
    c.i386[m++] = {i386::kMunmap, block_of(__NR_munmap), Block::kShared};
    c.i386[m++] = {i386::kMprotect, block_of(__NR_mprotect), Block::kShared};
    c.i386[m++] = {i386::kPkeyMprotect, block_of(__NR_mprotect), Block::kShared};
    c.i386[m++] = {i386::kMremap, block_of(__NR_mremap), Block::kShared};
  }
  if (i386_discard_) {
    c.i386[m++] = {i386::kMadvise, block_of(__NR_madvise), Block::kShared};
    c.i386[m++] = {i386::kProcessMadvise, block_of(__NR_process_madvise), Block::kShared};
  }
  return c;
}

// Guarded or not. Only arch and nr are read on the way to the RET ALLOW of
// the others, and no scratch store happens (the kernel's action cache
// emulates that path, for each arch, and gives up at anything else).
void Emitter::first_dispatch(const GuardedCalls& c, Label guarded_call) {
  for (std::size_t i = 0; i < c.count; ++i) {
    Label next = label();
    jmp(BPF_JEQ, c.x86_64[i].nr, guarded_call, next);
    bind(next);
  }
  ret(kRetAllow);
}

// The same for i386. shmat and ipc(SHMAT) are decided here without scratch
// memory; old mmap passes a pointer to its arguments, which no filter can
// read, so while a range is in reach it is refused whatever it asks.
void Emitter::first_dispatch_i386(const GuardedCalls& c, Label i386_entry, Label guarded_call) {
  const bool guards_shm = !in_.discard_only;
  bind(i386_entry);
  ld_abs(offsetof(seccomp_data, nr));
  Label next = kNoLabel;
  Label deny = guards_shm ? label() : kNoLabel, pass = guards_shm ? label() : kNoLabel;
  Label shmat = guards_shm ? label() : kNoLabel, ipc = guards_shm ? label() : kNoLabel;
  if (guards_shm) {
    next = label();
    jmp(BPF_JEQ, i386::kShmat, shmat, next);
    bind(next);
    next = label();
    jmp(BPF_JEQ, i386::kIpc, ipc, next);
    bind(next);
  }
  if (i386_guard_ == I386Guard::kAll) {
    if (c.has_all) {
      next = label();
      jmp(BPF_JEQ, i386::kOldMmap, deny, next);
      bind(next);
    }
    for (std::size_t i = 0; i < c.i386_count; ++i) {
      next = label();
      jmp(BPF_JEQ, c.i386[i].nr, guarded_call, next);
      bind(next);
    }
  }
  ret(kRetAllow);
  if (guards_shm) {
    block_i386_shmat(shmat, deny, pass);
    block_i386_ipc(ipc, deny, pass);
    bind(deny);
    ret(in_.refusal_action);
    bind(pass);
    ret(kRetAllow);
  }
}

// Every scratch word is stored once here: the kernel's load-before-store
// check walks the program linearly and lets a RET's state flow into the next
// instruction, so a block placed after a RET would otherwise be refused.
// Then each number to its block.
void Emitter::second_dispatch(const GuardedCalls& c) {
  const bool i386_all = i386_guard_ == I386Guard::kAll;
  ld_imm(0);
  for (std::uint32_t slot = 0; slot < BPF_MEMWORDS; ++slot) st(static_cast<Slot>(slot));
  Label second_i386 = label();
  if (i386_all) {
    // kHighMask: 0 (stored above) for i386, all ones for x86_64.
    Label second_x86_64 = label();
    ld_abs(offsetof(seccomp_data, arch));
    jmp(BPF_JEQ, AUDIT_ARCH_I386, second_i386, second_x86_64);
    bind(second_x86_64);
    ld_imm(0xffffffffu);
    st(kHighMask);
  }
  auto to_blocks = [&](const GuardedCall* list, std::size_t count) {
    for (std::size_t i = 0; i < count; ++i) {
      Label hit = label(), next = label();
      jmp(BPF_JEQ, list[i].nr, hit, next);
      bind(hit);
      ja(list[i].block);
      bind(next);
    }
    ret(kRetAllow);
  };
  ld_abs(offsetof(seccomp_data, nr));
  alu(BPF_AND, ~kX32SyscallBit);
  to_blocks(c.x86_64, c.count);
  if (i386_all) {
    bind(second_i386);
    ld_abs(offsetof(seccomp_data, nr));
    to_blocks(c.i386, c.i386_count);
  }
}

void Emitter::emit_block(const GuardedCall& call) {
  const Label entry = call.block;
  switch (call.emit) {
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

}  // namespace sealkit::backend::seccomp::detail
