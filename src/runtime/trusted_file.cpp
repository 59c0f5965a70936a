#include "runtime/trusted_file.hpp"

#include <linux/stat.h>

#include "runtime/sys.hpp"

namespace sealkit::rt {

namespace {

// st_mode bits (<linux/stat.h> hides them when glibc's headers are seen).
constexpr std::uint32_t kTypeMask = 0170000, kRegular = 0100000, kDirectory = 0040000, kSymlink = 0120000;
constexpr std::uint32_t kSticky = 01000, kGroupOrOthersWrite = 022;
constexpr std::size_t kNameMax = 255;

bool owner_ok(std::uint32_t uid, Owners owners, std::uint32_t user) {
  return uid == 0 || (owners == Owners::kRootOrUser && uid == user);
}

const char* owner_problem(Owners owners) {
  return owners == Owners::kRoot ? "is not owned by root" : "is owned by neither root nor the user running the program";
}

// What a component of the path is opened as.
enum class Part : std::uint8_t {
  kDir,
  kReadFile,    // its contents decide something: nobody else may write it
  kAppendFile,  // a log: others may append too (a shared log may be writable by all), it only has to be whose it should
};

// Why the opened component cannot be trusted, or null.
const char* problem_of(int fd, Part part, Owners owners, std::uint32_t user) {
  struct statx st;
  if (sys::fstatx(fd, STATX_TYPE | STATX_MODE | STATX_UID, &st) != 0) return "cannot be examined (statx)";
  const std::uint32_t type = st.stx_mode & kTypeMask;
  const bool directory = part == Part::kDir;
  if (directory && type != kDirectory) return "is not a directory";
  if (!directory && type != kRegular) return "is not a regular file";
  if (!owner_ok(st.stx_uid, owners, user)) return owner_problem(owners);
  if (part == Part::kAppendFile) return nullptr;
  if ((st.stx_mode & kGroupOrOthersWrite) != 0 && !(directory && (st.stx_mode & kSticky) != 0))
    return directory ? "is writable by its group or by others and has no sticky bit"
                     : "is writable by its group or by others";
  return nullptr;
}

// Why openat(dir, name) failed, in words: a link is the usual reason.
const char* open_problem(int dir, const char* name, long error, bool& missing) {
  if (error == -ENOENT) {
    missing = true;
    return "does not exist";
  }
  if (error == -ENXIO) return "is a FIFO or socket with nobody at the other end (not a regular file)";
  if (error == -ELOOP || error == -ENOTDIR) {
    struct statx st;
    if (sys::statx_nofollow(dir, name, STATX_TYPE, &st) == 0 && (st.stx_mode & kTypeMask) == kSymlink)
      return "is a symbolic link (name the real path: no link may stand on the way)";
    if (error == -ENOTDIR) return "is not a directory";
  }
  return "cannot be opened";
}

// The walk of open_trusted and open_trusted_append: `last` is what the file is opened as.
int walk(const char* path, Part last_part, Owners owners, std::uint32_t uid, TrustProblem& why) {
  why = TrustProblem{};
  std::size_t n = 0;
  while (path[n] != '\0') ++n;
  const std::string_view p(path, n);
  auto fail = [&](const char* what, std::size_t end) {
    why.what = what;
    why.part = std::string_view(p.data(), end);  // not substr: it may throw, and nothing here can
    return -1;
  };
  if (p.empty() || p.front() != '/') return fail("is not an absolute path", n);
  int dir = sys::openat(sys::kAtFdcwd, "/", sys::kOPath | sys::kODirectory | sys::kOCloexec);
  if (dir < 0) return fail("cannot be opened", 1);
  if (const char* problem = problem_of(dir, Part::kDir, owners, uid)) {
    sys::close(dir);
    return fail(problem, 1);
  }
  std::size_t pos = 1;
  for (;;) {
    while (pos < n && p[pos] == '/') ++pos;
    std::size_t end = pos;
    while (end < n && p[end] != '/') ++end;
    std::size_t next = end;
    while (next < n && p[next] == '/') ++next;
    const bool last = next == n;
    const std::string_view name(p.data() + pos, end - pos);
    if (name.empty()) {  // "/" alone, or a trailing '/': no file named
      sys::close(dir);
      return fail("names a directory, not a file", n);
    }
    if (name == "." && !last) {
      pos = next;
      continue;
    }
    if (name == ".." || name == ".") {
      sys::close(dir);
      return fail("holds a '.' or '..' component (name the real path)", end);
    }
    if (name.size() > kNameMax) {
      sys::close(dir);
      return fail("has a component longer than 255 bytes", end);
    }
    char buf[kNameMax + 1];
    for (std::size_t i = 0; i < name.size(); ++i) buf[i] = name[i];
    buf[name.size()] = '\0';
    // The file: never through a link, and O_NONBLOCK, so that a FIFO put in its place (which has no reader)
    // fails at once instead of hanging the process in open; the type is checked right after.
    constexpr long kFile = sys::kONofollow | sys::kONonblock | sys::kONoctty | sys::kOCloexec;
    const long flags = !last ? sys::kOPath | sys::kODirectory | sys::kONofollow | sys::kOCloexec
                       : last_part == Part::kAppendFile ? kFile | sys::kOWronly | sys::kOAppend | sys::kOCreat
                                                        : kFile;  // O_RDONLY
    const int fd = sys::openat(dir, buf, flags, 0644);
    if (fd < 0) {
      const char* problem = open_problem(dir, buf, fd, why.missing);
      sys::close(dir);
      return fail(problem, last ? n : end);
    }
    sys::close(dir);
    if (const char* problem = problem_of(fd, last ? last_part : Part::kDir, owners, uid)) {
      sys::close(fd);
      return fail(problem, last ? n : end);
    }
    if (last) return fd;
    dir = fd;
    pos = next;
  }
}

}  // namespace

int open_trusted(const char* path, Owners owners, std::uint32_t uid, TrustProblem& why) {
  return walk(path, Part::kReadFile, owners, uid, why);
}

int open_trusted_append(const char* path, std::uint32_t uid, TrustProblem& why) {
  return walk(path, Part::kAppendFile, Owners::kRootOrUser, uid, why);
}

}  // namespace sealkit::rt
