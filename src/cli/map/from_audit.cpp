#include "cli/map/from_audit.hpp"

#include <memory>
#include <string_view>

#include "cli/audit/process_state.hpp"
#include "core/proc_maps.hpp"

namespace sealkit::cli::map {

namespace {

std::string_view basename_of(std::string_view path) {
  auto slash = path.rfind('/');
  return slash == std::string_view::npos ? path : path.substr(slash + 1);
}

// "text" for elf_text and so on; the other classes keep their audit names.
std::string part_name(audit::VmaClass c) {
  std::string_view s = audit::to_string(c);
  if (audit::is_elf_class(c) && s.rfind("elf_", 0) == 0) s.remove_prefix(4);
  return std::string(s);
}

SealState state_of(const audit::VmaRecord& v) {
  switch (v.verdict()) {
    case audit::Verdict::kSealed:
      return SealState::kSealed;
    case audit::Verdict::kUnsealed:
      return SealState::kUnsealed;
    case audit::Verdict::kNotApplicable:
      return SealState::kNotApplicable;
    case audit::Verdict::kPartial:  // sealed in part by a filter (sealkit audit): not wholly sealed
      return v.should_seal() ? SealState::kUnsealed : SealState::kNotApplicable;
  }
  return SealState::kNotApplicable;
}

// The name of a band that is a single mapping, not an object.
std::string mapping_name(const audit::VmaRecord& v) {
  using audit::VmaClass;
  switch (v.cls) {
    case VmaClass::kThreadStack:
      return "thread stack";
    case VmaClass::kAnon:
      return v.path.empty() ? "anon" : v.path;  // [anon:NAME] keeps its name
    case VmaClass::kFile:
    case VmaClass::kShm:
      if (!v.path.empty() && v.path[0] == '/') return std::string(basename_of(v.path));
      return v.path.empty() ? part_name(v.cls) : v.path;
    default:
      return v.path.empty() ? part_name(v.cls) : v.path;  // [stack], [heap], [vdso], ...
  }
}

// The command line with NULs as spaces; the comm in brackets when there is none.
std::string command_of(pid_t pid, const std::string& comm) {
  std::string path = "/proc/" + std::to_string(pid) + "/cmdline";
  auto text = core::read_proc_file(path.c_str(), 64 * 1024);
  std::string cmd = text ? *text : std::string();
  while (!cmd.empty() && cmd.back() == '\0') cmd.pop_back();
  for (char& c : cmd) {
    if (c == '\0') c = ' ';
  }
  return cmd.empty() ? "[" + comm + "]" : cmd;
}

std::string failure_message(const audit::ProcessAudit& a) {
  std::string pid = std::to_string(a.pid);
  std::string what;
  switch (a.status) {
    case audit::AuditStatus::kGone:
      what = "no process " + pid + " (it does not exist or exited while it was read); check the pid with ps";
      break;
    case audit::AuditStatus::kDenied:
      what = "permission denied reading /proc/" + pid +
             "/smaps; run sealkit map as the user who owns the process, or as root";
      break;
    case audit::AuditStatus::kKernelThread:
      what = "pid " + pid + " is a kernel thread: it has no user memory to map; pick a user process";
      break;
    case audit::AuditStatus::kZombie:
      what = "process " + pid + " is a zombie (exited, not yet reaped): it has no memory left to map";
      break;
    case audit::AuditStatus::kTorn:
      what = "the memory of process " + pid + " kept changing while it was read; run sealkit map again";
      break;
    case audit::AuditStatus::kBusy:  // only when seccomp filters are read, which sealkit map does not do
    case audit::AuditStatus::kTimeout:
      what = "the seccomp filters of process " + pid + " could not be read in time; run sealkit map again";
      break;
    case audit::AuditStatus::kOk:
      what = "process " + pid + " has no memory mappings";
      break;
  }
  if (!a.detail.empty()) what += " (" + a.detail + ")";
  return what;
}

}  // namespace

Picture picture_from_audit(const audit::ProcessAudit& a, std::string command) {
  Picture p;
  p.pid = static_cast<int>(a.pid);
  p.command = std::move(command);
  p.should_seal_bytes = a.total.should_bytes;
  p.sealed_of_should_bytes = a.total.sealed_should_bytes;
  p.sealed_bytes = a.total.sealed_bytes;
  p.coverage_rule =
      "Should be sealed: each ELF object's PT_LOAD span (text, rodata, RELRO, data, bss, its own gap reservations, "
      "minus PT_GNU_MUTABLE), [vdso], [vvar], [vvar_vclock] and [stack]; see docs/audit.md.";

  // One band per object, created at the object's first VMA; one per other VMA.
  std::vector<int> band_of_object(a.objects.size(), -1);
  for (const audit::VmaRecord& v : a.vmas) {
    Vma vma{core::Range{v.map.range.begin, v.map.range.end}, "", part_name(v.cls), v.path, state_of(v)};
    vma.perms = {v.map.read ? 'r' : '-', v.map.write ? 'w' : '-', v.map.exec ? 'x' : '-', v.map.shared ? 's' : 'p'};
    bool in_object = v.object >= 0 && static_cast<std::size_t>(v.object) < a.objects.size();
    if (in_object && band_of_object[v.object] >= 0) {
      p.bands[band_of_object[v.object]].vmas.push_back(std::move(vma));
      continue;
    }
    Band band;
    if (in_object) {
      const audit::ObjectRecord& obj = a.objects[v.object];
      band.name = std::string(basename_of(obj.path));
      if (band.name.empty()) band.name = obj.path.empty() ? "ELF object" : obj.path;
      band.title = obj.path + (obj.verified ? "" : " (program headers not read: classified from smaps alone)");
      band_of_object[v.object] = static_cast<int>(p.bands.size());
    } else {
      band.name = mapping_name(v);
      band.title = v.path.empty() ? band.name : v.path;
    }
    band.vmas.push_back(std::move(vma));
    p.bands.push_back(std::move(band));
  }
  return p;
}

std::optional<Picture> picture_of_process(pid_t pid, std::string& error) {
  audit::ElfLayoutCache cache;
  audit::ProcessAudit a = audit::audit_process(pid, cache);
  if (a.status != audit::AuditStatus::kOk || a.vmas.empty()) {
    a.pid = pid;
    error = failure_message(a);
    return std::nullopt;
  }
  Picture p = picture_from_audit(a, command_of(pid, a.comm));
  audit_report::MachineFacts facts;
  std::shared_ptr<const rt::Config> admin;
  std::string ignored;  // without /etc/ld.so.preload the state is judged as if machine-wide sealing were off
  audit_report::read_machine_facts(facts, admin, ignored);
  p.state = audit_report::state_reason(audit_report::process_state(a, facts), a);
  return p;
}

}  // namespace sealkit::cli::map
