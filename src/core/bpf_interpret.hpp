// The one classic-BPF interpreter of sealkit: the kernel's semantics for a
// seccomp program that check_seccomp_program() accepted, written once for
// run() (bpf_eval.cpp) and run_span() (bpf_span.cpp).
//
// A Tracker follows every value symbolically alongside the concrete run
// (run_span: what the value is in terms of the address); run()'s tracker does
// nothing and compiles away. Its interface:
//   Value                      default-constructed: a constant
//   Value load_abs(k)          a word of seccomp_data loaded from offset k
//   Value alu(op, a, v, av, vv) A op V, with the operands' values before it
//   void jump(op, av, a, vv, v) a conditional jump comparing A with V
//   void depends_on(value)     the path depends on this whole value (RET A,
//                              division by X, whose being 0 ends the run)
#pragma once

#include <linux/filter.h>
#include <linux/seccomp.h>

#include <cstddef>
#include <cstdint>
#include <cstring>

#include "core/bpf_eval.hpp"

namespace sealkit::core::bpf::detail {

template <class Tracker>
RunOutcome interpret(const sock_filter* insns, std::size_t length, const seccomp_data& data, Tracker& t) noexcept {
  using Value = typename Tracker::Value;
  RunOutcome r;
  std::uint32_t a = 0, x = 0, mem[BPF_MEMWORDS] = {};
  Value as{}, xs{}, ms[BPF_MEMWORDS] = {};
  for (std::size_t pc = 0; pc < length; ++pc) {
    const sock_filter& f = insns[pc];
    ++r.executed;
    const std::uint32_t k = f.k;
    switch (BPF_CLASS(f.code)) {
      case BPF_LD:
      case BPF_LDX: {
        std::uint32_t v = 0;
        Value s{};
        switch (BPF_MODE(f.code)) {
          case BPF_ABS:
            if (k % 4 != 0 || k + 4 > sizeof data) return r;  // unreachable for a checked program
            std::memcpy(&v, reinterpret_cast<const unsigned char*>(&data) + k, 4);
            if (k / 8 == offsetof(seccomp_data, args) / 8) r.read_arg0 = true;
            s = t.load_abs(k);
            break;
          case BPF_MEM:
            v = mem[k % BPF_MEMWORDS];
            s = ms[k % BPF_MEMWORDS];
            break;
          case BPF_LEN: v = sizeof data; break;
          default: v = k; break;  // BPF_IMM
        }
        if (BPF_CLASS(f.code) == BPF_LD) {
          a = v;
          as = s;
        } else {
          x = v;
          xs = s;
        }
        break;
      }
      case BPF_ST:
        mem[k % BPF_MEMWORDS] = a;
        ms[k % BPF_MEMWORDS] = as;
        break;
      case BPF_STX:
        mem[k % BPF_MEMWORDS] = x;
        ms[k % BPF_MEMWORDS] = xs;
        break;
      case BPF_MISC:
        if (BPF_MISCOP(f.code) == BPF_TAX) {
          x = a;
          xs = as;
        } else {
          a = x;
          as = xs;
        }
        break;
      case BPF_RET:
        if (BPF_RVAL(f.code) == BPF_A) {
          t.depends_on(as);
          r.ret = a;
        } else {
          r.ret = k;
        }
        return r;
      case BPF_ALU: {
        const bool use_x = BPF_SRC(f.code) == BPF_X;
        const std::uint32_t v = use_x ? x : k;
        const std::uint16_t op = BPF_OP(f.code);
        if ((op == BPF_DIV || op == BPF_MOD) && use_x) t.depends_on(xs);
        as = t.alu(op, as, use_x ? xs : Value{}, a, v);
        switch (op) {
          case BPF_ADD: a += v; break;
          case BPF_SUB: a -= v; break;
          case BPF_MUL: a *= v; break;
          case BPF_DIV:
          case BPF_MOD:
            if (v == 0) {  // only X can be 0 here: the kernel's translation returns 0
              r.ret = 0;
              return r;
            }
            a = op == BPF_DIV ? a / v : a % v;
            break;
          case BPF_AND: a &= v; break;
          case BPF_OR: a |= v; break;
          case BPF_XOR: a ^= v; break;
          // A shift by X >= 32: the kernel's 32-bit eBPF shift uses the low 5 bits.
          case BPF_LSH: a <<= (v & 31); break;
          case BPF_RSH: a >>= (v & 31); break;
          case BPF_NEG: a = 0u - a; break;
          default: return r;
        }
        break;
      }
      case BPF_JMP: {
        if (BPF_OP(f.code) == BPF_JA) {
          pc += k;
          break;
        }
        const bool use_x = BPF_SRC(f.code) == BPF_X;
        const std::uint32_t v = use_x ? x : k;
        t.jump(BPF_OP(f.code), a, as, v, use_x ? xs : Value{});
        bool taken = false;
        switch (BPF_OP(f.code)) {
          case BPF_JEQ: taken = a == v; break;
          case BPF_JGT: taken = a > v; break;
          case BPF_JGE: taken = a >= v; break;
          case BPF_JSET: taken = (a & v) != 0; break;
          default: return r;
        }
        pc += taken ? f.jt : f.jf;
        break;
      }
      default: return r;
    }
  }
  return r;  // fell off the end: check_seccomp_program() rules this out; KILL_THREAD
}

}  // namespace sealkit::core::bpf::detail
