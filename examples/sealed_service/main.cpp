// sealed_service: a small line-protocol key-value server whose configuration
// and command dispatch table are frozen and sealed at start-up.
//
//   sealed_service --config FILE            serve on 127.0.0.1:<listen_port>
//   sealed_service --config FILE --stdin    answer the requests on stdin (one session)
//
// Requests are lines: PING, GET key, SET key value, STATS, SHUTDOWN, QUIT.
// It only ever listens on the loopback address: it is an example.
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <csignal>
#include <cstdio>
#include <cstring>
#include <string>

#include "service.hpp"

namespace {

using namespace sealkit::examples;

LogLevel g_log_level = LogLevel::kInfo;  // a copy, so that logging works before the config is parsed

void log(LogLevel level, const std::string& message) {
  if (level > g_log_level) return;
  static constexpr const char* kNames[] = {"error", "info", "debug"};
  std::fprintf(stderr, "sealed_service: %s: %s\n", kNames[static_cast<int>(level)], message.c_str());
}

bool write_all(int fd, std::string_view data) {
  while (!data.empty()) {
    ssize_t n = ::write(fd, data.data(), data.size());
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    data.remove_prefix(static_cast<std::size_t>(n));
  }
  return true;
}

// A configuration file of at most 64 KiB.
bool read_file(const char* path, std::string& out) {
  int fd = ::open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return false;
  char buf[4096];
  ssize_t n;
  while ((n = ::read(fd, buf, sizeof buf)) > 0 && out.size() < 65536) out.append(buf, static_cast<std::size_t>(n));
  int saved = errno;
  ::close(fd);
  errno = n < 0 ? saved : EFBIG;
  return n == 0;
}

// One session: read request lines from `in`, answer each on `out`, until
// QUIT, SHUTDOWN, end of input or a line longer than the configured limit.
void serve_session(int in, int out, const Tables& tables, ServiceState& state) {
  std::string pending;
  char buf[4096];
  for (;;) {
    std::size_t nl;
    while ((nl = pending.find('\n')) != std::string::npos) {
      std::string line = pending.substr(0, nl);
      pending.erase(0, nl + 1);
      if (!line.empty() && line.back() == '\r') line.pop_back();
      if (line.size() > tables.config->max_line_bytes) return void(write_all(out, "ERR line too long\n"));
      if (line == "QUIT") return void(write_all(out, "BYE\n"));
      log(LogLevel::kDebug, "request: " + line);
      if (!write_all(out, dispatch(line, tables, state) + "\n") || state.shutdown_requested) return;
    }
    if (pending.size() > tables.config->max_line_bytes) return void(write_all(out, "ERR line too long\n"));
    ssize_t n = ::read(in, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return;
    pending.append(buf, static_cast<std::size_t>(n));
  }
}

// Serves one client at a time on 127.0.0.1 until a SHUTDOWN request.
int serve_tcp(const Tables& tables, ServiceState& state) {
  int listener = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  int one = 1;
  ::setsockopt(listener, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = htons(tables.config->listen_port);
  socklen_t len = sizeof addr;
  if (listener < 0 || ::bind(listener, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
      ::listen(listener, 16) != 0 || ::getsockname(listener, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
    log(LogLevel::kError, std::string("cannot listen on 127.0.0.1: ") + std::strerror(errno));
    return 1;
  }
  // The port on stdout, so that a caller who asked for port 0 can connect.
  std::printf("listening on 127.0.0.1:%u\n", static_cast<unsigned>(ntohs(addr.sin_port)));
  std::fflush(stdout);
  while (!state.shutdown_requested) {
    int client = ::accept4(listener, nullptr, nullptr, SOCK_CLOEXEC);
    if (client < 0) {
      if (errno == EINTR || errno == ECONNABORTED) continue;
      log(LogLevel::kError, std::string("accept: ") + std::strerror(errno));
      return 1;
    }
    serve_session(client, client, tables, state);
    ::close(client);
  }
  ::close(listener);
  log(LogLevel::kInfo, "shut down after " + std::to_string(state.requests) + " requests");
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  const char* config_path = nullptr;
  bool use_stdin = false;
  for (int i = 1; i < argc; ++i) {
    if (std::strcmp(argv[i], "--config") == 0 && i + 1 < argc) config_path = argv[++i];
    else if (std::strcmp(argv[i], "--stdin") == 0) use_stdin = true;
    else config_path = nullptr, i = argc;
  }
  if (!config_path) {
    std::fprintf(stderr, "usage: sealed_service --config FILE [--stdin]\n");
    return 2;
  }
  std::string text;
  if (!read_file(config_path, text)) {
    log(LogLevel::kError, std::string("cannot read ") + config_path + ": " + std::strerror(errno));
    return 2;
  }
  std::string error;
  const auto tables = start_up(text, error);
  if (!tables) {
    log(LogLevel::kError, std::string(config_path) + ": " + error);
    return 2;
  }
  g_log_level = tables->config->log_level;
  // Where the sealed pages are, for the curious (and the end-to-end test); only at debug level, because a
  // service should not hand out its memory layout.
  char where[96];
  std::snprintf(where, sizeof where, "configuration at %p and dispatch table at %p sealed",
                static_cast<const void*>(tables->config), static_cast<const void*>(tables->table));
  log(LogLevel::kDebug, where);
  std::signal(SIGPIPE, SIG_IGN);  // a client that hangs up must not kill the service
  ServiceState state;
  if (use_stdin) {
    serve_session(STDIN_FILENO, STDOUT_FILENO, *tables, state);
    return 0;
  }
  return serve_tcp(*tables, state);
}
