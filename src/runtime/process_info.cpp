#include "runtime/process_info.hpp"

#include <elf.h>

#include "runtime/proc_text.hpp"
#include "runtime/sys.hpp"
#include "runtime/text_out.hpp"

namespace sealkit::rt {

namespace {

void read_auxv(ProcessInfo& info) {
  ProcText t;
  if (!t.load("/proc/self/auxv", 1 << 16)) return;  // stays "secure": the safe default
  std::string_view v = t.text();
  bool saw_secure = false;
  for (std::size_t off = 0; off + sizeof(Elf64_auxv_t) <= v.size(); off += sizeof(Elf64_auxv_t)) {
    Elf64_auxv_t a;
    __builtin_memcpy(&a, v.data() + off, sizeof a);
    if (a.a_type == AT_NULL) break;
    if (a.a_type == AT_SECURE) {
      info.secure = a.a_un.a_val != 0;
      saw_secure = true;
    } else if (a.a_type == AT_PAGESZ && a.a_un.a_val >= 4096 && (a.a_un.a_val & (a.a_un.a_val - 1)) == 0) {
      info.page_size = a.a_un.a_val;
    }
  }
  if (!saw_secure) info.secure = true;
}

void take_log_path(ProcessInfo& info, std::string_view value) {
  if (value.empty()) return;
  if (value.front() != '/' || value.size() >= sizeof info.log_path) {
    warn("SEALKIT_LOG must be an absolute path shorter than 512 bytes; not logging");
    return;
  }
  for (std::size_t i = 0; i < value.size(); ++i) info.log_path[i] = value[i];
  info.log_path[value.size()] = '\0';
}

// The environment the process was started with (/proc/self/environ holds it
// as NUL-separated NAME=VALUE strings).
void read_environment(ProcessInfo& info) {
  ProcText t;
  if (!t.load("/proc/self/environ", 1 << 22)) return;
  std::string_view env = t.text();
  while (!env.empty()) {
    std::size_t end = env.find('\0');
    std::string_view kv = env.substr(0, end);
    env.remove_prefix(end == std::string_view::npos ? env.size() : end + 1);
    constexpr std::string_view kLog = "SEALKIT_LOG=";
    if (kv.substr(0, kLog.size()) == kLog) take_log_path(info, kv.substr(kLog.size()));
  }
}

}  // namespace

void warn(std::string_view what) {
  TextOut o;
  o.str("sealkit: warning: ").str(what).str("\n");
  sys::write(2, o.view().data(), o.view().size());
}

void read_process_info(ProcessInfo& info) {
  read_auxv(info);
  // In secure execution (setuid, setgid, capabilities) the environment
  // belongs to whoever started the program: never read it.
  if (!info.secure) read_environment(info);
}

}  // namespace sealkit::rt
