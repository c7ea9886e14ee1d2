// [load_balance], [failover] and proxy.read_only_listen: the defaults, the other spellings of
// each value, every bad value as the line a user sees, and the rules between keys (command
// mode needs a command, read_only_listen apart from listen, the failover password pair, files
// relative to the config). Every key set at once is in config_load_test.cpp.
#include <gtest/gtest.h>

#include "conf/config.hpp"
#include "conf_test_support.hpp"

namespace pgr::conf {
namespace {

using namespace std::chrono_literals;
using test::errors_of;
using test::k_minimal;
using test::TempDir;

// `text` followed by the one backend that makes it a valid file; line 1 is text's first line.
std::string with_backend(std::string_view text) {
  std::string out(text);
  out.append(k_minimal);
  return out;
}

std::shared_ptr<const Config> load(std::string_view text, const std::string& base_dir = "") {
  const auto result = load_config_text(with_backend(text), "t.toml", base_dir);
  EXPECT_NE(result.config, nullptr) << ::testing::PrintToString(test::error_lines(result));
  return result.config;
}

TEST(BalanceFailoverConfig, Defaults) {
  const auto c = load("");
  ASSERT_NE(c, nullptr);
  EXPECT_TRUE(c->proxy.read_only_listen.empty());

  const LoadBalanceConfig& lb = c->load_balance;
  EXPECT_TRUE(lb.enabled);
  EXPECT_EQ(lb.mode, LoadBalanceMode::statement);
  EXPECT_TRUE(lb.primary_reads);
  EXPECT_EQ(lb.max_lag, std::nullopt);
  EXPECT_EQ(lb.max_lag_bytes, std::nullopt);
  EXPECT_TRUE(lb.read_your_writes);
  EXPECT_EQ(lb.transaction_reads, TransactionReads::until_write);
  EXPECT_TRUE(lb.write_functions.empty());

  const FailoverConfig& f = c->failover;
  EXPECT_EQ(f.mode, FailoverMode::builtin);
  EXPECT_EQ(f.failover_command, "");
  EXPECT_EQ(f.follow_primary_command, "");
  EXPECT_EQ(f.rewind_command, "");
  EXPECT_EQ(f.command_timeout, 60s);
  EXPECT_EQ(f.wait_timeout, 30s);
  EXPECT_EQ(f.search_primary_timeout, 5min);
  EXPECT_EQ(f.max_lag_on_failover, std::nullopt);
  EXPECT_FALSE(f.auto_failback);
  EXPECT_EQ(f.state_file, std::nullopt);
  EXPECT_EQ(f.user, std::nullopt);      // health_check.user is used
  EXPECT_EQ(f.password, std::nullopt);  // health_check's password is used
}

TEST(BalanceFailoverConfig, OtherSpellings) {
  const auto c = load(
      "[proxy]\n"
      "listen = [\"0.0.0.0:6432\"]\n"
      "read_only_listen = [\"localhost:6433\"]\n"
      "[load_balance]\n"
      "mode = \"statement\"\n"
      "max_lag = \"250ms\"\n"
      "max_lag_bytes = 1\n"
      "transaction_reads = \"until_write\"\n"
      "write_functions = []\n"
      "[failover]\n"
      "mode = \"manual\"\n"
      "max_lag_on_failover = \"0B\"\n"
      "command_timeout = \"1ms\"\n"
      "search_primary_timeout = \"24h\"\n"
      "state_file = \"/var/lib/pgrouter/state\"\n");
  ASSERT_NE(c, nullptr);
  EXPECT_EQ(c->proxy.read_only_listen, (std::vector<ListenAddress>{{"localhost", 6433}}));
  EXPECT_EQ(c->load_balance.mode, LoadBalanceMode::statement);
  EXPECT_EQ(c->load_balance.max_lag, 250ms);
  EXPECT_EQ(c->load_balance.max_lag_bytes, 1U);
  EXPECT_EQ(c->load_balance.transaction_reads, TransactionReads::until_write);
  EXPECT_TRUE(c->load_balance.write_functions.empty());
  EXPECT_EQ(c->failover.mode, FailoverMode::manual);
  EXPECT_EQ(c->failover.max_lag_on_failover, 0U);  // only a standby with everything
  EXPECT_EQ(c->failover.command_timeout, 1ms);
  EXPECT_EQ(c->failover.search_primary_timeout, 24h);
  EXPECT_EQ(c->failover.state_file, "/var/lib/pgrouter/state");

  const auto builtin = load("[failover]\nmode = \"builtin\"\n");
  ASSERT_NE(builtin, nullptr);
  EXPECT_EQ(builtin->failover.mode, FailoverMode::builtin);
  // A name of 63 bytes is PostgreSQL's longest.
  const auto longest = load("[load_balance]\nwrite_functions = [\"" + std::string(63, 'f') + "." +
                            std::string(63, 's') + "\"]\n");
  ASSERT_NE(longest, nullptr);
  EXPECT_EQ(longest->load_balance.write_functions.at(0).size(), 127U);
}

TEST(PoolConfig, DefaultsAreSessionPoolingWithoutALimit) {
  const auto c = load("");
  ASSERT_NE(c, nullptr);
  EXPECT_EQ(c->pool.mode, PoolMode::session);
  EXPECT_EQ(c->pool.max_backend_connections, 0);
  EXPECT_EQ(c->pool.min_idle, 0);
  EXPECT_EQ(c->pool.idle_timeout, 10min);
  EXPECT_EQ(c->pool.max_lifetime, 1h);
  EXPECT_FALSE(c->pool.connect_timeout);
  EXPECT_EQ(c->pool.query_wait_timeout, 120s);
  EXPECT_EQ(c->pool.server_reset_query, "DISCARD ALL");
  EXPECT_EQ(c->pool.max_prepared_statements, 100);
}

TEST(PoolConfig, EveryKey) {
  const auto c = load(
      "[pool]\n"
      "mode = \"transaction\"\n"
      "max_backend_connections = 10\n"
      "min_idle = 2\n"
      "idle_timeout = \"30s\"\n"
      "max_lifetime = \"5m\"\n"
      "connect_timeout = \"2s\"\n"
      "query_wait_timeout = \"1s\"\n"
      "server_reset_query = \"\"\n"
      "max_prepared_statements = 7\n");
  ASSERT_NE(c, nullptr);
  EXPECT_EQ(c->pool.mode, PoolMode::transaction);
  EXPECT_EQ(c->pool.max_backend_connections, 10);
  EXPECT_EQ(c->pool.min_idle, 2);
  EXPECT_EQ(c->pool.idle_timeout, 30s);
  EXPECT_EQ(c->pool.max_lifetime, 5min);
  EXPECT_EQ(c->pool.connect_timeout, 2s);
  EXPECT_EQ(c->pool.query_wait_timeout, 1s);
  EXPECT_EQ(c->pool.server_reset_query, "");
  EXPECT_EQ(c->pool.max_prepared_statements, 7);
  EXPECT_EQ(to_string(PoolMode::none), "none");
  EXPECT_EQ(to_string(PoolMode::session), "session");
  EXPECT_EQ(to_string(PoolMode::transaction), "transaction");
}

TEST(BalanceFailoverConfig, EnumSpellingsMatchToml) {
  EXPECT_EQ(to_string(LoadBalanceMode::statement), "statement");
  EXPECT_EQ(to_string(LoadBalanceMode::session), "session");
  EXPECT_EQ(to_string(TransactionReads::until_write), "until_write");
  EXPECT_EQ(to_string(TransactionReads::primary), "primary");
  EXPECT_EQ(to_string(FailoverMode::builtin), "builtin");
  EXPECT_EQ(to_string(FailoverMode::command), "command");
  EXPECT_EQ(to_string(FailoverMode::manual), "manual");
}

struct Case {
  const char* name;
  std::string toml;  // a backend is appended; line 1 is the first line
  std::vector<std::string> errors;
};

const std::vector<Case>& error_cases() {
  static const std::vector<Case> cases{
      // [pool]
      {"pool mode",
       "[pool]\nmode = \"statement\"\n",
       {"t.toml:2: pool.mode: unknown value \"statement\"; expected one of: none, session, transaction"}},
      {"pool sizes out of range",
       "[pool]\nmax_backend_connections = -1\nmax_prepared_statements = 0\n",
       {"t.toml:2: pool.max_backend_connections: must be between 0 and 100000 (got -1)",
        "t.toml:3: pool.max_prepared_statements: must be between 1 and 100000 (got 0)"}},
      {"pool unknown key",
       "[pool]\nmax_connections = 10\n",
       {"t.toml:2: pool.max_connections: unknown key"}},
      // [load_balance]
      {"enabled not a boolean",
       "[load_balance]\nenabled = 1\n",
       {"t.toml:2: load_balance.enabled: expected a boolean (true or false)"}},
      {"boolean as a string",
       "[load_balance]\nprimary_reads = \"true\"\nread_your_writes = 0\n",
       {"t.toml:2: load_balance.primary_reads: expected a boolean (true or false)",
        "t.toml:3: load_balance.read_your_writes: expected a boolean (true or false)"}},
      {"balance mode",
       "[load_balance]\nmode = \"transaction\"\n",
       {"t.toml:2: load_balance.mode: unknown value \"transaction\"; expected one of: statement, "
        "session"}},
      {"max_lag bare number",
       "[load_balance]\nmax_lag = 5\n",
       {"t.toml:2: load_balance.max_lag: expected a duration string like \"5s\" (a bare number "
        "has no unit)"}},
      {"max_lag zero",
       "[load_balance]\nmax_lag = \"0s\"\n",
       {"t.toml:2: load_balance.max_lag: must be greater than 0 (leave the key out for no "
        "limit)"}},
      {"max_lag negative",
       "[load_balance]\nmax_lag = \"-1s\"\n",
       {"t.toml:2: load_balance.max_lag: invalid duration \"-1s\": expected a number and a unit "
        "(ms, s, m, h), e.g. \"2s\""}},
      {"max_lag huge",
       "[load_balance]\nmax_lag = \"25h\"\n",
       {"t.toml:2: load_balance.max_lag: must be at most 24h"}},
      {"max_lag_bytes zero",
       "[load_balance]\nmax_lag_bytes = 0\n",
       {"t.toml:2: load_balance.max_lag_bytes: must be greater than 0 (leave the key out for no "
        "limit)"}},
      {"max_lag_bytes zero with unit",
       "[load_balance]\nmax_lag_bytes = \"0MB\"\n",
       {"t.toml:2: load_balance.max_lag_bytes: must be greater than 0 (leave the key out for no "
        "limit)"}},
      {"max_lag_bytes negative",
       "[load_balance]\nmax_lag_bytes = -1\n",
       {"t.toml:2: load_balance.max_lag_bytes: must not be negative"}},
      {"max_lag_bytes bad unit",
       "[load_balance]\nmax_lag_bytes = \"16 MB\"\n",
       {"t.toml:2: load_balance.max_lag_bytes: invalid size \"16 MB\": expected a whole number "
        "and a unit (B, kB, MB, GB, TB), e.g. \"64MB\""}},
      {"max_lag_bytes float",
       "[load_balance]\nmax_lag_bytes = 1.5\n",
       {"t.toml:2: load_balance.max_lag_bytes: expected a size: an integer number of bytes or a "
        "string like \"64MB\""}},
      {"transaction_reads",
       "[load_balance]\ntransaction_reads = \"until-write\"\n",
       {"t.toml:2: load_balance.transaction_reads: unknown value \"until-write\"; expected one "
        "of: until_write, primary"}},
      {"write_functions not an array",
       "[load_balance]\nwrite_functions = \"nextval\"\n",
       {"t.toml:2: load_balance.write_functions: expected an array of strings"}},
      {"write_functions element type",
       "[load_balance]\nwrite_functions = [\"ok\", 3]\n",
       {"t.toml:2: load_balance.write_functions[1]: expected a string"}},
      {"write_functions each on its line",
       "[load_balance]\nwrite_functions = [\n  \"ok\",\n  \"my func\",\n  \"\",\n]\n",
       {"t.toml:4: load_balance.write_functions[1]: invalid function name \"my func\": expected "
        "name or schema.name, each part a letter or _ then letters, digits, _ or $ (at most "
        "63)",
        "t.toml:5: load_balance.write_functions[2]: must not be empty"}},

      // [failover]
      {"failover mode",
       "[failover]\nmode = \"auto\"\n",
       {"t.toml:2: failover.mode: unknown value \"auto\"; expected one of: builtin, command, "
        "manual"}},
      {"command types",
       "[failover]\nfailover_command = 1\nfollow_primary_command = [\"x\"]\n"
       "rewind_command = \"a\\u0000b\"\n",
       {"t.toml:2: failover.failover_command: expected a string",
        "t.toml:3: failover.follow_primary_command: expected a string",
        "t.toml:4: failover.rewind_command: must not contain a NUL character"}},
      {"zero timeouts",
       "[failover]\ncommand_timeout = \"0s\"\nwait_timeout = \"0ms\"\n"
       "search_primary_timeout = \"0m\"\n",
       {"t.toml:2: failover.command_timeout: must be greater than 0",
        "t.toml:3: failover.wait_timeout: must be greater than 0",
        "t.toml:4: failover.search_primary_timeout: must be greater than 0"}},
      {"timeout spellings",
       "[failover]\nwait_timeout = 30\nsearch_primary_timeout = \"1d\"\n"
       "command_timeout = \"48h\"\n",
       {"t.toml:2: failover.wait_timeout: expected a duration string like \"30s\" (a bare number "
        "has no unit)",
        "t.toml:3: failover.search_primary_timeout: invalid duration \"1d\": expected a number "
        "and a unit (ms, s, m, h), e.g. \"2s\"",
        "t.toml:4: failover.command_timeout: must be at most 24h"}},
      {"max_lag_on_failover",
       "[failover]\nmax_lag_on_failover = -5\n",
       {"t.toml:2: failover.max_lag_on_failover: must not be negative"}},
      {"max_lag_on_failover unit",
       "[failover]\nmax_lag_on_failover = \"1mb\"\n",
       {"t.toml:2: failover.max_lag_on_failover: invalid size \"1mb\": expected a whole number "
        "and a unit (B, kB, MB, GB, TB), e.g. \"64MB\""}},
      {"auto_failback",
       "[failover]\nauto_failback = \"false\"\n",
       {"t.toml:2: failover.auto_failback: expected a boolean (true or false)"}},
      {"state_file",
       "[failover]\nstate_file = \"\"\n",
       {"t.toml:2: failover.state_file: must not be empty"}},
      {"state_file type",
       "[failover]\nstate_file = 1\n",
       {"t.toml:2: failover.state_file: expected a string"}},
      {"failover user",
       "[failover]\nuser = \"\"\npassword = 1\n",
       {"t.toml:2: failover.user: must not be empty",
        "t.toml:3: failover.password: expected a string"}},
      {"misspelt failover key",
       "[failover]\nmodes = \"manual\"\n",
       {"t.toml:2: failover.modes: unknown key (did you mean \"mode\"?)"}},
      {"misspelt failover table",
       "[failovers]\nmode = \"manual\"\n",
       {"t.toml:1: failovers: unknown table (did you mean [failover]?)"}},
      {"failover key at the top",
       "state_file = \"s\"\n",
       {"t.toml:1: state_file: unknown key (did you mean state_file under [failover]?)"}},
      {"load_balance not a table",
       "load_balance = true\n",
       {"t.toml:1: load_balance: expected a table ([load_balance])"}},

      // Rules between keys.
      {"command mode without a command",
       "[failover]\nmode = \"command\"\n",
       {"t.toml:2: failover.failover_command: is required when failover.mode is \"command\""}},
      {"command mode with an empty command",
       "[failover]\nmode = \"command\"\nfailover_command = \"\"\n",
       {"t.toml:3: failover.failover_command: must not be empty when failover.mode is "
        "\"command\""}},
      {"command mode with a refused command: one error",
       "[failover]\nmode = \"command\"\nfailover_command = 5\n",
       {"t.toml:3: failover.failover_command: expected a string"}},
      {"both failover passwords",
       "[failover]\npassword = \"p\"\npassword_file = \"/dev/null\"\n",
       {"t.toml:3: failover.password_file: cannot read \"/dev/null\": not a regular file",
        "t.toml:3: failover.password_file: set either password or password_file, not both"}},

      // proxy.read_only_listen: listen's checks, but it may be empty.
      {"read_only_listen not an array",
       "[proxy]\nread_only_listen = \"127.0.0.1:1\"\n",
       {"t.toml:2: proxy.read_only_listen: expected an array of strings, e.g. "
        "[\"127.0.0.1:5432\"]"}},
      {"read_only_listen bad addresses",
       "[proxy]\nread_only_listen = [\"127.0.0.1\",\n  \"db:1\", \"[::1]:0\", 7]\n",
       {"t.toml:2: proxy.read_only_listen[0]: expected \"host:port\", got \"127.0.0.1\"",
        "t.toml:3: proxy.read_only_listen[1]: the host must be a numeric address or localhost, "
        "got \"db\"",
        "t.toml:3: proxy.read_only_listen[2]: the port must be 1..65535, got \"0\"",
        "t.toml:3: proxy.read_only_listen[3]: expected a string"}},
      {"read_only_listen duplicate",
       "[proxy]\nread_only_listen = [\"127.0.0.1:7000\", \"127.0.0.1:7000\"]\n",
       {"t.toml:2: proxy.read_only_listen[1]: duplicate address \"127.0.0.1:7000\""}},
      {"read_only_listen on the default listen",
       "[proxy]\nread_only_listen = [\"127.0.0.1:5432\"]\n",
       {"t.toml:2: proxy.read_only_listen[0]: also in proxy.listen[0]: an address takes one kind "
        "of session"}},
      {"read_only_listen on a given listen",
       "[proxy]\nlisten = [\"127.0.0.1:1\", \"[::1]:2\"]\n"
       "read_only_listen = [\"127.0.0.1:3\",\n  \"[::1]:2\"]\n",
       {"t.toml:4: proxy.read_only_listen[1]: also in proxy.listen[1]: an address takes one kind "
        "of session"}},
      {"refused listen is not compared",
       "[proxy]\nlisten = [\"bad\"]\nread_only_listen = [\"127.0.0.1:5432\"]\n",
       {"t.toml:2: proxy.listen[0]: expected \"host:port\", got \"bad\""}},
      {"listen still needs one",
       "[proxy]\nlisten = []\nread_only_listen = [\"127.0.0.1:1\"]\n",
       {"t.toml:2: proxy.listen: at least one address is required"}},
  };
  return cases;
}

TEST(BalanceFailoverConfig, EveryBadValue) {
  for (const auto& c : error_cases()) {
    SCOPED_TRACE(c.name);
    EXPECT_EQ(errors_of(with_backend(c.toml)), c.errors);
  }
}

TEST(BalanceFailoverConfig, FunctionNamesRefused) {
  const char* const names[] = {
      "1abc", "$x", "f()", "schema.", ".name", "a.b.c", "a..b", "a-b", "a b",
      "caf\xc3\xa9",  // non-ASCII letters: not supported
      "\"Quoted\"",   // quoted identifiers: not supported
      "a\nb",
  };
  for (const char* name : names) {
    SCOPED_TRACE(name);
    std::string toml("[load_balance]\nwrite_functions = [\"");
    for (const char* p = name; *p != '\0'; ++p) {  // as a TOML basic string
      if (*p == '"') {
        toml += "\\\"";
      } else if (*p == '\n') {
        toml += "\\n";
      } else {
        toml += *p;
      }
    }
    toml += "\"]\n";
    const auto errors = errors_of(with_backend(toml));
    ASSERT_EQ(errors.size(), 1U);
    EXPECT_TRUE(errors[0].starts_with(
        "t.toml:2: load_balance.write_functions[0]: invalid function name \""))
        << errors[0];
  }
  const auto too_long = errors_of(
      with_backend("[load_balance]\nwrite_functions = [\"" + std::string(64, 'f') + "\"]\n"));
  ASSERT_EQ(too_long.size(), 1U);
  EXPECT_NE(too_long[0].find("invalid function name"), std::string::npos);
}

TEST(BalanceFailoverConfig, CommandModeWithACommandLoads) {
  const auto c = load("[failover]\nmode = \"command\"\nfailover_command = \"promote %H\"\n");
  ASSERT_NE(c, nullptr);
  EXPECT_EQ(c->failover.mode, FailoverMode::command);
  EXPECT_EQ(c->failover.failover_command, "promote %H");
}

TEST(BalanceFailoverConfig, FailoverFilesRelativeToConfigDirectory) {
  const TempDir dir;
  dir.write("etc/secrets/failover_pw", "fo-pw\r\n");
  const auto path = dir.write("etc/pgrouter.toml", with_backend("[failover]\n"
                                                                "state_file = \"../run/state\"\n"
                                                                "password_file = \"secrets/"
                                                                "failover_pw\"\n"));
  const auto result = load_config_file(path);
  ASSERT_NE(result.config, nullptr) << ::testing::PrintToString(test::error_lines(result));
  EXPECT_EQ(result.config->failover.state_file, dir.path("run/state"));  // need not exist
  EXPECT_EQ(result.config->failover.password, "fo-pw");
  EXPECT_EQ(result.config->failover.user, std::nullopt);

  // load_config_text resolves against the directory it is given, as for auth_file.
  const auto text = load("[failover]\nstate_file = \"pgrouter.state\"\n", dir.path());
  ASSERT_NE(text, nullptr);
  EXPECT_EQ(text->failover.state_file, dir.path("pgrouter.state"));
}

TEST(BalanceFailoverConfig, FailoverPasswordFileProblems) {
  const TempDir dir;
  dir.write("empty_pw", "\n");
  const auto errors = errors_of(with_backend("[failover]\npassword_file = \"missing\"\n"
                                             "[health_check]\npassword_file = \"empty_pw\"\n"),
                                dir.path());
  const std::vector<std::string> expected{
      "t.toml:2: failover.password_file: cannot read \"" + dir.path("missing") +
          "\": No such file or directory",
      "t.toml:4: health_check.password_file: \"" + dir.path("empty_pw") + "\" is empty",
  };
  EXPECT_EQ(errors, expected);
}

TEST(BalanceFailoverConfig, FailoverSecretsNeverInErrorText) {
  const TempDir dir;
  dir.write("pw.txt", "SECRET-F1\n");
  const char* const texts[] = {
      "[failover]\npassword = \"SECRET-F2\"\npassword_file = \"pw.txt\"\n",
      "[failover]\npassword = [\"SECRET-F3\"]\n",
      "[failover]\npassword = \"SECRET-F4\" junk\n",
      "[failover]\npassword = \"SECRET-F5\"\npasword = \"SECRET-F6\"\n",
  };
  for (const char* text : texts) {
    SCOPED_TRACE(text);
    const auto errors = errors_of(with_backend(text), dir.path());
    EXPECT_FALSE(errors.empty());
    for (const auto& line : errors) EXPECT_EQ(line.find("SECRET"), std::string::npos) << line;
  }
}

}  // namespace
}  // namespace pgr::conf
