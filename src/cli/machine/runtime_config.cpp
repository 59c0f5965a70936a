#include "cli/machine/runtime_config.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <memory>

#include "core/read_fd.hpp"
#include "runtime/config.hpp"
#include "runtime/trusted_file.hpp"

namespace sealkit::cli::machine {

namespace {

void collect(std::size_t line, std::string_view message, void* ctx) {
  static_cast<std::vector<LineProblem>*>(ctx)->push_back({line, std::string(message)});
}

}  // namespace

ConfigReport judge_runtime_config(const std::string& path) {
  ConfigReport r;
  // Non-blocking, as the runtime opens it: a FIFO in its place cannot hang sealkit.
  const int fd = ::open(path.c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC);
  if (fd < 0) {
    r.exists = errno != ENOENT;
    r.read_error = std::strerror(errno);
    return r;
  }
  r.exists = true;
  struct stat st {};
  if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    r.read_error = "not a regular file";
    ::close(fd);
    return r;
  }
  const std::optional<std::string> text = core::read_fd(fd, rt::Config::kMaxBytes);
  const int e = errno;
  ::close(fd);
  if (!text && e != EFBIG) {
    r.read_error = std::strerror(e);
    return r;
  }
  r.too_large = !text;
  if (!r.too_large) {
    auto config = std::make_shared<rt::Config>();  // 33 KiB: not on the stack
    config->parse(*text, collect, &r.problems);
    r.parsed = std::move(config);
  }
  rt::TrustProblem problem;
  const int trusted = rt::open_trusted(path.c_str(), rt::Owners::kRoot, 0, problem);
  r.trusted = trusted >= 0;
  if (r.trusted) {
    ::close(trusted);
  } else {
    r.trust_problem = (problem.part.size() == path.size() ? path : std::string(problem.part)) + " " + problem.what;
  }
  return r;
}

}  // namespace sealkit::cli::machine
