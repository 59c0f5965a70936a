// libFuzzer target: audit::read_elf_bytes on arbitrary bytes. Any crash,
// sanitizer report or broken invariant is a bug: `sealkit check` walks whole
// directories of files nobody vetted.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>

#include "audit/elf_file.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string error;
  auto facts = sealkit::audit::read_elf_bytes(data, size, error);
  if (facts) {
    // A report is consistent with itself.
    if (facts->mutable_bytes > 0 && facts->mutable_segments == 0 && facts->mutable_sections.empty()) std::abort();
    if (facts->unsealed_bytes < facts->mutable_bytes) std::abort();
    for (const auto& m : facts->mutable_sections) {
      // Kept pages are whole pages of a writable segment (core/mutable_sections.hpp).
      if (m.page_begin >= m.page_end || m.page_begin % 4096 != 0 || m.page_end % 4096 != 0) std::abort();
    }
    if (facts->wx_segments > facts->load_segments) std::abort();
    if (facts->load_span_bytes % 4096 != 0) std::abort();
    if (facts->relro == sealkit::audit::ElfFacts::Relro::kFull && !facts->bind_now) std::abort();
  } else if (error.empty()) {
    std::abort();  // every failure says why
  }
  return 0;
}
