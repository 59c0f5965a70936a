// sealed_service's start-up: parse the configuration, build the command
// dispatch table, then freeze both into sealed memory.
//
// Why seal them: a configuration and a table of function pointers built once
// at start-up are classic targets of data-only attacks. Overwrite a handler
// pointer and the next "PING" runs the attacker's code; add "SHUTDOWN" to the
// allowed list and a remote client may stop the service. Making the pages
// read-only is not enough against an attacker who can call mprotect, munmap,
// mremap or mmap(MAP_FIXED) inside the process (a ROP chain, a hijacked
// pointer): they make the page writable again, or map their own copy over
// it. Once sealed, every one of those calls fails with EPERM.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>

#include "config.hpp"
#include "sealkit/sealkit.hpp"

namespace sealkit::examples {

// What the service changes while it runs: ordinary, unsealed memory.
struct ServiceState {
  std::map<std::string, std::string, std::less<>> store;
  std::uint64_t requests = 0;
  bool shutdown_requested = false;
};

// A command's implementation: its arguments in, the reply line out.
using Handler = std::string (*)(std::string_view args, const Config& config, ServiceState& state);

struct DispatchEntry {
  Name name{};
  Handler handler = nullptr;
};

struct DispatchTable {
  std::size_t count = 0;
  std::array<DispatchEntry, kMaxCommands> entries{};

  const DispatchEntry* find(std::string_view command) const noexcept;
};

// Fills `table` with every command this service implements.
void register_commands(DispatchTable& table) noexcept;

// The start-up data, read-only for the life of the process once frozen.
struct Tables {
  const Config* config = nullptr;
  const DispatchTable* table = nullptr;
};

// Enough room for both tables (rounded up to whole pages by the arena).
inline constexpr std::size_t kArenaBytes = sizeof(Config) + sizeof(DispatchTable) + 64;

// Parses `config_text` and builds both tables inside `arena`, without
// freezing it. On error returns nullopt with a message in `error`.
std::optional<Tables> build_tables(WriteOnceArena& arena, std::string_view config_text, std::string& error);

// build_tables() in a fresh arena, then freeze(): read-only and sealed. The
// returned pointers stay valid until the process exits (a sealed arena is
// never unmapped).
std::optional<Tables> start_up(std::string_view config_text, std::string& error);

// Answers one request line ("GET color"): looks the command up in the table,
// checks the configuration allows it and calls its handler.
std::string dispatch(std::string_view line, const Tables& tables, ServiceState& state);

}  // namespace sealkit::examples
