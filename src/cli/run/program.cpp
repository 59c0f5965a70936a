#include "cli/run/program.hpp"

#include <elf.h>
#include <fcntl.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>
#include <string_view>
#include <vector>

#include "core/secure_exec.hpp"

namespace sealkit::cli::run_program {

namespace fs = std::filesystem;

std::optional<fs::path> resolve(const std::string& name) {
  if (name.find('/') != std::string::npos) return fs::path(name);
  const char* path = std::getenv("PATH");
  std::string_view dirs = path ? path : "/usr/local/bin:/usr/bin:/bin";
  while (true) {
    auto colon = dirs.find(':');
    std::string dir(dirs.substr(0, colon));
    fs::path cand = fs::path(dir.empty() ? "." : dir) / name;
    if (access(cand.c_str(), X_OK) == 0 && !fs::is_directory(cand)) return cand;
    if (colon == std::string_view::npos) return std::nullopt;
    dirs.remove_prefix(colon + 1);
  }
}

namespace {

// kStatic or kDynamic from the program headers of one ELF class.
template <typename Ehdr, typename Phdr>
Linking linking_from_headers(int fd) {
  Ehdr eh{};
  if (pread(fd, &eh, sizeof eh, 0) != static_cast<ssize_t>(sizeof eh)) return Linking::kUnknown;
  if (eh.e_phentsize != sizeof(Phdr) || eh.e_phnum == 0 || eh.e_phnum >= 4096) return Linking::kUnknown;
  std::vector<Phdr> ph(eh.e_phnum);
  const auto bytes = static_cast<ssize_t>(ph.size() * sizeof(Phdr));
  if (pread(fd, ph.data(), static_cast<size_t>(bytes), static_cast<off_t>(eh.e_phoff)) != bytes)
    return Linking::kUnknown;
  for (const Phdr& h : ph)
    if (h.p_type == PT_INTERP) return Linking::kDynamic;
  return Linking::kStatic;
}

}  // namespace

Kind kind_of(const fs::path& program) {
  int fd = open(program.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return {};
  unsigned char ident[EI_NIDENT] = {};
  Kind k;
  if (pread(fd, ident, sizeof ident, 0) == static_cast<ssize_t>(sizeof ident)) {
    if (ident[0] == '#' && ident[1] == '!') {
      k.linking = Linking::kScript;
    } else if (std::memcmp(ident, ELFMAG, SELFMAG) == 0 && ident[EI_CLASS] == ELFCLASS64) {
      k.linking = linking_from_headers<Elf64_Ehdr, Elf64_Phdr>(fd);
    } else if (std::memcmp(ident, ELFMAG, SELFMAG) == 0 && ident[EI_CLASS] == ELFCLASS32) {
      k.linking = linking_from_headers<Elf32_Ehdr, Elf32_Phdr>(fd);
      k.is_32_bit = k.linking != Linking::kUnknown;
    }
  }
  close(fd);
  return k;
}

std::string secure_exec_reason(const fs::path& program) {
  const char* why = core::secure_exec_reason(program.c_str());
  return why != nullptr ? why : "";
}

}  // namespace sealkit::cli::run_program
