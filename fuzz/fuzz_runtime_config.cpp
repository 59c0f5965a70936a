// The runtime's configuration parser (src/runtime/config.cpp) on arbitrary
// text: it runs inside every process of a machine, on a file an administrator
// (or a mistake) wrote. Invariants checked: the pattern counts stay bounded,
// rejected lines are reported in increasing order and within the text, and
// matching any path against what was parsed is safe.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "runtime/config.hpp"

namespace {

sealkit::rt::Config g_config;

struct Reports {
  std::size_t last = 0;
  std::size_t lines = 0;
};

void on_reject(std::size_t line, std::string_view message, void* ctx) {
  auto* r = static_cast<Reports*>(ctx);
  if (line <= r->last || line > r->lines || message.empty()) std::abort();
  r->last = line;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  Reports r;
  r.lines = 1;
  for (char c : text.substr(0, sealkit::rt::Config::kMaxBytes)) r.lines += c == '\n';
  g_config.parse(text, on_reject, &r);
  if (g_config.object_patterns() > sealkit::rt::Config::kMaxPatterns) std::abort();
  // Match the text's own lines against what was parsed, as paths.
  std::size_t pos = 0;
  for (int i = 0; i < 8 && pos <= text.size(); ++i) {
    std::size_t end = text.find('\n', pos);
    if (end == std::string_view::npos) end = text.size();
    const std::string_view path = text.substr(pos, end - pos);
    (void)g_config.program_excluded(path);
    (void)g_config.object_excluded(path);
    pos = end + 1;
  }
  return 0;
}
