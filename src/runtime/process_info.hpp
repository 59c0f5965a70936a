// What the runtime needs to know about its process, read from /proc/self:
// the auxiliary vector (secure execution, page size) and, outside secure
// execution only, the few SEALKIT_* environment settings.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

namespace sealkit::rt {

struct ProcessInfo {
  bool secure = true;        // AT_SECURE; assumed when auxv cannot be read
  std::size_t page_size = 4096;
  char log_path[512] = {};   // SEALKIT_LOG, validated; empty when not logging
};

// Fills `info`; prints a one-line warning on stderr for each setting it
// rejects, and falls back to the safe default for it.
void read_process_info(ProcessInfo& info);

void warn(std::string_view what);

}  // namespace sealkit::rt
