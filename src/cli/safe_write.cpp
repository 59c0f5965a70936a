#include "cli/safe_write.hpp"

#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <climits>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <deque>
#include <utility>
#include <vector>

namespace sealkit::cli {

namespace {

// A descriptor closed when it goes out of scope.
class Fd {
 public:
  explicit Fd(int fd = -1) : fd_(fd) {}
  Fd(Fd&& o) noexcept : fd_(std::exchange(o.fd_, -1)) {}
  Fd& operator=(Fd&& o) noexcept {
    if (this != &o) {
      reset();
      fd_ = std::exchange(o.fd_, -1);
    }
    return *this;
  }
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  ~Fd() { reset(); }
  int get() const { return fd_; }
  int release() { return std::exchange(fd_, -1); }

 private:
  void reset() {
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
  }
  int fd_;
};

// Symbolic links followed on one walk, as the kernel's own limit (MAXSYMLINKS).
constexpr int kMaxLinks = 40;

std::string user_text(uid_t uid) {
  std::string s = "uid " + std::to_string(uid);
  if (const passwd* pw = ::getpwuid(uid)) s += std::string(" (") + pw->pw_name + ")";
  return s;
}

std::string group_text(gid_t gid) {
  std::string s = "gid " + std::to_string(gid);
  if (const group* gr = ::getgrgid(gid)) s += std::string(" (") + gr->gr_name + ")";
  return s;
}

std::string mode_text(mode_t mode) {
  char buf[16];
  std::snprintf(buf, sizeof buf, "%04o", static_cast<unsigned>(mode & 07777));
  return buf;
}

// The components of `path`, without empty ones and ".".
std::vector<std::string> components(std::string_view path) {
  std::vector<std::string> out;
  std::size_t i = 0;
  while (i < path.size()) {
    std::size_t j = path.find('/', i);
    if (j == std::string_view::npos) j = path.size();
    std::string_view c = path.substr(i, j - i);
    if (!c.empty() && c != ".") out.emplace_back(c);
    i = j + 1;
  }
  return out;
}

// Why a user other than root and `me` could change the entries of what `st`
// describes (a directory, or a link on the way); empty when none could.
// `holds_file`: the directory that holds a file sealkit replaces, where a
// sticky bit is not enough.
std::string exposure(const struct stat& st, uid_t me, bool holds_file) {
  if (st.st_uid != 0 && st.st_uid != me) return "is owned by " + user_text(st.st_uid) + ", neither root nor you";
  if (!S_ISDIR(st.st_mode)) return "";
  const bool sticky_is_enough = (st.st_mode & S_ISVTX) != 0 && !holds_file;
  if ((st.st_mode & S_IWOTH) != 0 && !sticky_is_enough)
    return "is writable by every user (mode " + mode_text(st.st_mode) + ")";
  if ((st.st_mode & S_IWGRP) != 0 && !sticky_is_enough)
    return "is writable by group " + group_text(st.st_gid) + " (mode " + mode_text(st.st_mode) + ")";
  return "";
}

std::string hint(int e) {
  switch (e) {
    case ENOENT: return "; create the directory first, or give another path";
    case EACCES:
    case EPERM: return "; give a path in a directory you may write";
    case ENOTDIR: return "; every component but the last must be a directory";
    default: return "";
  }
}

void cannot(std::string& error, const std::string& file, const std::string& what, int e) {
  error = "cannot write " + file + ": " + what + ": " + std::strerror(e) + hint(e);
}

enum class Holds { kReplaced, kAppended };

// Splits `file` into the directory that holds it and its name.
bool split_file(const std::string& file, std::string& dir, std::string& name, std::string& error) {
  const std::size_t slash = file.rfind('/');
  dir = slash == std::string::npos ? "." : slash == 0 ? "/" : file.substr(0, slash);
  name = slash == std::string::npos ? file : file.substr(slash + 1);
  if (name.empty() || name == "." || name == "..") {
    error = "cannot write " + file + ": it names a directory; give the path of a file";
    return false;
  }
  return true;
}

// Opens the directory `dir` (the one that holds `file`) by walking from /
// one component at a time under the rule of safe_write.hpp. `out` is an
// O_PATH descriptor of it and `shown` its physical path; false with `error`.
bool open_directory(const std::string& file, const std::string& dir, Holds holds, Fd& out, std::string& shown,
                    std::string& error) {
  const uid_t me = ::geteuid();
  std::deque<std::string> todo;
  if (dir[0] != '/') {
    char cwd[PATH_MAX];
    if (::getcwd(cwd, sizeof cwd) == nullptr) {
      cannot(error, file, "the working directory", errno);
      return false;
    }
    for (std::string& c : components(cwd)) todo.push_back(std::move(c));
  }
  for (std::string& c : components(dir)) todo.push_back(std::move(c));

  // The directories walked so far, / first; `names` their names below /.
  std::vector<Fd> dirs;
  std::vector<std::string> names;
  auto here = [&] {
    std::string s;
    for (const std::string& n : names) s += "/" + n;
    return s.empty() ? std::string("/") : s;
  };
  auto below = [&](const std::string& n) { return names.empty() ? "/" + n : here() + "/" + n; };
  auto refuse_on_the_way = [&](const std::string& what, const std::string& why) {
    error = "refusing to write " + file + ": " + what + " " + why +
            ", so another user could swap what is below it and redirect the write; every directory on the way "
            "must be owned by root or by you and not writable by others unless sticky (chown, chmod go-w), "
            "or write elsewhere";
    return false;
  };

  struct stat st {};
  dirs.emplace_back(::open("/", O_PATH | O_DIRECTORY | O_CLOEXEC));
  if (dirs.back().get() < 0 || ::fstat(dirs.back().get(), &st) != 0) {
    cannot(error, file, "/", errno);
    return false;
  }
  if (std::string why = exposure(st, me, false); !todo.empty() && !why.empty()) return refuse_on_the_way("/", why);

  int links = 0;
  while (!todo.empty()) {
    std::string n = std::move(todo.front());
    todo.pop_front();
    if (n == "..") {  // the physical parent: the walk holds it
      if (dirs.size() > 1) {
        dirs.pop_back();
        names.pop_back();
      }
      continue;
    }
    Fd fd(::openat(dirs.back().get(), n.c_str(), O_PATH | O_NOFOLLOW | O_CLOEXEC));
    if (fd.get() < 0 || ::fstat(fd.get(), &st) != 0) {
      cannot(error, file, below(n), errno);
      return false;
    }
    if (S_ISLNK(st.st_mode)) {
      // In a directory that passed the rule only root or the caller made the link; it must be theirs too.
      if (std::string why = exposure(st, me, false); !why.empty())
        return refuse_on_the_way("the symbolic link " + below(n), why);
      if (++links > kMaxLinks) {
        cannot(error, file, below(n), ELOOP);
        return false;
      }
      char target[PATH_MAX];
      const ssize_t len = ::readlinkat(fd.get(), "", target, sizeof target);
      if (len <= 0 || static_cast<std::size_t>(len) == sizeof target) {
        cannot(error, file, below(n), len < 0 ? errno : ENAMETOOLONG);
        return false;
      }
      const std::string_view t(target, static_cast<std::size_t>(len));
      std::vector<std::string> parts = components(t);
      todo.insert(todo.begin(), std::make_move_iterator(parts.begin()), std::make_move_iterator(parts.end()));
      if (t[0] == '/') {
        dirs.erase(dirs.begin() + 1, dirs.end());
        names.clear();
      }
      continue;
    }
    if (!S_ISDIR(st.st_mode)) {
      cannot(error, file, below(n), ENOTDIR);
      return false;
    }
    // The last directory is judged below, by the rule for the one that holds the file.
    if (std::string why = exposure(st, me, false); !todo.empty() && !why.empty())
      return refuse_on_the_way(below(n), why);
    dirs.push_back(std::move(fd));
    names.push_back(std::move(n));
  }

  if (::fstat(dirs.back().get(), &st) != 0) {
    cannot(error, file, here(), errno);
    return false;
  }
  if (std::string why = exposure(st, me, holds == Holds::kReplaced); !why.empty()) {
    error = "refusing to write " + file + ": its directory " + here() + " " + why +
            ", so another user could put a link or a file of theirs where sealkit writes; use a directory that "
            "only root or you can write (chmod go-w, chown), with the same for every directory above it";
    return false;
  }
  out = std::move(dirs.back());
  shown = here();
  return true;
}

// ".NAME.<16 hex digits>.tmp": hidden, unguessable, and not *.prom, so the
// textfile collector never reads it.
std::string temporary_name(const std::string& name) {
  std::uint64_t r = 0;
  if (::getrandom(&r, sizeof r, GRND_NONBLOCK) != static_cast<ssize_t>(sizeof r))
    r = static_cast<std::uint64_t>(::getpid()) << 32 ^ static_cast<std::uint64_t>(std::time(nullptr)) ^
        reinterpret_cast<std::uintptr_t>(&r);
  char hex[17];
  std::snprintf(hex, sizeof hex, "%016llx", static_cast<unsigned long long>(r));
  constexpr std::size_t kRoom = NAME_MAX - (1 + 1 + 16 + 4);
  return "." + name.substr(0, kRoom) + "." + hex + ".tmp";
}

// 0644 less the umask: the file is made 0600 while it is written and gets
// its mode on the descriptor once it is whole. umask() is read by setting
// it back at once; the CLI runs one thread here.
mode_t final_mode() {
  const mode_t mask = ::umask(077);
  ::umask(mask);
  return 0644 & ~mask;
}

}  // namespace

bool write_file_safely(const std::string& path, std::string_view text, std::string& error, std::optional<mode_t> mode) {
  std::string dir, name, shown;
  if (!split_file(path, dir, name, error)) return false;
  Fd walked;
  if (!open_directory(path, dir, Holds::kReplaced, walked, shown, error)) return false;
  // O_PATH cannot be fsynced: the same directory, opened for reading through the walked descriptor.
  Fd d(::openat(walked.get(), ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (d.get() < 0) {
    cannot(error, path, shown, errno);
    return false;
  }
  // FILE is replaced by a rename: anything but a regular file would be lost (a link such as /dev/stdout, a
  // device), so it is refused, and a link is never followed either.
  struct stat st {};
  if (::fstatat(d.get(), name.c_str(), &st, AT_SYMLINK_NOFOLLOW) == 0 && !S_ISREG(st.st_mode)) {
    error = "cannot write " + path + ": it is " +
            (S_ISLNK(st.st_mode)   ? "a symbolic link, which sealkit never writes through"
             : S_ISDIR(st.st_mode) ? "a directory"
                                   : "not a regular file (a device, FIFO or socket)") +
            ", and sealkit replaces the file it writes; give the path of a regular file, or - for standard output "
            "where the option takes it";
    return false;
  }

  std::string tmp;
  Fd f;
  for (int tries = 0; tries < 8 && f.get() < 0; ++tries) {
    tmp = temporary_name(name);
    f = Fd(::openat(d.get(), tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600));
    if (f.get() < 0 && errno != EEXIST) break;
  }
  if (f.get() < 0) {
    cannot(error, path, "creating a file in " + shown, errno);
    return false;
  }
  auto fail = [&](const char* what) {
    const int e = errno;
    ::unlinkat(d.get(), tmp.c_str(), 0);
    cannot(error, path, what, e);
    return false;
  };
  for (std::size_t done = 0; done < text.size();) {
    const ssize_t n = ::write(f.get(), text.data() + done, text.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      if (n == 0) errno = EIO;
      return fail("writing");
    }
    done += static_cast<std::size_t>(n);
  }
  if (::fchmod(f.get(), mode ? *mode : final_mode()) != 0) return fail("setting its mode");
  if (::fsync(f.get()) != 0) return fail("syncing it");
  if (::close(f.release()) != 0) return fail("closing it");
  if (::renameat(d.get(), tmp.c_str(), d.get(), name.c_str()) != 0) return fail("renaming it into place");
  // The rename itself on disk; a filesystem without directory sync (EINVAL) has nothing more to give.
  if (::fsync(d.get()) != 0 && errno != EINVAL) {
    cannot(error, path, "written, but syncing " + shown, errno);
    return false;
  }
  return true;
}

bool check_append_path(const std::string& path, std::string& error, std::string& physical) {
  error.clear();
  std::string dir, name, shown;
  if (!split_file(path, dir, name, error)) return false;
  Fd d;
  if (!open_directory(path, dir, Holds::kAppended, d, shown, error)) return false;
  physical = shown == "/" ? "/" + name : shown + "/" + name;
  struct stat st {};
  if (::fstatat(d.get(), name.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0) {
    if (errno == ENOENT) return true;  // created on the first append, in a directory that passed
    cannot(error, path, path, errno);
    return false;
  }
  const uid_t me = ::geteuid();
  if (S_ISLNK(st.st_mode))
    error = "refusing to write " + path + ": it is a symbolic link, which is never followed; give the file itself";
  else if (!S_ISREG(st.st_mode))
    error = "refusing to write " + path + ": it is not a regular file; give the path of a regular file";
  else if (st.st_uid != 0 && st.st_uid != me)
    error = "refusing to write " + path + ": it is owned by " + user_text(st.st_uid) +
            ", neither root nor you; give a file of yours or root's";
  return error.empty();
}

}  // namespace sealkit::cli
