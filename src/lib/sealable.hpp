// State behind SEALKIT_MODE_V8: the process-wide mode and the set of ranges
// created with SEALKIT_MAP_SEALABLE (or SEALKIT_PROT_SEAL).
//
// The v8 kernel kept "sealable" as a VMA flag, so it died with the mapping.
// A library cannot see munmap or a foreign mmap, so this registry is updated
// by sealkit_mmap only: every sealkit_mmap first forgets what it replaces. A
// range unmapped with plain munmap and reused by a plain mmap stays marked
// sealable (docs/api.md says so). V8 mode is an API contract, not a defence.
#pragma once

#include <cstdint>

#include "core/range.hpp"

namespace sealkit::lib {

int current_mode() noexcept;
int exchange_mode(int mode) noexcept;

// Record that [r.begin, r.end) now holds one new mapping, sealable or not.
// false only when memory ran out.
bool note_new_mapping(core::Range r, bool sealable) noexcept;

// errno-style check of the v8 rule for a page-aligned, non-empty range: 0
// when every page is mapped and sealable; ENOMEM when a page is unmapped
// (reported first, as the kernel would); EACCES when a page is not sealable.
// ELF objects loaded by ld.so count as sealable.
int check_v8_rule(core::Range r) noexcept;

}  // namespace sealkit::lib
