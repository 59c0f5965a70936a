// The ELF types of the process the runtime runs in: Elf64_* in a 64-bit
// process, Elf32_* in a 32-bit one (the i386 build that /etc/ld.so.preload's
// $LIB finds for 32-bit programs). ld.so only ever loads objects of its own
// class, so every header the runtime reads in memory is of this class.
#pragma once

#include <elf.h>
#include <link.h>  // ElfW, __ELF_NATIVE_CLASS

namespace sealkit::rt {

using NativeEhdr = ElfW(Ehdr);
using NativePhdr = ElfW(Phdr);
using NativeDyn = ElfW(Dyn);
using NativeShdr = ElfW(Shdr);
using NativeAuxv = ElfW(auxv_t);
inline constexpr unsigned char kNativeElfClass = __ELF_NATIVE_CLASS == 64 ? ELFCLASS64 : ELFCLASS32;

}  // namespace sealkit::rt
