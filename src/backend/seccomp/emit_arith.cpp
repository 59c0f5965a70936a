// 64-bit values as two 32-bit words in scratch memory: loads, carries, compares.
#include "backend/seccomp/emitter.hpp"

namespace sealkit::backend::seccomp::detail {

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

}  // namespace sealkit::backend::seccomp::detail
