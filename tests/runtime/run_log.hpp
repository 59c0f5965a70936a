// What a program run under sealkit leaves for a test to read: the runtime's
// SEALKIT_LOG lines (one JSON object per process) and the attack target's
// report (one "<attack> <result>" pair per line).
#pragma once

#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace sealkit::test {

inline std::vector<nlohmann::json> read_log_lines(const std::string& path) {
  std::vector<nlohmann::json> out;
  std::ifstream in(path);
  for (std::string line; std::getline(in, line);) out.push_back(nlohmann::json::parse(line));
  return out;
}

// A SEALKIT_LOG file of the test's own, removed with the object.
struct TempLog {
  std::string path;
  TempLog() {
    char tmpl[] = "/tmp/sealkit-test-log-XXXXXX";
    const int fd = mkstemp(tmpl);
    if (fd >= 0) close(fd);
    path = tmpl;
  }
  TempLog(const TempLog&) = delete;
  TempLog& operator=(const TempLog&) = delete;
  ~TempLog() { unlink(path.c_str()); }
  std::vector<nlohmann::json> lines() const { return read_log_lines(path); }
};

inline std::map<std::string, std::string> parse_report(const std::string& text) {
  std::map<std::string, std::string> m;
  std::istringstream in(text);
  std::string name, result;
  while (in >> name >> result) m[name] = result;
  return m;
}

}  // namespace sealkit::test
