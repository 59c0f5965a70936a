// The fleet path end to end, on loopback, with Debian's own servers run as plain programs (no system service):
// node_exporter reading a temporary textfile directory, Prometheus scraping it every second and evaluating
// examples/prometheus/sealkit.rules.yml every second (each `for:` shortened to 1s: the test variant), and
// `sealkit audit --all --format prometheus --output` writing the file. The audited machine is a PID namespace
// (unshare --pid --mount-proc, so that --all sees only what the test started) in a private /etc
// (fleet/machine_wide_switch.hpp): a plain `sleep` starts there while machine-wide sealing is off, then it is
// switched on and the audit runs. SealkitUnsealedProcesses must fire for predates_enabling; once the sleep is
// killed and the file rewritten, it must resolve. Every query of examples/grafana/sealkit.json must answer with data.
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <functional>
#include <regex>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "fleet/machine_wide_switch.hpp"
#include "runtime/live_process.hpp"

namespace {

namespace fs = std::filesystem;
using nlohmann::json;
using Clock = std::chrono::steady_clock;

constexpr const char* kNodeExporter = "/usr/bin/prometheus-node-exporter";
constexpr const char* kPrometheus = "/usr/bin/prometheus";

// A port nothing listens on now (the kernel's pick for port 0); the server binds it a moment later.
unsigned free_port() {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof a;
  unsigned port = 0;
  if (::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0 &&
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len) == 0)
    port = ntohs(a.sin_port);
  ::close(fd);
  return port;
}

// GET over HTTP/1.0 (the server closes the connection after the body; no chunking). Status 0 when no answer.
struct Response {
  int status = 0;
  std::string body;
};
Response http_get(unsigned port, const std::string& target) {
  Response r;
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  a.sin_port = htons(static_cast<std::uint16_t>(port));
  if (::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) {
    ::close(fd);
    return r;
  }
  const std::string req = "GET " + target + " HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n";
  if (::write(fd, req.data(), req.size()) != static_cast<ssize_t>(req.size())) {
    ::close(fd);
    return r;
  }
  std::string text;
  char buf[8192];
  for (;;) {
    pollfd p{fd, POLLIN, 0};
    if (::poll(&p, 1, 5000) <= 0) break;  // a bound for a hung server, not a measurement
    const ssize_t n = ::read(fd, buf, sizeof buf);
    if (n <= 0) break;
    text.append(buf, static_cast<std::size_t>(n));
  }
  ::close(fd);
  const std::size_t head_end = text.find("\r\n\r\n");
  if (text.rfind("HTTP/", 0) != 0 || head_end == std::string::npos) return r;
  r.status = std::atoi(text.c_str() + text.find(' ') + 1);
  r.body = text.substr(head_end + 4);
  return r;
}

std::string url_encoded(const std::string& s) {
  std::string out;
  for (unsigned char c : s) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
      out += static_cast<char>(c);
    } else {
      char hex[4];
      std::snprintf(hex, sizeof hex, "%%%02X", c);
      out += hex;
    }
  }
  return out;
}

// A server run as a child, its output in a log file; stopped (SIGTERM, then SIGKILL) at the end.
struct Server {
  pid_t pid = -1;
  std::string log;
  Server() = default;
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;
  ~Server() {
    if (pid <= 0) return;
    ::kill(pid, SIGTERM);
    for (int i = 0; i < 100 && ::waitpid(pid, nullptr, WNOHANG) == 0; ++i)
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    if (::kill(pid, SIGKILL) == 0) ::waitpid(pid, nullptr, 0);
  }
  bool start(const std::vector<std::string>& argv, const std::string& log_path) {
    log = log_path;
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_addopen(&fa, 1, log_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    posix_spawn_file_actions_adddup2(&fa, 1, 2);
    std::vector<char*> a;
    for (const auto& s : argv) a.push_back(const_cast<char*>(s.c_str()));
    a.push_back(nullptr);
    const int rc = posix_spawn(&pid, a[0], &fa, nullptr, a.data(), environ);
    posix_spawn_file_actions_destroy(&fa);
    if (rc != 0) pid = -1;
    return rc == 0;
  }
  std::string output() const {
    std::ifstream in(log);
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
  }
};

// Polls `done` every 100 ms for at most `limit`; true when it said so.
bool wait_until(std::chrono::milliseconds limit, const std::function<bool()>& done) {
  const auto end = Clock::now() + limit;
  while (Clock::now() < end) {
    if (done()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  return done();
}

double seconds_since(Clock::time_point t) { return std::chrono::duration<double>(Clock::now() - t).count(); }

std::string read_text(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// Every "expr" anywhere in the dashboard, its variables replaced as Grafana would for "All".
void dashboard_queries(const json& j, std::vector<std::string>& out) {
  if (j.is_object()) {
    for (const auto& [key, value] : j.items()) {
      if (key == "expr" && value.is_string()) {
        out.push_back(std::regex_replace(value.get<std::string>(), std::regex("\\$instance"), ".*"));
      } else {
        dashboard_queries(value, out);
      }
    }
  } else if (j.is_array()) {
    for (const json& v : j) dashboard_queries(v, out);
  }
}

// The audited machine: a PID namespace whose init is this script. It starts a plain sleep with machine-wide
// sealing off, switches it on, audits, says "ready"; at a line on stdin it kills the sleep, audits again and says
// "audited"; it ends when stdin closes. The sleep has started (it waits in clock_nanosleep, 230 on x86-64) before
// the line is written. The script itself starts while sealing is on: the preload object seals it.
const char* const kWorld = R"(set -e
sealkit=$1 preload=$2 prom=$3
rm -f /etc/ld.so.preload
sleep 300 &
plain=$!
until read -r nr rest </proc/$plain/syscall && [ "$nr" = 230 ]; do :; done  # in clock_nanosleep: started
printf '%s\n' "$preload" >/etc/ld.so.preload
"$sealkit" audit --all --format prometheus --output "$prom"
echo ready
read -r line
kill "$plain"
wait "$plain" 2>/dev/null || true
"$sealkit" audit --all --format prometheus --output "$prom"
echo audited
read -r line || true
)";

class FleetPrometheus : public ::testing::Test {
 protected:
  void SetUp() override {
    if (::geteuid() != 0)
      GTEST_SKIP() << "needs root: machine-wide sealing is switched on in a private mount namespace";
    for (const char* p : {kNodeExporter, kPrometheus}) {
      if (::access(p, X_OK) != 0)
        GTEST_SKIP() << p << " is not installed (Debian's prometheus and prometheus-node-exporter; "
                     << "scripts/bootstrap installs them)";
    }
    std::string why;
    ASSERT_TRUE(sealkit::test::enter_machine_wide_switch(why)) << why;
    char tmpl[] = "/tmp/sealkit-fleet-XXXXXX";
    ASSERT_NE(::mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
    fs::create_directory(dir_ + "/textfile");
  }
  void TearDown() override {
    if (!dir_.empty()) fs::remove_all(dir_);
  }

  json api(const std::string& target) {
    const Response r = http_get(prometheus_port_, target);
    if (r.status != 200) return json{{"status", "http " + std::to_string(r.status)}, {"body", r.body}};
    return json::parse(r.body, nullptr, false);
  }
  json query(const std::string& expr) { return api("/api/v1/query?query=" + url_encoded(expr)); }
  // The SealkitUnsealedProcesses alerts Prometheus has now, as "state:labels.state" strings.
  std::vector<std::string> unsealed_alerts() {
    std::vector<std::string> out;
    const json a = api("/api/v1/alerts");
    if (!a.is_object() || a.value("status", "") != "success") return {"error: " + a.dump()};
    for (const json& x : a.at("data").at("alerts")) {
      if (x.at("labels").value("alertname", "") == "SealkitUnsealedProcesses")
        out.push_back(x.at("state").get<std::string>() + ":" + x.at("labels").value("state", ""));
    }
    return out;
  }

  std::string dir_;
  unsigned prometheus_port_ = 0;
};

TEST_F(FleetPrometheus, AnUnsealedProcessFiresTheAlertAndItsEndResolvesIt) {
  const auto t0 = Clock::now();
  // The rules with every `for:` at 1s: the shipped durations are minutes.
  const std::string rules = std::regex_replace(read_text(FLEET_RULES), std::regex("(\\n\\s+for: )\\S+"), "$011s");
  ASSERT_NE(rules.find("for: 1s"), std::string::npos);
  std::ofstream(dir_ + "/sealkit.rules.yml") << rules;

  const unsigned node_port = free_port();
  prometheus_port_ = free_port();
  ASSERT_NE(node_port, 0u);
  ASSERT_NE(prometheus_port_, 0u);
  std::ofstream(dir_ + "/prometheus.yml")
      << "global:\n  scrape_interval: 1s\n  evaluation_interval: 1s\nrule_files:\n  - " << dir_
      << "/sealkit.rules.yml\nscrape_configs:\n  - job_name: node\n    static_configs:\n      - targets: ['127.0.0.1:"
      << node_port << "']\n";

  Server node, prometheus;
  ASSERT_TRUE(node.start({kNodeExporter, "--web.listen-address=127.0.0.1:" + std::to_string(node_port),
                          "--collector.disable-defaults", "--collector.textfile",
                          "--collector.textfile.directory=" + dir_ + "/textfile"},
                         dir_ + "/node_exporter.log"));
  ASSERT_TRUE(prometheus.start({kPrometheus, "--config.file=" + dir_ + "/prometheus.yml",
                                "--storage.tsdb.path=" + dir_ + "/data",
                                "--web.listen-address=127.0.0.1:" + std::to_string(prometheus_port_),
                                "--log.level=warn"},
                               dir_ + "/prometheus.log"));
  ASSERT_TRUE(wait_until(std::chrono::seconds(20), [&] { return http_get(node_port, "/metrics").status == 200; }))
      << node.output();
  ASSERT_TRUE(wait_until(std::chrono::seconds(20), [&] { return http_get(prometheus_port_, "/-/ready").status == 200; }))
      << prometheus.output();
  const double servers_up = seconds_since(t0);

  // Sealing on (the world's script switches it off for the sleep and on again), then the world.
  std::string why;
  ASSERT_TRUE(sealkit::test::set_machine_wide(true, SEALKIT_PRELOAD, why)) << why;
  sealkit::test::Live world;
  const std::string prom = dir_ + "/textfile/sealkit.prom";
  ASSERT_TRUE(sealkit::test::start_live(world, {"unshare", "--pid", "--fork", "--mount-proc", "sh", "-c", kWorld,
                                                "sh", SEALKIT_BIN, SEALKIT_PRELOAD, prom},
                                        {}, why))
      << why;
  const std::string first = read_text(prom);
  ASSERT_NE(first.find("sealkit_machine_wide_enabled 1\n"), std::string::npos) << first;
  ASSERT_NE(first.find("sealkit_audit_process_state{state=\"predates_enabling\"} 1\n"), std::string::npos) << first;

  const auto t_written = Clock::now();
  std::vector<std::string> alerts;
  EXPECT_TRUE(wait_until(std::chrono::seconds(30), [&] {
    alerts = unsealed_alerts();
    return alerts == std::vector<std::string>{"firing:predates_enabling"};
  })) << "alerts: " << json(alerts).dump() << "\n" << prometheus.output();
  const double to_firing = seconds_since(t_written);

  // The staleness rule's selector matches the label this node_exporter gives the file.
  const json mtime = query("node_textfile_mtime_seconds{file=~\"(.*/)?sealkit[.]prom\"}");
  EXPECT_EQ(mtime.value("status", ""), "success") << mtime;
  EXPECT_EQ(mtime.at("data").at("result").size(), 1u) << mtime;
  // Every dashboard query is valid PromQL with data behind it.
  std::vector<std::string> queries;
  dashboard_queries(json::parse(read_text(FLEET_DASHBOARD)), queries);
  EXPECT_GE(queries.size(), 8u);
  for (const std::string& q : queries) {
    const json r = query(q);
    EXPECT_EQ(r.value("status", ""), "success") << q << "\n" << r;
    if (r.value("status", "") == "success") {
      EXPECT_FALSE(r.at("data").at("result").empty()) << q;
    }
  }

  // The sleep ends, the file is rewritten: the alert resolves.
  ASSERT_EQ(::write(world.stdin_w, "\n", 1), 1);
  char said[16] = {};
  ASSERT_GT(::read(world.stdout_r, said, sizeof said - 1), 0);
  ASSERT_STREQ(said, "audited\n");
  const std::string second = read_text(prom);
  ASSERT_NE(second.find("sealkit_audit_process_state{state=\"predates_enabling\"} 0\n"), std::string::npos) << second;
  const auto t_rewritten = Clock::now();
  EXPECT_TRUE(wait_until(std::chrono::seconds(20), [&] {
    alerts = unsealed_alerts();
    return alerts.empty();
  })) << "alerts: " << json(alerts).dump();
  const double to_resolved = seconds_since(t_rewritten);
  std::printf("servers ready after %.1f s; alert firing %.1f s after the file was written, resolved %.1f s after it "
              "was rewritten; %.1f s in all\n",
              servers_up, to_firing, to_resolved, seconds_since(t0));
}

}  // namespace
