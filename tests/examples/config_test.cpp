// sealed_service's configuration parser, table builder and dispatch, in
// process: what the attack and end-to-end tests rely on.
#include <gtest/gtest.h>

#include <string>

#include "service.hpp"

namespace sealkit::examples {
namespace {

TEST(SealedServiceConfig, ParsesEverySetting) {
  std::string error;
  auto c = parse_config(
      "# comment\n listen_port = 8080 \nlog_level=debug\r\nallowed_commands = PING , GET\nmax_line_bytes = 64\n"
      "max_keys = 3\n\n",
      error);
  ASSERT_TRUE(c) << error;
  EXPECT_EQ(c->listen_port, 8080);
  EXPECT_EQ(c->log_level, LogLevel::kDebug);
  EXPECT_EQ(c->max_line_bytes, 64u);
  EXPECT_EQ(c->max_keys, 3u);
  ASSERT_EQ(c->allowed_count, 2u);
  EXPECT_TRUE(c->allows("PING"));
  EXPECT_TRUE(c->allows("GET"));
  EXPECT_FALSE(c->allows("SET"));
  EXPECT_FALSE(c->allows("PIN"));
}

TEST(SealedServiceConfig, RejectsBadLinesNamingTheLine) {
  const std::pair<const char*, const char*> cases[] = {
      {"listen_port = 1\nbogus = 2\n", "line 2: unknown setting 'bogus'"},
      {"listen_port = 65536\n", "line 1: listen_port must be 0..65535"},
      {"listen_port = 12x\n", "line 1: listen_port must be 0..65535"},
      {"listen_port = -1\n", "line 1: listen_port must be 0..65535"},
      {"log_level = loud\n", "line 1: log_level must be error, info or debug"},
      {"max_line_bytes = 8\n", "line 1: max_line_bytes must be 16..65536"},
      {"max_keys = 0\n", "line 1: max_keys must be 1..100000"},
      {"just words\n", "line 1: expected key = value"},
      {"allowed_commands = PING, PING\n", "line 1: command 'PING' listed twice"},
      {"allowed_commands = PING,,GET\n", "line 1: empty command name"},
      {"allowed_commands = ABCDEFGHIJKLMNOP\n", "line 1: command name 'ABCDEFGHIJKLMNOP' too long"},
  };
  for (const auto& [text, message] : cases) {
    std::string error;
    EXPECT_FALSE(parse_config(text, error)) << text;
    EXPECT_EQ(error, message) << text;
  }
}

TEST(SealedServiceConfig, RejectsMoreCommandsThanFit) {
  std::string list = "allowed_commands = C0";
  for (std::size_t i = 1; i <= kMaxCommands; ++i) list += ", C" + std::to_string(i);
  std::string error;
  EXPECT_FALSE(parse_config(list, error));
  EXPECT_EQ(error, "line 1: more than " + std::to_string(kMaxCommands) + " commands");
}

TEST(SealedServiceTables, RejectUnknownAllowedCommand) {
  std::string error;
  EXPECT_FALSE(start_up("allowed_commands = PING, FETCH\n", error));
  EXPECT_EQ(error, "allowed_commands: unknown command 'FETCH'");
}

TEST(SealedServiceTables, StartUpFreezesIntoSealedMemory) {
  if (std::string_view(sealkit_backend()) == "none") GTEST_SKIP() << "this kernel cannot seal (no mseal)";
  std::string error;
  auto tables = start_up("allowed_commands = PING\n", error);
  ASSERT_TRUE(tables) << error;
  auto config_sealed = is_sealed(tables->config, sizeof(Config));
  auto table_sealed = is_sealed(tables->table, sizeof(DispatchTable));
  ASSERT_TRUE(config_sealed.has_value() && table_sealed.has_value());
  EXPECT_TRUE(config_sealed.value());
  EXPECT_TRUE(table_sealed.value());
}

TEST(SealedServiceDispatch, AnswersAllowedCommandsAndRefusesOthers) {
  auto arena = WriteOnceArena::create(kArenaBytes);
  ASSERT_TRUE(arena);
  std::string error;
  auto tables = build_tables(*arena, "allowed_commands = PING, GET, SET, STATS\nmax_keys = 1\n", error);
  ASSERT_TRUE(tables) << error;
  ServiceState state;
  EXPECT_EQ(dispatch("PING", *tables, state), "PONG");
  EXPECT_EQ(dispatch("GET color", *tables, state), "ERR no such key");
  EXPECT_EQ(dispatch("SET color dark blue", *tables, state), "OK");
  EXPECT_EQ(dispatch("GET color", *tables, state), "VALUE dark blue");
  EXPECT_EQ(dispatch("SET size 3", *tables, state), "ERR too many keys");
  EXPECT_EQ(dispatch("SET color", *tables, state), "ERR usage: SET key value");
  EXPECT_EQ(dispatch("SHUTDOWN", *tables, state), "ERR not allowed: SHUTDOWN");
  EXPECT_FALSE(state.shutdown_requested);
  EXPECT_EQ(dispatch("DELETE color", *tables, state), "ERR unknown command");
  EXPECT_EQ(dispatch("ping", *tables, state), "ERR unknown command");
  // Not frozen here, so the configuration is not sealed, and STATS says so.
  EXPECT_EQ(dispatch("STATS", *tables, state), "requests=10 keys=1 config_sealed=no");
}

}  // namespace
}  // namespace sealkit::examples
