#include "backend/bpf_model.hpp"

#include <cstddef>
#include <vector>

namespace sealkit::test::backend {

std::string seccomp_filter_problem(const sock_filter* insns, std::size_t length) {
  if (length == 0 || length > BPF_MAXINSNS) return "length " + std::to_string(length);
  for (std::size_t pc = 0; pc < length; ++pc) {
    const sock_filter& f = insns[pc];
    const std::string where = "instruction " + std::to_string(pc) + ": ";
    switch (f.code) {
      case BPF_LD | BPF_W | BPF_ABS:
        if (f.k >= sizeof(seccomp_data) || (f.k & 3)) return where + "bad seccomp_data offset";
        break;
      case BPF_LD | BPF_IMM:
      case BPF_LDX | BPF_IMM:
      case BPF_RET | BPF_K:
      case BPF_RET | BPF_A:
      case BPF_MISC | BPF_TAX:
      case BPF_MISC | BPF_TXA:
      case BPF_ALU | BPF_ADD | BPF_K:
      case BPF_ALU | BPF_ADD | BPF_X:
      case BPF_ALU | BPF_SUB | BPF_K:
      case BPF_ALU | BPF_SUB | BPF_X:
      case BPF_ALU | BPF_AND | BPF_K:
      case BPF_ALU | BPF_AND | BPF_X:
      case BPF_ALU | BPF_OR | BPF_K:
      case BPF_ALU | BPF_RSH | BPF_K:
      case BPF_ALU | BPF_LSH | BPF_K:
        break;
      case BPF_LD | BPF_MEM:
      case BPF_LDX | BPF_MEM:
      case BPF_ST:
      case BPF_STX:
        if (f.k >= BPF_MEMWORDS) return where + "scratch index";
        break;
      case BPF_JMP | BPF_JA:
        if (f.k >= length - pc - 1) return where + "BPF_JA out of the program";
        break;
      case BPF_JMP | BPF_JEQ | BPF_K:
      case BPF_JMP | BPF_JEQ | BPF_X:
      case BPF_JMP | BPF_JGE | BPF_K:
      case BPF_JMP | BPF_JGE | BPF_X:
      case BPF_JMP | BPF_JGT | BPF_K:
      case BPF_JMP | BPF_JGT | BPF_X:
      case BPF_JMP | BPF_JSET | BPF_K:
      case BPF_JMP | BPF_JSET | BPF_X:
        if (pc + f.jt + 1 >= length || pc + f.jf + 1 >= length) return where + "jump out of the program";
        break;
      default:
        return where + "opcode " + std::to_string(f.code) + " not used by the generator";
    }
  }
  const std::uint16_t last = insns[length - 1].code;
  if (last != (BPF_RET | BPF_K) && last != (BPF_RET | BPF_A)) return "the last instruction is not a return";
  // check_load_and_stores: a scratch word must be stored on every path before it is loaded.
  std::vector<std::uint16_t> masks(length, 0xffff);
  std::uint16_t valid = 0;
  for (std::size_t pc = 0; pc < length; ++pc) {
    const sock_filter& f = insns[pc];
    valid &= masks[pc];
    if (f.code == BPF_ST || f.code == BPF_STX) {
      valid = static_cast<std::uint16_t>(valid | (1u << f.k));
    } else if (f.code == (BPF_LD | BPF_MEM) || f.code == (BPF_LDX | BPF_MEM)) {
      if (!(valid & (1u << f.k))) return "instruction " + std::to_string(pc) + ": M[" + std::to_string(f.k) +
                                         "] may be loaded before it is stored";
    } else if (f.code == (BPF_JMP | BPF_JA)) {
      masks[pc + 1 + f.k] &= valid;
      valid = 0xffff;
    } else if (BPF_CLASS(f.code) == BPF_JMP) {
      masks[pc + 1 + f.jt] &= valid;
      masks[pc + 1 + f.jf] &= valid;
      valid = 0xffff;
    }
  }
  return {};
}

RunResult run_filter(const sock_filter* insns, std::size_t length, const seccomp_data& data) {
  RunResult r;
  std::uint32_t a = 0, x = 0, mem[BPF_MEMWORDS] = {};
  const auto* words = reinterpret_cast<const std::uint32_t*>(&data);
  for (std::size_t pc = 0; pc < length; ++pc) {
    const sock_filter& f = insns[pc];
    ++r.executed;
    const bool emulable = f.code == (BPF_LD | BPF_W | BPF_ABS) || f.code == (BPF_JMP | BPF_JA) ||
                          f.code == (BPF_JMP | BPF_JEQ | BPF_K) || f.code == (BPF_JMP | BPF_JGE | BPF_K) ||
                          f.code == (BPF_JMP | BPF_JGT | BPF_K) || f.code == (BPF_JMP | BPF_JSET | BPF_K) ||
                          f.code == (BPF_ALU | BPF_AND | BPF_K) || f.code == (BPF_RET | BPF_K);
    if (!emulable) r.cache_emulable = false;
    switch (f.code) {
      case BPF_LD | BPF_W | BPF_ABS:
        a = words[f.k / 4];
        if (f.k >= offsetof(seccomp_data, instruction_pointer)) r.read_arguments = true;
        break;
      case BPF_LD | BPF_IMM: a = f.k; break;
      case BPF_LDX | BPF_IMM: x = f.k; break;
      case BPF_LD | BPF_MEM: a = mem[f.k]; break;
      case BPF_LDX | BPF_MEM: x = mem[f.k]; break;
      case BPF_ST: mem[f.k] = a; break;
      case BPF_STX: mem[f.k] = x; break;
      case BPF_MISC | BPF_TAX: x = a; break;
      case BPF_MISC | BPF_TXA: a = x; break;
      case BPF_ALU | BPF_ADD | BPF_K: a += f.k; break;
      case BPF_ALU | BPF_ADD | BPF_X: a += x; break;
      case BPF_ALU | BPF_SUB | BPF_K: a -= f.k; break;
      case BPF_ALU | BPF_SUB | BPF_X: a -= x; break;
      case BPF_ALU | BPF_AND | BPF_K: a &= f.k; break;
      case BPF_ALU | BPF_AND | BPF_X: a &= x; break;
      case BPF_ALU | BPF_OR | BPF_K: a |= f.k; break;
      case BPF_ALU | BPF_RSH | BPF_K: a >>= f.k; break;
      case BPF_ALU | BPF_LSH | BPF_K: a <<= f.k; break;
      case BPF_RET | BPF_K: r.action = f.k; return r;
      case BPF_RET | BPF_A: r.action = a; return r;
      case BPF_JMP | BPF_JA: pc += f.k; break;
      default: {
        const std::uint32_t operand = BPF_SRC(f.code) == BPF_X ? x : f.k;
        bool taken = false;
        switch (BPF_OP(f.code)) {
          case BPF_JEQ: taken = a == operand; break;
          case BPF_JGE: taken = a >= operand; break;
          case BPF_JGT: taken = a > operand; break;
          case BPF_JSET: taken = (a & operand) != 0; break;
          default: r.action = 0xdeadbeef; return r;
        }
        pc += taken ? f.jt : f.jf;
        break;
      }
    }
  }
  r.action = 0xdeadbeef;  // ran off the end: seccomp_filter_problem() rules this out
  return r;
}

}  // namespace sealkit::test::backend
