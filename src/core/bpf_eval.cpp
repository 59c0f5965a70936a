#include "core/bpf_eval.hpp"

#include <cstddef>
#include <cstring>

#include "core/bpf_interpret.hpp"

namespace sealkit::core::bpf {

namespace {

bool is_jump(std::uint16_t code) noexcept { return BPF_CLASS(code) == BPF_JMP && BPF_OP(code) != BPF_JA; }

// The opcodes seccomp_check_filter() lets through (it rewrites LD|W|LEN to an
// immediate); anything else the kernel refuses.
bool allowed_opcode(std::uint16_t code) noexcept {
  switch (code) {
    case BPF_LD | BPF_W | BPF_ABS:
    case BPF_LD | BPF_W | BPF_LEN:
    case BPF_LDX | BPF_W | BPF_LEN:
    case BPF_LD | BPF_IMM:
    case BPF_LDX | BPF_IMM:
    case BPF_LD | BPF_MEM:
    case BPF_LDX | BPF_MEM:
    case BPF_ST:
    case BPF_STX:
    case BPF_MISC | BPF_TAX:
    case BPF_MISC | BPF_TXA:
    case BPF_RET | BPF_K:
    case BPF_RET | BPF_A:
    case BPF_ALU | BPF_NEG:
    case BPF_JMP | BPF_JA:
      return true;
    default: break;
  }
  if (BPF_CLASS(code) == BPF_ALU) {
    switch (BPF_OP(code)) {
      case BPF_ADD: case BPF_SUB: case BPF_MUL: case BPF_DIV: case BPF_MOD:
      case BPF_AND: case BPF_OR: case BPF_XOR: case BPF_LSH: case BPF_RSH:
        return (code & ~(BPF_CLASS(0xff) | BPF_OP(0xff) | BPF_SRC(0xff))) == 0;
      default: return false;
    }
  }
  if (BPF_CLASS(code) == BPF_JMP) {
    switch (BPF_OP(code)) {
      case BPF_JEQ: case BPF_JGT: case BPF_JGE: case BPF_JSET:
        return (code & ~(BPF_CLASS(0xff) | BPF_OP(0xff) | BPF_SRC(0xff))) == 0;
      default: return false;
    }
  }
  return false;
}

std::string at(std::size_t pc, const char* what) { return "instruction " + std::to_string(pc) + ": " + what; }

}  // namespace

std::string check_seccomp_program(const sock_filter* insns, std::size_t length) {
  if (insns == nullptr || length == 0 || length > BPF_MAXINSNS)
    return "length " + std::to_string(length) + " is not 1.." + std::to_string(BPF_MAXINSNS);
  for (std::size_t pc = 0; pc < length; ++pc) {
    const sock_filter& f = insns[pc];
    if (!allowed_opcode(f.code)) return at(pc, "an opcode seccomp does not accept");
    const std::size_t left = length - pc - 1;  // instructions after this one
    switch (BPF_CLASS(f.code)) {
      case BPF_LD:
      case BPF_LDX:
        if (BPF_MODE(f.code) == BPF_ABS && (f.k >= sizeof(seccomp_data) || (f.k & 3)))
          return at(pc, "a load outside seccomp_data or unaligned");
        if (BPF_MODE(f.code) == BPF_MEM && f.k >= BPF_MEMWORDS) return at(pc, "a scratch word out of range");
        break;
      case BPF_ST:
      case BPF_STX:
        if (f.k >= BPF_MEMWORDS) return at(pc, "a scratch word out of range");
        break;
      case BPF_ALU:
        if (BPF_SRC(f.code) == BPF_K && (BPF_OP(f.code) == BPF_DIV || BPF_OP(f.code) == BPF_MOD) && f.k == 0)
          return at(pc, "division by the constant 0");
        if (BPF_SRC(f.code) == BPF_K && (BPF_OP(f.code) == BPF_LSH || BPF_OP(f.code) == BPF_RSH) && f.k >= 32)
          return at(pc, "a shift by 32 or more");
        break;
      case BPF_JMP:
        if (BPF_OP(f.code) == BPF_JA) {
          if (f.k >= left) return at(pc, "BPF_JA past the end");
        } else if (f.jt >= left || f.jf >= left) {
          return at(pc, "a jump past the end");
        }
        break;
      default: break;
    }
  }
  if (BPF_CLASS(insns[length - 1].code) != BPF_RET) return "the last instruction is not a return";
  // check_load_and_stores (net/core/filter.c): a scratch word is stored on
  // every path before it is loaded. Linear, as the kernel's.
  std::uint16_t valid = 0;
  std::uint16_t masks[BPF_MAXINSNS];
  for (std::size_t i = 0; i < length; ++i) masks[i] = 0xffff;
  for (std::size_t pc = 0; pc < length; ++pc) {
    const sock_filter& f = insns[pc];
    valid &= masks[pc];
    const std::uint16_t code = f.code;
    if (code == BPF_ST || code == BPF_STX) {
      valid = static_cast<std::uint16_t>(valid | (1u << f.k));
    } else if (code == (BPF_LD | BPF_MEM) || code == (BPF_LDX | BPF_MEM)) {
      if (!(valid & (1u << f.k))) return at(pc, "a scratch word loaded before it is stored");
    } else if (code == (BPF_JMP | BPF_JA)) {
      masks[pc + 1 + f.k] &= valid;
      valid = 0xffff;
    } else if (is_jump(code)) {
      masks[pc + 1 + f.jt] &= valid;
      masks[pc + 1 + f.jf] &= valid;
      valid = 0xffff;
    }
  }
  return {};
}

namespace {

// run() follows no value: everything compiles away.
struct Untracked {
  struct Value {};
  Value load_abs(std::uint32_t) { return {}; }
  Value alu(std::uint16_t, const Value&, const Value&, std::uint32_t, std::uint32_t) { return {}; }
  void jump(std::uint16_t, std::uint32_t, const Value&, std::uint32_t, const Value&) {}
  void depends_on(const Value&) {}
};

}  // namespace

RunOutcome run(const sock_filter* insns, std::size_t length, const seccomp_data& data) noexcept {
  Untracked t;
  return detail::interpret(insns, length, data, t);
}

bool more_restrictive(std::uint32_t a, std::uint32_t b) noexcept {
  const auto action = [](std::uint32_t v) { return static_cast<std::int32_t>(v & SECCOMP_RET_ACTION_FULL); };
  return action(a) < action(b);
}

}  // namespace sealkit::core::bpf
