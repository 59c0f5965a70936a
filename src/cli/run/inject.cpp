#include "cli/run/inject.hpp"

#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <string_view>

namespace sealkit::cli::run_inject {

namespace {

namespace fs = std::filesystem;

constexpr const char* kRuntime = "libsealkit-runtime.so";
constexpr const char* kPreload = "libsealkit-preload.so";

bool readable(const fs::path& p) { return access(p.c_str(), R_OK) == 0; }

// ld.so splits LD_AUDIT at ':' and LD_PRELOAD at ':' and ' ', and expands
// '$' tokens: a name with any of them would load something else.
bool ld_so_can_take(const std::string& name, std::string& why) {
  for (char c : {':', ' ', '$', '\t', '\n'}) {
    if (name.find(c) != std::string::npos) {
      why = name + ": ld.so cannot be given a path with '" + std::string(1, c) +
            "' in LD_AUDIT or LD_PRELOAD; install sealkit under another directory";
      return false;
    }
  }
  return true;
}

std::optional<fs::path> runtime_path(const std::string& override_path, std::string& why) {
  if (!override_path.empty()) {
    fs::path p = fs::absolute(override_path).lexically_normal();
    if (readable(p)) return p;
    why = "--runtime " + override_path + ": " + std::strerror(errno);
    return std::nullopt;
  }
  std::error_code ec;
  fs::path exe = fs::read_symlink("/proc/self/exe", ec);
  if (ec) {
    why = "cannot read /proc/self/exe: " + ec.message();
    return std::nullopt;
  }
  const fs::path prefix = exe.parent_path().parent_path();
  // The layout of cmake/runtime_layout.cmake; lib/ is the build tree's own output directory.
  for (const fs::path& cand : {prefix / SEALKIT_RUNTIME_LIBDIR / "sealkit" / kRuntime, prefix / "lib" / kRuntime}) {
    if (readable(cand)) return cand;
  }
  why = std::string(kRuntime) + " not found next to " + exe.string() + "; reinstall sealkit or pass --runtime PATH";
  return std::nullopt;
}

// <root> when `dir` is <root>/<SEALKIT_RUNTIME_LIBDIR>/sealkit.
std::optional<fs::path> layout_root(const fs::path& dir) {
  fs::path tail = fs::path(SEALKIT_RUNTIME_LIBDIR) / "sealkit";
  fs::path root = dir;
  for (auto it = tail.end(); it != tail.begin();) {
    --it;
    if (root.filename() != *it) return std::nullopt;
    root = root.parent_path();
  }
  return root;
}

}  // namespace

std::optional<Objects> find_objects(const std::string& runtime_override, std::string& why) {
  auto runtime = runtime_path(runtime_override, why);
  if (!runtime) return std::nullopt;
  const fs::path preload = runtime->parent_path() / kPreload;
  if (!readable(preload)) {
    why = preload.string() + ": " + std::strerror(errno) + "; reinstall sealkit";
    return std::nullopt;
  }
  Objects o{runtime->string(), preload.string(), false, {}};
  if (!ld_so_can_take(o.audit, why)) return std::nullopt;
  // Both classes installed side by side in the directories ld.so's $LIB names
  // (asked of ld.so at configure time): the audit module through $LIB,
  // expanded per process; the preload object by its 64-bit path, which the
  // i386 audit module turns into the i386 one in a 32-bit process
  // (runtime/preload_class.cpp). One $ token, not two: ld.so reads
  // /proc/self/exe for each list that has one (docs/benchmarks.md).
  constexpr bool kLayoutIsLdSoLib = SEALKIT_RUNTIME_LIB_IS_LD_SO_LIB;
  const auto root = layout_root(runtime->parent_path());
  if (!kLayoutIsLdSoLib) {
    o.why_64_bit_only = "this sealkit was built where ld.so's $LIB is not " SEALKIT_RUNTIME_LIBDIR
                        ", so it names no 32-bit objects";
    return o;
  }
  if (!root) {
    o.why_64_bit_only = (runtime_override.empty() ? runtime->string() : "--runtime " + runtime_override) +
                        " is not in the installed layout <prefix>/" SEALKIT_RUNTIME_LIBDIR
                        "/sealkit/, beside which the 32-bit objects are found";
    return o;
  }
  const fs::path i386 = *root / SEALKIT_RUNTIME_LIBDIR_I386 / "sealkit";
  for (const char* name : {kRuntime, kPreload}) {
    if (!readable(i386 / name)) {
      o.why_64_bit_only = (i386 / name).string() + ": " + std::strerror(errno) +
                          "; install sealkit built with g++-multilib (both classes under $LIB)";
      return o;
    }
  }
  return Objects{((*root / "$LIB" / "sealkit") / kRuntime).string(), o.preload, true, {}};
}

}  // namespace sealkit::cli::run_inject
