// A tiny classic-BPF assembler for seccomp filters: instructions go into a
// caller-owned fixed buffer, jump targets are labels resolved at the end.
//
// Classic BPF only jumps forward; a conditional jump has two 8-bit offsets
// (at most 255 instructions) and only BPF_JA has a 32-bit one. finish()
// checks both rules instead of silently truncating an offset, and reports the
// first conditional jump that is too far so that the caller can lay that
// spot out differently (filter.cpp re-emits such tree nodes with a BPF_JA).
//
// Nothing here allocates or throws: the generator must also be usable from
// the freestanding runtime.
#pragma once

#include <linux/filter.h>

#include <cstddef>
#include <cstdint>

namespace sealkit::backend::seccomp {

// BPF_MAXINSNS: the kernel's limit for one filter.
inline constexpr std::size_t kMaxInstructions = 4096;
// Labels a single program may use (a label costs 4 bytes of workspace).
inline constexpr std::size_t kMaxLabels = 3 * kMaxInstructions;

using Label = std::uint32_t;
inline constexpr Label kNoLabel = 0xffffffffu;

enum class AsmStatus {
  kOk,
  kTooLarge,       // more than kMaxInstructions instructions or kMaxLabels labels
  kUnboundLabel,   // a jump to a label that was never bound (a generator bug)
  kBackwardJump,   // a label bound before its jump (a generator bug)
  kFarJump,        // a conditional jump more than 255 instructions away: far_jump_tag() says which
};

// Where the assembler keeps what it has not resolved yet.
struct AsmStorage {
  sock_filter insns[kMaxInstructions];
  Label jt_label[kMaxInstructions];  // kNoLabel: the offset in the instruction is literal
  Label jf_label[kMaxInstructions];
  std::uint32_t tag[kMaxInstructions];  // caller's mark on the instruction, reported for a far jump
  std::uint32_t label_pos[kMaxLabels];
};

class Assembler {
 public:
  explicit Assembler(AsmStorage& storage) noexcept : s_(storage) {}

  Label label() noexcept;
  void bind(Label l) noexcept;

  // An instruction without jump targets (loads, stores, ALU, returns).
  void stmt(std::uint16_t code, std::uint32_t k) noexcept;
  // A conditional jump (BPF_JMP | BPF_JEQ/JGT/JGE/JSET | BPF_K or BPF_X).
  void jump(std::uint16_t code, std::uint32_t k, Label jt, Label jf) noexcept;
  // BPF_JA: any forward distance.
  void jump_always(Label target) noexcept;

  // The mark the next emitted instructions carry (see kFarJump).
  void set_tag(std::uint32_t tag) noexcept { tag_ = tag; }

  // Instructions emitted so far (may exceed kMaxInstructions: then only the count grows).
  std::size_t size() const noexcept { return size_; }

  // Resolves every label into the instructions. On kFarJump, far_jump_tags() lists
  // (up to its capacity) the tags of the conditional jumps that did not fit.
  AsmStatus finish() noexcept;
  std::size_t far_jump_count() const noexcept { return far_count_; }
  std::uint32_t far_jump_tag(std::size_t i) const noexcept { return far_tags_[i]; }

  const sock_filter* instructions() const noexcept { return s_.insns; }

 private:
  void emit(std::uint16_t code, std::uint32_t k, Label jt, Label jf) noexcept;

  static constexpr std::uint32_t kUnbound = 0xffffffffu;
  static constexpr std::size_t kMaxFarTags = 256;

  AsmStorage& s_;
  std::size_t size_ = 0;
  std::size_t labels_ = 0;
  bool too_many_labels_ = false;
  std::uint32_t tag_ = 0;
  std::size_t far_count_ = 0;
  std::uint32_t far_tags_[kMaxFarTags] = {};
};

}  // namespace sealkit::backend::seccomp
