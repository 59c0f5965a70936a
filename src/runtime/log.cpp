#include "runtime/log.hpp"

#include <linux/stat.h>

#include "runtime/sys.hpp"
#include "runtime/syslog.hpp"
#include "runtime/text_out.hpp"
#include "runtime/trusted_file.hpp"

namespace sealkit::rt {

namespace {

void protection_fields(TextOut& o, const ProtStats& p) {
  o.str(",\"protections_restored\":").num(p.restored);
  o.str(",\"wx_refused\":").num(p.wx_refused);
  o.str(",\"protections_not_restored\":").num(p.not_restored);
  o.str(",\"protections_raced\":").num(p.raced);
}

std::string_view own_exe(char (&buf)[512]) {
  const long n = sys::readlink("/proc/self/exe", buf, sizeof buf);
  return n > 0 ? std::string_view(buf, static_cast<std::size_t>(n)) : std::string_view("?");
}

// One write with O_APPEND: lines from concurrent processes do not interleave.
// The file is opened under the rule of trusted_file.hpp: root's processes
// log too, and the path may be in a directory like /tmp.
void append_line(const char* log_path, const TextOut& o) {
  TrustProblem why;
  const int fd = open_trusted_append(log_path, static_cast<std::uint32_t>(sys::getuid()), why);
  if (fd < 0) {
    TextOut w;
    w.str("SEALKIT_LOG: ").str(why.part).str(" ").str(why.what).str("; not logging");
    warn(w.view());
    return;
  }
  // A write that starts at or past RLIMIT_FSIZE raises SIGXFSZ, which kills
  // the process; one that reaches the limit is cut short, half a line. Not
  // for a log line: past the limit the line is left out. (Another process
  // appending between the statx and the write could still push the file
  // past it; a line is a few hundred bytes, a limit usually megabytes.)
  const std::uint64_t limit = sys::file_size_limit();
  if (limit != ~std::uint64_t{0}) {
    struct statx st;
    if (sys::fstatx(fd, STATX_SIZE, &st) != 0 || st.stx_size + o.view().size() > limit) {
      TextOut w;
      w.str("SEALKIT_LOG: ").str(log_path).str(" would grow past this process's file-size limit (RLIMIT_FSIZE, ")
          .num(limit).str(" bytes); not logging");
      warn(w.view());
      sys::close(fd);
      return;
    }
  }
  sys::write(fd, o.view().data(), o.view().size());
  sys::close(fd);
}

}  // namespace

void report_later(const char* log_path, const ProtStats& st) {
  if (log_path[0] == '\0' || !st.any()) return;
  char exe[512];
  TextOut o;
  o.str("{\"pid\":").num(static_cast<std::uint64_t>(sys::getpid()));
  o.str(",\"exe\":").json_str(own_exe(exe));
  o.str(",\"phase\":\"later\"");
  protection_fields(o, st);
  o.str("}\n");
  append_line(log_path, o);
}

void report_repaired_environment(const char* log_path, const char* call, const char* program,
                                 const char* const* names, std::size_t n) {
  if (log_path[0] == '\0') return;
  const auto text = [](const char* s) {
    std::size_t len = 0;
    while (s[len] != '\0') ++len;
    return std::string_view(s, len);
  };
  char exe[512];
  TextOut o;
  o.str("{\"pid\":").num(static_cast<std::uint64_t>(sys::getpid()));
  o.str(",\"exe\":").json_str(own_exe(exe));
  o.str(",\"phase\":\"exec\",\"call\":\"").str(text(call)).str("\"");
  o.str(",\"program\":").json_str(program != nullptr ? text(program) : std::string_view("?"));
  o.str(",\"environment_repaired\":true,\"variables\":[");
  for (std::size_t i = 0; i < n; ++i) o.str(i == 0 ? "" : ",").json_str(text(names[i]), 64);
  o.str("]}\n");
  append_line(log_path, o);
}

void report_startup(const ProcessInfo& info, const SealStats& st, std::size_t dropped) {
  if (info.log_path[0] == '\0' && !st.log_to_syslog) return;
  char exe[512];
  TextOut o;
  o.str("{\"pid\":").num(static_cast<std::uint64_t>(sys::getpid()));
  o.str(",\"exe\":").json_str(own_exe(exe));
  o.str(",\"phase\":\"startup\"");
  o.str(",\"injected_as\":\"").str(st.injected_as).str("\"");
  o.str(",\"backend\":\"").str(st.seccomp ? "seccomp" : "kernel").str("\"");
  o.str(",\"objects_seen\":").num(st.objects_seen);
  o.str(",\"objects_sealed\":").num(st.objects_sealed);
  o.str(",\"objects_skipped\":").num(st.objects_skipped);
  o.str(",\"objects_excluded\":").num(st.objects_excluded);
  o.str(",\"objects_not_recorded\":").num(dropped);
  o.str(",\"objects_memory_seal_property\":").num(st.objects_memory_seal_property);
  o.str(",\"objects_with_mutable_sections\":").num(st.objects_with_mutable_sections);
  o.str(",\"program_excluded\":").str(st.program_excluded ? "true" : "false");
  o.str(",\"config\":\"").str(st.config).str("\"");
  o.str(",\"mseal_calls\":").num(st.mseal_calls);
  o.str(",\"mseal_failures\":").num(st.mseal_failures);
  o.str(",\"first_errno\":").num(static_cast<std::uint64_t>(st.first_error < 0 ? -st.first_error : 0));
  o.str(",\"system_mappings_sealed\":").num(st.system_mappings_sealed);
  o.str(",\"stack_sealed\":").str(st.stack_sealed ? "true" : "false");
  o.str(",\"maps_bad_lines\":").num(st.maps_bad_lines);
  o.str(",\"protections_checked\":").str(st.look_at_protections ? "true" : "false");
  protection_fields(o, st.prot);
  if (st.seccomp) {
    o.str(",\"filter_installed\":").str(st.filter_installed ? "true" : "false");
    o.str(",\"filter_ranges\":").num(st.filter_ranges);
    o.str(",\"filter_discard_ranges\":").num(st.filter_discard_ranges);
    o.str(",\"filter_instructions\":").num(st.filter_instructions);
    o.str(",\"filter_kernel_length\":").num(st.filter_kernel_length);
    o.str(",\"set_no_new_privs\":").str(st.set_no_new_privs ? "true" : "false");
    o.str(",\"polyfill\":").str(st.polyfill ? "true" : "false");
    o.str(",\"policy_inherited\":").str(st.policy_inherited ? "true" : "false");
  }
  if (st.harden_discard) {
    // Only where asked for: every other line stays as it was.
    o.str(",\"harden_discard\":true,\"harden_installed\":").str(st.harden_installed ? "true" : "false");
    o.str(",\"harden_ranges\":").num(st.harden_ranges);
    o.str(",\"harden_kernel_length\":").num(st.harden_kernel_length);
    o.str(",\"harden_errno\":").num(static_cast<std::uint64_t>(st.harden_error));
  }
  o.str(",\"elapsed_ns\":").num(st.elapsed_ns);
  o.str("}");
  if (st.log_to_syslog) syslog_send(o.view(), kSyslogInfo);
  o.str("\n");
  if (info.log_path[0] != '\0') append_line(info.log_path, o);
}

}  // namespace sealkit::rt
