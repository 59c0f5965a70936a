// The commands of sealed_service's line protocol.
#include <string>

#include "service.hpp"

namespace sealkit::examples {
namespace {

std::string ping(std::string_view, const Config&, ServiceState&) { return "PONG"; }

std::string get(std::string_view key, const Config&, ServiceState& state) {
  auto it = state.store.find(key);
  return it == state.store.end() ? "ERR no such key" : "VALUE " + it->second;
}

// "SET key value": the value is the rest of the line.
std::string set(std::string_view args, const Config& config, ServiceState& state) {
  const std::size_t space = args.find(' ');
  if (space == 0 || space == std::string_view::npos) return "ERR usage: SET key value";
  const std::string_view key = args.substr(0, space);
  auto it = state.store.find(key);
  if (it == state.store.end()) {
    if (state.store.size() >= config.max_keys) return "ERR too many keys";
    it = state.store.emplace(std::string(key), std::string()).first;
  }
  it->second = args.substr(space + 1);
  return "OK";
}

// Reports, among the counters, whether the configuration really is sealed,
// asked of the kernel now rather than remembered from start-up.
std::string stats(std::string_view, const Config& config, ServiceState& state) {
  auto sealed = sealkit::is_sealed(&config, sizeof config);
  return "requests=" + std::to_string(state.requests) + " keys=" + std::to_string(state.store.size()) +
         " config_sealed=" + (sealed.has_value() && sealed.value() ? "yes" : "no");
}

// An administrative command: only a configuration that lists it enables it.
std::string shutdown(std::string_view, const Config&, ServiceState& state) {
  state.shutdown_requested = true;
  return "BYE";
}

}  // namespace

void register_commands(DispatchTable& table) noexcept {
  const struct {
    const char* name;
    Handler handler;
  } commands[] = {{"PING", ping}, {"GET", get}, {"SET", set}, {"STATS", stats}, {"SHUTDOWN", shutdown}};
  static_assert(std::size(commands) <= kMaxCommands);
  table.count = 0;
  for (const auto& c : commands) {
    to_name(c.name, table.entries[table.count].name);
    table.entries[table.count++].handler = c.handler;
  }
}

}  // namespace sealkit::examples
