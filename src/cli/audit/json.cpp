// `sealkit audit --json`: the schema is in docs/cli.md.
#include <algorithm>
#include <charconv>
#include <cstdio>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "cli/audit/report.hpp"
#include "cli/format.hpp"

namespace sealkit::cli::audit {

namespace {

using nlohmann::json;

json percent_or_null(std::optional<double> ratio) {
  auto p = percent(ratio);
  return p ? json(*p) : json(nullptr);
}

json counters(const core::ClassTotals& t) {
  return json{{"vmas", t.vmas},
              {"bytes", t.bytes},
              {"should_vmas", t.should_vmas},
              {"should_bytes", t.should_bytes},
              {"sealed_should_vmas", t.sealed_should_vmas},
              {"sealed_should_bytes", t.sealed_should_bytes},
              {"sealed_vmas", t.sealed_vmas},
              {"sealed_bytes", t.sealed_bytes},
              {"filter_sealed_vmas", t.filter_sealed_vmas},
              {"filter_sealed_bytes", t.filter_sealed_bytes},
              {"partial_vmas", t.partial_vmas},
              {"partial_bytes", t.partial_bytes},
              {"supervised_vmas", t.supervised_vmas},
              {"supervised_bytes", t.supervised_bytes},
              {"coverage_bytes_percent", percent_or_null(t.coverage_bytes())},
              {"coverage_vmas_percent", percent_or_null(t.coverage_vmas())}};
}

json classes(const std::array<core::ClassTotals, core::kVmaClassCount>& by_class) {
  json j = json::object();
  for (std::size_t c = 0; c < core::kVmaClassCount; ++c) {
    if (by_class[c].vmas) j[core::to_string(static_cast<core::VmaClass>(c))] = counters(by_class[c]);
  }
  return j;
}


json vma_json(const core::VmaRecord& v, bool filters_read) {
  std::string perms{v.map.read ? 'r' : '-', v.map.write ? 'w' : '-', v.map.exec ? 'x' : '-', v.map.shared ? 's' : 'p'};
  json j{{"start", hex(v.map.range.begin)},
              {"end", hex(v.map.range.end)},
              {"perms", perms},
              {"offset", v.map.offset},
              {"inode", v.map.inode},
              {"path", v.path},
              {"class", core::to_string(v.cls)},
              {"object", v.object},
              {"should_seal_bytes", v.should_seal_bytes},
              {"sealed", v.sealed},
              {"sealed_by", v.sealed_by == core::SealedBy::kNone ? json(nullptr) : json(core::to_string(v.sealed_by))},
              {"verdict", core::to_string(v.verdict())}};
  if (filters_read && v.sealed_by != core::SealedBy::kKernel) j["filter"] = core::to_string(v.filter);
  if (v.sealed_by == core::SealedBy::kFilter || v.filter_part_bytes != 0) {
    j["filter_action"] = core::to_string(v.filter_action);
    j["discard_refused"] = v.filter_discard_refused;
  }
  if (v.filter_part_bytes != 0) {  // sealed in part: "sealed" stays false, these say how much
    j["sealed_part_bytes"] = v.filter_part_bytes;
    j["sealed_part_should_bytes"] = v.filter_part_should_bytes;
  }
  if (v.filter_supervised_bytes != 0) j["supervised_bytes"] = v.filter_supervised_bytes;
  return j;
}

json filters_json(const core::FilterSummary& f) {
  json j{{"status", core::to_string(f.status)}};
  if (!f.reason.empty()) j["reason"] = f.reason;
  if (f.status != core::FilterSummary::Status::kRead && f.filters == 0) return j;
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
  j["partial_vmas"] = f.partial_vmas;
  j["supervised_vmas"] = f.supervised_vmas;
  j["supervised_bytes"] = f.supervised_bytes;
  j["stopped_microseconds"] = f.stopped_seconds * 1e6;
  return j;
}

json process_json(const core::ProcessAudit& p, const RenderOptions& o) {
  json j{{"pid", p.pid}, {"comm", p.comm}, {"exe", p.exe}, {"status", core::to_string(p.status)}};
  if (!p.detail.empty() && p.status != core::AuditStatus::kOk) j["detail"] = p.detail;
  if (p.status != core::AuditStatus::kOk) return j;
  j.update(counters(p.total));
  std::size_t fully = 0;
  for (const core::ObjectRecord& ob : p.objects) fully += ob.fully_sealed();
  j["objects"] = p.objects.size();
  j["objects_fully_sealed"] = fully;
  j["objects_unverified"] = p.objects_unverified;
  j["unsealed_classes"] = unsealed_classes(p.by_class);
  j["filters"] = filters_json(p.filters);
  if (o.by_class) j["classes"] = classes(p.by_class);
  if (o.vmas) {
    json objs = json::array();
    for (const core::ObjectRecord& ob : p.objects)
      objs.push_back({{"path", ob.path},
                      {"inode", ob.inode},
                      {"start", hex(ob.span.begin)},
                      {"end", hex(ob.span.end)},
                      {"verified", ob.verified},
                      {"should_vmas", ob.should_vmas},
                      {"sealed_should_vmas", ob.sealed_should_vmas}});
    json vmas = json::array();
    const bool filters_read = p.filters.status == core::FilterSummary::Status::kRead;
    for (const core::VmaRecord& v : p.vmas) vmas.push_back(vma_json(v, filters_read));
    j["object_list"] = std::move(objs);
    j["vma_list"] = std::move(vmas);
  }
  return j;
}

std::string dumped(const json& j) { return j.dump(-1, ' ', false, json::error_handler_t::replace); }

// One process's line for the common case (audited, no --vmas, no
// --by-class) written without a json tree: building and destroying one per
// process was about a sixth of the audit's user-space instructions for 2000
// processes (bench/audit). The keys come out sorted, as a json object (a
// std::map) writes them, so the text is the same byte for byte.
class FlatObject {
 public:
  void number(std::string_view key, std::uint64_t v) {
    char buf[24];
    const auto r = std::to_chars(buf, buf + sizeof buf, v);
    items_.emplace_back(key, std::string(buf, r.ptr));
  }
  void value(std::string_view key, const json& j) { items_.emplace_back(key, dumped(j)); }
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

std::string audited_line(const core::ProcessAudit& p) {
  FlatObject f;
  const core::ClassTotals& t = p.total;
  f.value("pid", p.pid);
  f.value("comm", p.comm);
  f.value("exe", p.exe);
  f.value("status", core::to_string(p.status));
  f.number("vmas", t.vmas);
  f.number("bytes", t.bytes);
  f.number("should_vmas", t.should_vmas);
  f.number("should_bytes", t.should_bytes);
  f.number("sealed_should_vmas", t.sealed_should_vmas);
  f.number("sealed_should_bytes", t.sealed_should_bytes);
  f.number("sealed_vmas", t.sealed_vmas);
  f.number("sealed_bytes", t.sealed_bytes);
  f.number("filter_sealed_vmas", t.filter_sealed_vmas);
  f.number("filter_sealed_bytes", t.filter_sealed_bytes);
  f.number("partial_vmas", t.partial_vmas);
  f.number("partial_bytes", t.partial_bytes);
  f.number("supervised_vmas", t.supervised_vmas);
  f.number("supervised_bytes", t.supervised_bytes);
  f.value("coverage_bytes_percent", percent_or_null(t.coverage_bytes()));
  f.value("coverage_vmas_percent", percent_or_null(t.coverage_vmas()));
  std::size_t fully = 0;
  for (const core::ObjectRecord& ob : p.objects) fully += ob.fully_sealed();
  f.number("objects", p.objects.size());
  f.number("objects_fully_sealed", fully);
  f.number("objects_unverified", p.objects_unverified);
  f.value("unsealed_classes", unsealed_classes(p.by_class));
  f.value("filters", filters_json(p.filters));
  return f.text();
}

}  // namespace

// Streamed: one compact line per process, each object freed once written
// (2000 processes as one JSON tree cost more than parsing their smaps).
void write_json(std::ostream& out, const MachineAudit& m, const RenderOptions& o) {
  json totals = counters(m.total);
  totals["processes"] = m.by_status[0];
  totals["objects"] = m.objects;
  totals["objects_fully_sealed"] = m.objects_fully_sealed;
  totals["objects_unverified"] = m.objects_unverified;
  totals["unsealed_classes"] = unsealed_classes(m.by_class);
  totals["classes"] = classes(m.by_class);
  json filters = json::object();
  for (std::size_t s = 0; s < kFilterStatusCount; ++s)
    filters[core::to_string(static_cast<core::FilterSummary::Status>(s))] = m.by_filter_status[s];
  filters["instructions_executed"] = m.filter_instructions_executed;
  filters["unknown_vmas"] = m.filter_unknown_vmas;
  filters["max_stopped_microseconds"] = m.filter_stopped_seconds_max * 1e6;
  totals["filters"] = std::move(filters);
  json skipped = json::object();
  for (std::size_t s = 1; s < kStatusCount; ++s) skipped[core::to_string(static_cast<core::AuditStatus>(s))] = m.by_status[s];
  // The small objects pretty, indented one level.
  auto nested = [](const json& j) {
    std::string s = j.dump(2, ' ', false, json::error_handler_t::replace), r;
    for (char c : s) r += c == '\n' ? std::string("\n  ") : std::string(1, c);
    return r;
  };
  out << "{\n  \"schema\": 1,\n  \"started_unix_seconds\": " << json(m.started_unix_seconds).dump()
      << ",\n  \"duration_seconds\": " << json(m.duration_seconds).dump() << ",\n  \"totals\": " << nested(totals)
      << ",\n  \"skipped\": " << nested(skipped) << ",\n  \"processes\": [";
  const char* sep = "\n    ";
  for (const core::ProcessAudit& p : m.processes) {
    // comm and paths are any bytes a process chose: invalid UTF-8 becomes U+FFFD.
    const bool flat = p.status == core::AuditStatus::kOk && !o.by_class && !o.vmas;
    out << sep << (flat ? audited_line(p) : dumped(process_json(p, o)));
    sep = ",\n    ";
  }
  out << (m.processes.empty() ? "]\n}\n" : "\n  ]\n}\n");
}

}  // namespace sealkit::cli::audit
