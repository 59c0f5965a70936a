#include "runtime/preload/exec_stack.hpp"

#include <elf.h>

#include "runtime/native_elf.hpp"

#include <atomic>
#include <string_view>

#include "runtime/process_info.hpp"
#include "runtime/sys.hpp"
#include "runtime/text_out.hpp"

namespace sealkit::rt::preload {

namespace {

std::atomic<bool> g_told{false};

// True when `path` is an ELF file of this process's class whose PT_GNU_STACK
// asks for PF_X. Only its first page is read (raw system calls: the preload
// object imports from libc only what it cannot do itself, each import being a
// symbol lookup in every process at load): the program headers sit right
// after the ELF header in every object a linker makes; elsewhere, no message.
bool wants_exec_stack(const char* path) {
  const int fd = sys::open_read_nonblock(path);
  if (fd < 0) return false;
  alignas(NativeEhdr) unsigned char head[4096];
  std::size_t got = 0;
  while (got < sizeof head) {
    const long r = sys::read(fd, head + got, sizeof head - got);
    if (r == -EINTR) continue;
    if (r <= 0) break;
    got += static_cast<std::size_t>(r);
  }
  sys::close(fd);
  NativeEhdr eh;
  if (got < sizeof eh) return false;
  __builtin_memcpy(&eh, head, sizeof eh);
  if (eh.e_ident[EI_MAG0] != ELFMAG0 || eh.e_ident[EI_MAG1] != ELFMAG1 || eh.e_ident[EI_MAG2] != ELFMAG2 ||
      eh.e_ident[EI_MAG3] != ELFMAG3 || eh.e_ident[EI_CLASS] != kNativeElfClass || eh.e_phentsize != sizeof(NativePhdr) ||
      eh.e_phoff > got || eh.e_phnum > (got - eh.e_phoff) / sizeof(NativePhdr))
    return false;
  for (unsigned i = 0; i < eh.e_phnum; ++i) {
    NativePhdr ph;
    __builtin_memcpy(&ph, head + eh.e_phoff + i * sizeof ph, sizeof ph);
    if (ph.p_type == PT_GNU_STACK) return (ph.p_flags & PF_X) != 0;
  }
  return false;
}

}  // namespace

void explain_if_exec_stack(const char* file) {
  if (file == nullptr || std::string_view(file).find('/') == std::string_view::npos) return;
  if (g_told.load(std::memory_order_relaxed) || !wants_exec_stack(file)) return;
  if (g_told.exchange(true)) return;
  TextOut o;
  o.str(file).str(
      " asks for an executable stack (PT_GNU_STACK with PF_X); the sealed stack cannot be made executable, "
      "so dlopen fails, as it does by default from glibc 2.41. Rebuild it with -z noexecstack, or list the "
      "program in exclude-program (docs/runtime.md)");
  warn(o.view());
}

}  // namespace sealkit::rt::preload
