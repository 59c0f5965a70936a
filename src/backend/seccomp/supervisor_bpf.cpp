#include "backend/seccomp/supervisor_bpf.hpp"

#include <cstring>

namespace sealkit::backend::seccomp {

std::uint32_t run_filter(const sock_filter* insns, std::size_t length, const seccomp_data& data) noexcept {
  constexpr std::uint32_t kBad = SECCOMP_RET_KILL_PROCESS;
  std::uint32_t a = 0, x = 0, mem[BPF_MEMWORDS] = {};
  for (std::size_t pc = 0; pc < length; ++pc) {
    const sock_filter& f = insns[pc];
    const std::uint32_t k = f.k;
    switch (BPF_CLASS(f.code)) {
      case BPF_LD:
      case BPF_LDX: {
        std::uint32_t v = 0;
        switch (BPF_MODE(f.code)) {
          case BPF_ABS:
            if (BPF_SIZE(f.code) != BPF_W || k % 4 != 0 || k + 4 > sizeof data) return kBad;
            std::memcpy(&v, reinterpret_cast<const unsigned char*>(&data) + k, 4);
            break;
          case BPF_MEM:
            if (k >= BPF_MEMWORDS) return kBad;
            v = mem[k];
            break;
          case BPF_IMM: v = k; break;
          case BPF_LEN: v = sizeof data; break;
          default: return kBad;
        }
        (BPF_CLASS(f.code) == BPF_LD ? a : x) = v;
        break;
      }
      case BPF_ST:
      case BPF_STX:
        if (k >= BPF_MEMWORDS) return kBad;
        mem[k] = BPF_CLASS(f.code) == BPF_ST ? a : x;
        break;
      case BPF_ALU: {
        const std::uint32_t b = BPF_SRC(f.code) == BPF_X ? x : k;
        switch (BPF_OP(f.code)) {
          case BPF_ADD: a += b; break;
          case BPF_SUB: a -= b; break;
          case BPF_MUL: a *= b; break;
          case BPF_DIV: if (b == 0) return kBad; a /= b; break;
          case BPF_MOD: if (b == 0) return kBad; a %= b; break;
          case BPF_AND: a &= b; break;
          case BPF_OR: a |= b; break;
          case BPF_XOR: a ^= b; break;
          case BPF_LSH: a = b < 32 ? a << b : 0; break;
          case BPF_RSH: a = b < 32 ? a >> b : 0; break;
          case BPF_NEG: a = 0u - a; break;
          default: return kBad;
        }
        break;
      }
      case BPF_JMP: {
        std::size_t skip;
        if (BPF_OP(f.code) == BPF_JA) {
          skip = k;
        } else {
          const std::uint32_t b = BPF_SRC(f.code) == BPF_X ? x : k;
          bool taken;
          switch (BPF_OP(f.code)) {
            case BPF_JEQ: taken = a == b; break;
            case BPF_JGT: taken = a > b; break;
            case BPF_JGE: taken = a >= b; break;
            case BPF_JSET: taken = (a & b) != 0; break;
            default: return kBad;
          }
          skip = taken ? f.jt : f.jf;
        }
        if (skip >= length - pc - 1) return kBad;  // the target is pc + 1 + skip
        pc += skip;
        break;
      }
      case BPF_RET:
        return BPF_RVAL(f.code) == BPF_A ? a : k;
      case BPF_MISC:
        if (BPF_MISCOP(f.code) == BPF_TAX) x = a;
        else a = x;
        break;
      default: return kBad;
    }
  }
  return kBad;
}

}  // namespace sealkit::backend::seccomp
