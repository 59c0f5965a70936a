#include "runtime/preload/exec_stack.hpp"

#include <elf.h>

#include "runtime/native_elf.hpp"
#include <fcntl.h>
#include <unistd.h>

#include <atomic>
#include <string_view>

#include "runtime/process_info.hpp"
#include "runtime/text_out.hpp"

namespace sealkit::rt::preload {

namespace {

std::atomic<bool> g_told{false};

// True when `path` is a 64-bit ELF file whose PT_GNU_STACK asks for PF_X.
bool wants_exec_stack(const char* path) {
  const int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
  if (fd < 0) return false;
  bool wants = false;
  NativeEhdr eh;
  if (pread(fd, &eh, sizeof eh, 0) == static_cast<ssize_t>(sizeof eh) && eh.e_ident[EI_MAG0] == ELFMAG0 &&
      eh.e_ident[EI_MAG1] == ELFMAG1 && eh.e_ident[EI_MAG2] == ELFMAG2 && eh.e_ident[EI_MAG3] == ELFMAG3 &&
      eh.e_ident[EI_CLASS] == kNativeElfClass && eh.e_phentsize == sizeof(NativePhdr) && eh.e_phnum < 256) {
    for (unsigned i = 0; i < eh.e_phnum; ++i) {
      NativePhdr ph;
      if (pread(fd, &ph, sizeof ph, static_cast<off_t>(eh.e_phoff + i * sizeof ph)) != static_cast<ssize_t>(sizeof ph))
        break;
      if (ph.p_type == PT_GNU_STACK) {
        wants = (ph.p_flags & PF_X) != 0;
        break;
      }
    }
  }
  close(fd);
  return wants;
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
