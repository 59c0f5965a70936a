#include "cli/run/static_tls.hpp"

#include <elf.h>
#include <fcntl.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <string_view>
#include <vector>

#include "audit/elf_file.hpp"

extern char** environ;

namespace sealkit::cli::run_tls {

namespace {

namespace fs = std::filesystem;

constexpr std::string_view kTunable = "glibc.rtld.optional_static_tls";
constexpr std::size_t kGlibcDefault = 512;

// PT_INTERP of `program`: the ld.so that will run it anyway.
std::string interpreter_of(const fs::path& program) {
  std::string error;
  auto facts = audit::read_elf_file(program.c_str(), error);
  if (!facts) return {};
  for (const audit::ElfSegment& s : facts->segments) {
    if (s.type != PT_INTERP || s.filesz == 0 || s.filesz > 4096) continue;
    const int fd = open(program.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) return {};
    std::string path(static_cast<std::size_t>(s.filesz), '\0');
    const bool ok = pread(fd, path.data(), path.size(), static_cast<off_t>(s.offset)) == static_cast<ssize_t>(path.size());
    close(fd);
    if (!ok) return {};
    path.resize(std::strlen(path.c_str()));
    return path;
  }
  return {};
}

// `interp --list program`'s standard output.
std::string list_libraries(const std::string& interp, const fs::path& program) {
  int out[2];
  if (pipe2(out, O_CLOEXEC) != 0) return {};
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_adddup2(&fa, out[1], 1);
  posix_spawn_file_actions_addopen(&fa, 2, "/dev/null", O_WRONLY, 0);
  std::string prog = program.string();
  char* argv[] = {const_cast<char*>(interp.c_str()), const_cast<char*>("--list"), prog.data(), nullptr};
  pid_t pid = -1;
  const int rc = posix_spawn(&pid, interp.c_str(), &fa, nullptr, argv, environ);
  posix_spawn_file_actions_destroy(&fa);
  close(out[1]);
  std::string text;
  if (rc == 0) {
    char buf[4096];
    ssize_t n;
    while ((n = read(out[0], buf, sizeof buf)) > 0 && text.size() < (1u << 20)) text.append(buf, static_cast<std::size_t>(n));
    int status = 0;
    waitpid(pid, &status, 0);
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) text.clear();
  }
  close(out[0]);
  return text;
}

std::size_t tls_bytes_of(const std::string& path) {
  std::string error;
  auto facts = audit::read_elf_file(path.c_str(), error);
  if (!facts) return 0;
  for (const audit::ElfSegment& s : facts->segments)
    if (s.type == PT_TLS) return (static_cast<std::size_t>(s.memsz) + 63) / 64 * 64;
  return 0;
}

}  // namespace

std::size_t libraries_tls_bytes(const fs::path& program) {
  const std::string interp = interpreter_of(program);
  if (interp.empty() || interp[0] != '/') return 0;
  const std::string text = list_libraries(interp, program);
  // "\tlibname => /path (0xaddress)" for each library found.
  std::size_t total = 0;
  for (std::size_t at = text.find(" => "); at != std::string::npos; at = text.find(" => ", at + 4)) {
    const std::size_t begin = at + 4, end = text.find(" (", begin);
    const std::size_t eol = text.find('\n', begin);
    if (end == std::string::npos || end > eol) continue;
    total += tls_bytes_of(text.substr(begin, end - begin));
  }
  return total;
}

std::string tunables_with_room(const char* current, std::size_t needed) {
  std::size_t room = std::max(kFloor, needed + kGlibcDefault);
  std::string kept;
  std::string_view rest = current != nullptr ? current : "";
  while (!rest.empty()) {
    const std::size_t colon = rest.find(':');
    const std::string_view item = rest.substr(0, colon);
    rest = colon == std::string_view::npos ? std::string_view() : rest.substr(colon + 1);
    if (item.substr(0, kTunable.size() + 1) == std::string(kTunable) + "=") {
      room = std::max<std::size_t>(room, std::strtoull(std::string(item.substr(kTunable.size() + 1)).c_str(), nullptr, 0));
      continue;
    }
    if (item.empty()) continue;
    kept += std::string(item) + ":";
  }
  return kept + std::string(kTunable) + "=" + std::to_string(room);
}

}  // namespace sealkit::cli::run_tls
