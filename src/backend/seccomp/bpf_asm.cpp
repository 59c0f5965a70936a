#include "backend/seccomp/bpf_asm.hpp"

namespace sealkit::backend::seccomp {

Label Assembler::label() noexcept {
  if (labels_ >= kMaxLabels) {
    too_many_labels_ = true;
    return 0;  // any valid index: the result is discarded because finish() fails
  }
  s_.label_pos[labels_] = kUnbound;
  return static_cast<Label>(labels_++);
}

void Assembler::bind(Label l) noexcept {
  if (l < labels_) s_.label_pos[l] = static_cast<std::uint32_t>(size_);
}

void Assembler::emit(std::uint16_t code, std::uint32_t k, Label jt, Label jf) noexcept {
  if (size_ < kMaxInstructions) {
    s_.insns[size_] = sock_filter{code, 0, 0, k};
    s_.jt_label[size_] = jt;
    s_.jf_label[size_] = jf;
    s_.tag[size_] = tag_;
  }
  ++size_;
}

void Assembler::stmt(std::uint16_t code, std::uint32_t k) noexcept { emit(code, k, kNoLabel, kNoLabel); }

void Assembler::jump(std::uint16_t code, std::uint32_t k, Label jt, Label jf) noexcept { emit(code, k, jt, jf); }

void Assembler::jump_always(Label target) noexcept {
  // The target travels in jt_label; finish() turns it into k.
  emit(static_cast<std::uint16_t>(BPF_JMP | BPF_JA), 0, target, kNoLabel);
}

AsmStatus Assembler::finish() noexcept {
  if (size_ > kMaxInstructions || too_many_labels_) return AsmStatus::kTooLarge;
  far_count_ = 0;
  for (std::size_t i = 0; i < size_; ++i) {
    sock_filter& insn = s_.insns[i];
    const bool is_ja = insn.code == (BPF_JMP | BPF_JA);
    Label targets[2] = {s_.jt_label[i], s_.jf_label[i]};
    for (int which = 0; which < 2; ++which) {
      Label l = targets[which];
      if (l == kNoLabel) continue;
      if (l >= labels_ || s_.label_pos[l] == kUnbound) return AsmStatus::kUnboundLabel;
      std::uint32_t pos = s_.label_pos[l];
      if (pos <= i) return AsmStatus::kBackwardJump;  // an offset counts from the next instruction
      std::uint32_t offset = pos - static_cast<std::uint32_t>(i) - 1;
      if (is_ja) {
        insn.k = offset;
      } else if (offset > 255) {
        if (far_count_ < kMaxFarTags) far_tags_[far_count_] = s_.tag[i];
        ++far_count_;
      } else if (which == 0) {
        insn.jt = static_cast<std::uint8_t>(offset);
      } else {
        insn.jf = static_cast<std::uint8_t>(offset);
      }
    }
  }
  return far_count_ == 0 ? AsmStatus::kOk : AsmStatus::kFarJump;
}

}  // namespace sealkit::backend::seccomp
