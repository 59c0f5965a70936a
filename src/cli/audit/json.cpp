// `sealkit audit --json`: the schema is in docs/cli.md.
#include <algorithm>
#include <charconv>
#include <cstdio>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

#include "cli/audit/report.hpp"
#include "cli/format.hpp"
#include "cli/output.hpp"

namespace sealkit::cli::audit_report {

namespace {

using nlohmann::json;

json percent_or_null(std::optional<double> ratio) {
  auto p = percent(ratio);
  return p ? json(*p) : json(nullptr);
}

// One list of a ClassTotals' fields for both writers (the json tree and
// audited_line below): put(key, value) with an integer or a json value.
template <class Put>
void put_counters(const audit::ClassTotals& t, Put&& put) {
  put("vmas", t.vmas);
  put("bytes", t.bytes);
  put("should_vmas", t.should_vmas);
  put("should_bytes", t.should_bytes);
  put("sealed_should_vmas", t.sealed_should_vmas);
  put("sealed_should_bytes", t.sealed_should_bytes);
  put("sealed_vmas", t.sealed_vmas);
  put("sealed_bytes", t.sealed_bytes);
  put("filter_sealed_vmas", t.filter_sealed_vmas);
  put("filter_sealed_bytes", t.filter_sealed_bytes);
  put("partial_vmas", t.partial_vmas);
  put("partial_bytes", t.partial_bytes);
  put("supervised_vmas", t.supervised_vmas);
  put("supervised_bytes", t.supervised_bytes);
  put("coverage_bytes_percent", percent_or_null(t.coverage_bytes()));
  put("coverage_vmas_percent", percent_or_null(t.coverage_vmas()));
}

// Into a json object.
auto into(json& j) {
  return [&j](std::string_view key, const auto& v) { j[std::string(key)] = v; };
}

json counters(const audit::ClassTotals& t) {
  json j = json::object();
  put_counters(t, into(j));
  return j;
}

json classes(const std::array<audit::ClassTotals, audit::kVmaClassCount>& by_class) {
  json j = json::object();
  for (std::size_t c = 0; c < audit::kVmaClassCount; ++c) {
    if (by_class[c].vmas) j[audit::to_string(static_cast<audit::VmaClass>(c))] = counters(by_class[c]);
  }
  return j;
}


json vma_json(const audit::VmaRecord& v, bool filters_read) {
  std::string perms{v.map.read ? 'r' : '-', v.map.write ? 'w' : '-', v.map.exec ? 'x' : '-', v.map.shared ? 's' : 'p'};
  json j{{"start", hex(v.map.range.begin)},
              {"end", hex(v.map.range.end)},
              {"perms", perms},
              {"offset", v.map.offset},
              {"inode", v.map.inode},
              {"path", v.path},
              {"class", audit::to_string(v.cls)},
              {"object", v.object},
              {"should_seal_bytes", v.should_seal_bytes},
              {"sealed", v.sealed},
              {"sealed_by",
               v.sealed_by == audit::SealedBy::kNone ? json(nullptr) : json(audit::to_string(v.sealed_by))},
              {"verdict", audit::to_string(v.verdict())}};
  if (filters_read && v.sealed_by != audit::SealedBy::kKernel) j["filter"] = audit::to_string(v.filter);
  if (v.sealed_by == audit::SealedBy::kFilter || v.filter_part_bytes != 0) {
    j["filter_action"] = audit::to_string(v.filter_action);
    j["discard_refused"] = v.filter_discard_refused;
  }
  if (v.filter_part_bytes != 0) {  // sealed in part: "sealed" stays false, these say how much
    j["sealed_part_bytes"] = v.filter_part_bytes;
    j["sealed_part_should_bytes"] = v.filter_part_should_bytes;
  }
  if (v.filter_supervised_bytes != 0) j["supervised_bytes"] = v.filter_supervised_bytes;
  return j;
}

json filters_json(const audit::FilterSummary& f) {
  json j{{"status", audit::to_string(f.status)}};
  if (!f.reason.empty()) j["reason"] = f.reason;
  if (f.status != audit::FilterSummary::Status::kRead && f.filters == 0) return j;
  j["count"] = f.filters;
  j["instructions"] = f.instructions;
  j["executed"] = f.executed;
  j["sealed_vmas"] = f.sealed_vmas;
  j["sealed_bytes"] = f.sealed_bytes;
  j["unknown_vmas"] = f.unknown_vmas;
  j["discard_refused_vmas"] = f.discard_refused_vmas;
  j["refuses_unmapped"] = f.refuses_unmapped;
  j["supervises_unmapped"] = f.supervises_unmapped;
  if (f.supervises_unmapped) {
    j["supervisor"] = f.supervisor;
    j["supervisor_pid"] = f.supervisor_pid;
  }
  j["abi"] = f.abi;
  j["mseal"] = audit::mseal_answer(f.mseal_ret);
  j["partial_vmas"] = f.partial_vmas;
  j["supervised_vmas"] = f.supervised_vmas;
  j["supervised_bytes"] = f.supervised_bytes;
  j["stopped_microseconds"] = f.stopped_seconds * 1e6;
  return j;
}

// What every audited process's line has (process_json and audited_line).
template <class Put>
void put_audited(const audit::ProcessAudit& p, Put&& put) {
  put_counters(p.total, put);
  std::size_t fully = 0;
  for (const audit::ObjectRecord& ob : p.objects) fully += ob.fully_sealed();
  put("objects", p.objects.size());
  put("objects_fully_sealed", fully);
  put("objects_unverified", p.objects_unverified);
  put("unsealed_classes", unsealed_classes(p.by_class));
  put("filters", filters_json(p.filters));
}

json process_json(const audit::ProcessAudit& p, ProcessState state, const RenderOptions& o) {
  json j{{"pid", p.pid}, {"comm", p.comm}, {"exe", p.exe}, {"status", audit::to_string(p.status)}, {"uid", p.uid}};
  if (!p.detail.empty() && p.status != audit::AuditStatus::kOk) j["detail"] = p.detail;
  if (p.status != audit::AuditStatus::kOk) return j;
  put_audited(p, into(j));
  j["secure_exec"] = p.secure_exec;
  j["state"] = to_string(state);
  if (o.by_class) j["classes"] = classes(p.by_class);
  if (o.vmas) {
    json objs = json::array();
    for (const audit::ObjectRecord& ob : p.objects)
      objs.push_back({{"path", ob.path},
                      {"inode", ob.inode},
                      {"start", hex(ob.span.begin)},
                      {"end", hex(ob.span.end)},
                      {"verified", ob.verified},
                      {"should_vmas", ob.should_vmas},
                      {"sealed_should_vmas", ob.sealed_should_vmas}});
    json vmas = json::array();
    const bool filters_read = p.filters.status == audit::FilterSummary::Status::kRead;
    for (const audit::VmaRecord& v : p.vmas) vmas.push_back(vma_json(v, filters_read));
    j["object_list"] = std::move(objs);
    j["vma_list"] = std::move(vmas);
  }
  return j;
}

std::string dumped(const json& j) { return json_text(j); }

// One process's line for the common case (audited, no --vmas, no
// --by-class) written without a json tree: building and destroying one per
// process was about a sixth of the audit's user-space instructions for 2000
// processes (bench/audit). The keys come out sorted, as a json object (a
// std::map) writes them, so the text is the same byte for byte.
class FlatObject {
 public:
  template <class T>
  void put(std::string_view key, const T& v) {
    if constexpr (std::is_integral_v<T> && !std::is_same_v<T, bool>) {
      char buf[24];
      const auto r = std::to_chars(buf, buf + sizeof buf, v);
      items_.emplace_back(key, std::string(buf, r.ptr));
    } else {
      items_.emplace_back(key, dumped(json(v)));
    }
  }
  std::string text() {
    std::sort(items_.begin(), items_.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
    std::string out = "{";
    for (const auto& [key, v] : items_) {
      if (out.size() > 1) out += ',';
      out += '"';
      out += key;  // plain identifiers: nothing to escape
      out += "\":";
      out += v;
    }
    return out + '}';
  }

 private:
  std::vector<std::pair<std::string_view, std::string>> items_;
};

std::string audited_line(const audit::ProcessAudit& p, ProcessState state) {
  FlatObject f;
  f.put("pid", p.pid);
  f.put("comm", p.comm);
  f.put("exe", p.exe);
  f.put("status", audit::to_string(p.status));
  f.put("uid", p.uid);
  f.put("secure_exec", p.secure_exec);
  f.put("state", to_string(state));
  put_audited(p, [&f](std::string_view key, const auto& v) { f.put(key, v); });
  return f.text();
}

}  // namespace

// Streamed: one compact line per process, each object freed once written
// (2000 processes as one JSON tree cost more than parsing their smaps).
void write_json(std::ostream& out, const MachineAudit& m, const RenderOptions& o) {
  json totals = counters(m.total);
  totals["processes"] = m.by_status[0];
  json states = json::object();
  for (std::size_t s = 0; s < kProcessStateCount; ++s) states[to_string(static_cast<ProcessState>(s))] = m.by_state[s];
  totals["states"] = std::move(states);
  totals["objects"] = m.objects;
  totals["objects_fully_sealed"] = m.objects_fully_sealed;
  totals["objects_unverified"] = m.objects_unverified;
  totals["unsealed_classes"] = unsealed_classes(m.by_class);
  totals["classes"] = classes(m.by_class);
  json filters = json::object();
  for (std::size_t s = 0; s < kFilterStatusCount; ++s)
    filters[audit::to_string(static_cast<audit::FilterSummary::Status>(s))] = m.by_filter_status[s];
  filters["instructions_executed"] = m.filter_instructions_executed;
  filters["unknown_vmas"] = m.filter_unknown_vmas;
  filters["refuse_mseal"] = m.filter_refuses_mseal;
  filters["max_stopped_microseconds"] = m.filter_stopped_seconds_max * 1e6;
  totals["filters"] = std::move(filters);
  json skipped = json::object();
  for (std::size_t s = 1; s < kStatusCount; ++s) skipped[audit::to_string(static_cast<audit::AuditStatus>(s))] = m.by_status[s];
  // The small objects pretty, indented one level.
  auto nested = [](const json& j) {
    std::string s = json_text(j, 2), r;
    for (char c : s) r += c == '\n' ? std::string("\n  ") : std::string(1, c);
    return r;
  };
  out << "{\n  \"schema\": " << kJsonSchema << ",\n  \"started_unix_seconds\": " << json(m.started_unix_seconds).dump()
      << ",\n  \"duration_seconds\": " << json(m.duration_seconds).dump() << ",\n  \"totals\": " << nested(totals)
      << ",\n  \"skipped\": " << nested(skipped) << ",\n  \"processes\": [";
  const char* sep = "\n    ";
  for (std::size_t i = 0; i < m.processes.size(); ++i) {
    const audit::ProcessAudit& p = m.processes[i];
    // comm and paths are any bytes a process chose: json_text writes them ASCII, invalid UTF-8 as U+FFFD.
    const bool flat = p.status == audit::AuditStatus::kOk && !o.by_class && !o.vmas;
    out << sep << (flat ? audited_line(p, m.states[i]) : dumped(process_json(p, m.states[i], o)));
    sep = ",\n    ";
  }
  out << (m.processes.empty() ? "]\n}\n" : "\n  ]\n}\n");
}

}  // namespace sealkit::cli::audit_report
