// Every class of config error, each with the exact line a user sees; several errors in one
// file; TOML syntax errors; and secrets never appearing in any error text.
#include <gtest/gtest.h>

#include "conf/config.hpp"
#include "conf_test_support.hpp"

namespace pgr::conf {
namespace {

using test::errors_of;

struct Case {
  const char* name;
  std::string toml;  // line 1 is the first line
  std::vector<std::string> errors;
};

// The backend that makes a file otherwise valid, for cases about other sections.
#define PGR_BACKEND "[[backends]]\nhost = \"h\"\n"

const std::vector<Case>& error_cases() {
  static const std::vector<Case> cases{
      // Structure: unknown keys and tables, sections of the wrong shape.
      {"unknown top key", "foo = 1\n" PGR_BACKEND, {"t.toml:1: foo: unknown key"}},
      {"unknown table", "[foo]\nx = 1\n" PGR_BACKEND, {"t.toml:1: foo: unknown table"}},
      {"misspelt table",
       "[prox]\nx = 1\n" PGR_BACKEND,
       {"t.toml:1: prox: unknown table (did you mean [proxy]?)"}},
      {"misspelt backends",
       "[[backend]]\nhost = \"h\"\n" PGR_BACKEND,
       {"t.toml:1: backend: unknown table (did you mean [[backends]]?)"}},
      {"key outside its section",
       "listen = [\"1.2.3.4:1\"]\n" PGR_BACKEND,
       {"t.toml:1: listen: unknown key (did you mean listen under [proxy]?)"}},
      {"unknown key in section",
       "[proxy]\nlisten_addr = 1\nbogus = 2\n" PGR_BACKEND,
       {"t.toml:2: proxy.listen_addr: unknown key", "t.toml:3: proxy.bogus: unknown key"}},
      {"typo in key",
       "[health_check]\nperiods = \"1s\"\n" PGR_BACKEND,
       {"t.toml:2: health_check.periods: unknown key (did you mean \"period\"?)"}},
      {"odd key quoted",
       "\"a\\nb\" = 1\n[proxy]\n\"\" = 2\n" PGR_BACKEND,
       {"t.toml:1: \"a\\x0ab\": unknown key", "t.toml:3: proxy.\"\": unknown key"}},
      {"unknown nested table",
       "[auth.extra]\nx = 1\n" PGR_BACKEND,
       {"t.toml:1: auth.extra: unknown key"}},
      {"section not a table",
       "proxy = 1\n" PGR_BACKEND,
       {"t.toml:1: proxy: expected a table ([proxy])"}},
      {"section as array of tables",
       "[[auth]]\nmethod = \"md5\"\n" PGR_BACKEND,
       {"t.toml:1: auth: expected a table ([auth])"}},
      {"no backends",
       "[proxy]\nworkers = 1\n",
       {"t.toml: backends: at least one [[backends]] table is required"}},
      {"empty backends",
       "backends = []\n",
       {"t.toml:1: backends: at least one [[backends]] table is required"}},
      {"backends as table",
       "[backends]\nhost = \"h\"\n",
       {"t.toml:1: backends: expected an array of tables ([[backends]])"}},
      {"backend not a table", "backends = [1]\n", {"t.toml:1: backends[0]: expected a table"}},

      // Types.
      {"string expected",
       "[health_check]\nuser = 5\n" PGR_BACKEND,
       {"t.toml:2: health_check.user: expected a string"}},
      {"integer expected",
       "[proxy]\nworkers = \"4\"\n" PGR_BACKEND,
       {"t.toml:2: proxy.workers: expected an integer"}},
      {"float is not an integer",
       "[proxy]\nworkers = 4.0\n" PGR_BACKEND,
       {"t.toml:2: proxy.workers: expected an integer"}},
      {"number expected",
       PGR_BACKEND "weight = \"1\"\n",
       {"t.toml:3: backends[0].weight: expected a number"}},
      {"listen not array",
       "[proxy]\nlisten = \"127.0.0.1:5432\"\n" PGR_BACKEND,
       {"t.toml:2: proxy.listen: expected an array of strings, e.g. [\"127.0.0.1:5432\"]"}},
      {"listen element type",
       "[proxy]\nlisten = [\"127.0.0.1:1\",\n  2]\n" PGR_BACKEND,
       {"t.toml:3: proxy.listen[1]: expected a string"}},
      {"bare integer duration",
       "[health_check]\nperiod = 2\n" PGR_BACKEND,
       {"t.toml:2: health_check.period: expected a duration string like \"2s\" (a bare number "
        "has no unit)"}},
      {"float duration",
       "[proxy]\nclient_login_timeout = 1.5\n" PGR_BACKEND,
       {"t.toml:2: proxy.client_login_timeout: expected a duration string like \"2s\""}},
      {"size wrong type",
       "[proxy]\nmax_message_size = true\n" PGR_BACKEND,
       {"t.toml:2: proxy.max_message_size: expected a size: an integer number of bytes or a "
        "string like \"64MB\""}},

      // Values and ranges.
      {"workers zero",
       "[proxy]\nworkers = 0\n" PGR_BACKEND,
       {"t.toml:2: proxy.workers: must be between 1 and 256 (got 0)"}},
      {"workers too many",
       "[proxy]\nworkers = 257\n" PGR_BACKEND,
       {"t.toml:2: proxy.workers: must be between 1 and 256 (got 257)"}},
      {"max clients",
       "[proxy]\nmax_client_connections = 1000001\n" PGR_BACKEND,
       {"t.toml:2: proxy.max_client_connections: must be between 1 and 1000000 (got 1000001)"}},
      {"max retries",
       "[health_check]\nmax_retries = -1\n" PGR_BACKEND,
       {"t.toml:2: health_check.max_retries: must be between 0 and 100 (got -1)"}},
      {"log level",
       "[proxy]\nlog_level = \"verbose\"\n" PGR_BACKEND,
       {"t.toml:2: proxy.log_level: unknown value \"verbose\"; expected one of: error, warn, "
        "info, debug"}},
      {"auth method",
       "[auth]\nmethod = \"scram\"\n" PGR_BACKEND,
       {"t.toml:2: auth.method: unknown value \"scram\"; expected one of: trust, md5, "
        "scram-sha-256"}},
      {"bad duration",
       "[proxy]\nbackend_connect_timeout = \"5 sec\"\n" PGR_BACKEND,
       {"t.toml:2: proxy.backend_connect_timeout: invalid duration \"5 sec\": expected a number "
        "and a unit (ms, s, m, h), e.g. \"2s\""}},
      {"negative duration",
       "[health_check]\ntimeout = \"-1s\"\n" PGR_BACKEND,
       {"t.toml:2: health_check.timeout: invalid duration \"-1s\": expected a number and a unit "
        "(ms, s, m, h), e.g. \"2s\""}},
      {"zero period",
       "[health_check]\nperiod = \"0s\"\n" PGR_BACKEND,
       {"t.toml:2: health_check.period: must be greater than 0"}},
      {"zero login timeout",
       "[proxy]\nclient_login_timeout = \"0ms\"\n" PGR_BACKEND,
       {"t.toml:2: proxy.client_login_timeout: must be greater than 0"}},
      {"huge duration",
       "[health_check]\nretry_delay = \"25h\"\n" PGR_BACKEND,
       {"t.toml:2: health_check.retry_delay: must be at most 24h"}},
      {"bad size",
       "[proxy]\nmax_message_size = \"64mb\"\n" PGR_BACKEND,
       {"t.toml:2: proxy.max_message_size: invalid size \"64mb\": expected a whole number and a "
        "unit (B, kB, MB, GB, TB), e.g. \"64MB\""}},
      {"size too small",
       "[proxy]\nmax_message_size = 1023\n" PGR_BACKEND,
       {"t.toml:2: proxy.max_message_size: must be between 1kB and 1GB"}},
      {"size too large",
       "[proxy]\nmax_message_size = \"1025MB\"\n" PGR_BACKEND,
       {"t.toml:2: proxy.max_message_size: must be between 1kB and 1GB"}},
      {"size negative",
       "[proxy]\nmax_message_size = -5\n" PGR_BACKEND,
       {"t.toml:2: proxy.max_message_size: must be between 1kB and 1GB"}},
      {"empty string",
       "[health_check]\ndatabase = \"\"\n" PGR_BACKEND,
       {"t.toml:2: health_check.database: must not be empty"}},
      {"NUL in string",
       "[health_check]\nuser = \"a\\u0000b\"\n" PGR_BACKEND,
       {"t.toml:2: health_check.user: must not contain a NUL character"}},
      {"auth query without $1",
       "[auth]\nauth_query = \"SELECT 1\"\n" PGR_BACKEND,
       {"t.toml:2: auth.auth_query: must use $1 for the user name"}},

      // Listen addresses.
      {"listen empty",
       "[proxy]\nlisten = []\n" PGR_BACKEND,
       {"t.toml:2: proxy.listen: at least one address is required"}},
      {"listen no port",
       "[proxy]\nlisten = [\"127.0.0.1\"]\n" PGR_BACKEND,
       {"t.toml:2: proxy.listen[0]: expected \"host:port\", got \"127.0.0.1\""}},
      {"listen hostname",
       "[proxy]\nlisten = [\"db.example:5432\"]\n" PGR_BACKEND,
       {"t.toml:2: proxy.listen[0]: the host must be a numeric address or localhost, got "
        "\"db.example\""}},
      {"listen bare v6",
       "[proxy]\nlisten = [\"::1:5432\"]\n" PGR_BACKEND,
       {"t.toml:2: proxy.listen[0]: an IPv6 address needs brackets, e.g. \"[::1]:5432\""}},
      {"listen bad v6",
       "[proxy]\nlisten = [\"[::g]:5432\"]\n" PGR_BACKEND,
       {"t.toml:2: proxy.listen[0]: expected \"[ipv6-address]:port\", got \"[::g]:5432\""}},
      {"listen port zero",
       "[proxy]\nlisten = [\"127.0.0.1:0\"]\n" PGR_BACKEND,
       {"t.toml:2: proxy.listen[0]: the port must be 1..65535, got \"0\""}},
      {"listen port big",
       "[proxy]\nlisten = [\"[::]:65536\"]\n" PGR_BACKEND,
       {"t.toml:2: proxy.listen[0]: the port must be 1..65535, got \"65536\""}},
      {"listen duplicate",
       "[proxy]\nlisten = [\"127.0.0.1:1\", \"127.0.0.1:1\"]\n" PGR_BACKEND,
       {"t.toml:2: proxy.listen[1]: duplicate address \"127.0.0.1:1\""}},

      // Backends.
      {"host missing", "[[backends]]\nport = 5433\n", {"t.toml:1: backends[0].host: is required"}},
      {"host empty",
       "[[backends]]\nhost = \"\"\n",
       {"t.toml:2: backends[0].host: must not be empty"}},
      {"port range",
       PGR_BACKEND "port = 70000\n",
       {"t.toml:3: backends[0].port: must be between 1 and 65535 (got 70000)"}},
      {"weight negative",
       PGR_BACKEND "weight = -0.5\n",
       {"t.toml:3: backends[0].weight: must be a finite number >= 0"}},
      {"weight inf",
       PGR_BACKEND "weight = inf\n",
       {"t.toml:3: backends[0].weight: must be a finite number >= 0"}},
      {"weight nan",
       PGR_BACKEND "weight = nan\n",
       {"t.toml:3: backends[0].weight: must be a finite number >= 0"}},
      {"bad name",
       PGR_BACKEND "name = \"node 1\"\n",
       {"t.toml:3: backends[0].name: must be 1 to 63 characters from A-Z a-z 0-9 _ . -"}},
      {"long name",
       PGR_BACKEND "name = \"" + std::string(64, 'a') + "\"\n",
       {"t.toml:3: backends[0].name: must be 1 to 63 characters from A-Z a-z 0-9 _ . -"}},
      {"unknown backend key",
       PGR_BACKEND "hots = \"x\"\n",
       {"t.toml:3: backends[0].hots: unknown key (did you mean \"host\"?)"}},
      {"duplicate name",
       PGR_BACKEND "name = \"a\"\n[[backends]]\nhost = \"i\"\nname = \"a\"\n",
       {"t.toml:6: backends[1].name: duplicate name \"a\" (also backends[0])"}},
      {"duplicate default name",
       PGR_BACKEND "[[backends]]\nhost = \"i\"\nname = \"node0\"\n",
       {"t.toml:5: backends[1].name: duplicate name \"node0\" (also backends[0])"}},
      {"duplicate host port",
       PGR_BACKEND "port = 1\n[[backends]]\nport = 1\nhost = \"h\"\n",
       {"t.toml:6: backends[1].host: same host and port as backends[0]"}},
      {"duplicate host default port",
       PGR_BACKEND PGR_BACKEND,
       {"t.toml:4: backends[1].host: same host and port as backends[0]"}},
      {"duplicate host other case",
       PGR_BACKEND "[[backends]]\nhost = \"H\"\n",
       {"t.toml:4: backends[1].host: same host and port as backends[0]"}},
      {"three of a kind",
       PGR_BACKEND PGR_BACKEND PGR_BACKEND,
       {"t.toml:4: backends[1].host: same host and port as backends[0]",
        "t.toml:6: backends[2].host: same host and port as backends[0]"}},

      // Keys that exclude or need each other.
      {"both auth passwords",
       "[auth]\nauth_user = \"u\"\nauth_password = \"p\"\nauth_password_file = \"f\"\n" PGR_BACKEND,
       {"t.toml:4: auth.auth_password_file: cannot read \"f\": No such file or directory",
        "t.toml:4: auth.auth_password_file: set either auth_password or auth_password_file, not "
        "both"}},
      {"both probe passwords",
       "[health_check]\npassword = \"p\"\npassword_file = \"/dev/null\"\n" PGR_BACKEND,
       {"t.toml:3: health_check.password_file: cannot read \"/dev/null\": not a regular file",
        "t.toml:3: health_check.password_file: set either password or password_file, not both"}},
      {"password without user",
       "[auth]\nauth_password = \"p\"\n" PGR_BACKEND,
       {"t.toml:2: auth.auth_password: needs auth.auth_user"}},
  };
  return cases;
}

TEST(ConfigErrors, EveryClass) {
  for (const auto& c : error_cases()) {
    SCOPED_TRACE(c.name);
    EXPECT_EQ(errors_of(c.toml), c.errors);
  }
}

TEST(ConfigErrors, AllCollectedAndSortedByLine) {
  const char* text =
      "[[backends]]\n"       // 1: host missing
      "port = 0\n"           // 2
      "[proxy]\n"            // 3
      "workers = 0\n"        // 4
      "log_level = 3\n"      // 5
      "[health_check]\n"     // 6
      "period = \"soon\"\n"  // 7
      "[[backends]]\n"       // 8
      "host = \"h\"\n"       // 9
      "weight = -1\n"        // 10
      "[mystery]\n";         // 11
  const std::vector<std::string> expected{
      "t.toml:1: backends[0].host: is required",
      "t.toml:2: backends[0].port: must be between 1 and 65535 (got 0)",
      "t.toml:4: proxy.workers: must be between 1 and 256 (got 0)",
      "t.toml:5: proxy.log_level: expected a string",
      "t.toml:7: health_check.period: invalid duration \"soon\": expected a number and a unit "
      "(ms, s, m, h), e.g. \"2s\"",
      "t.toml:10: backends[1].weight: must be a finite number >= 0",
      "t.toml:11: mystery: unknown table",
  };
  EXPECT_EQ(errors_of(text), expected);
}

TEST(ConfigErrors, TomlSyntaxIsOneErrorOnItsLine) {
  struct Syntax {
    const char* toml;
    const char* error;
  };
  const Syntax cases[] = {
      {"[proxy]\nworkers = = 2\n", "t.toml:2: invalid TOML: bad format: unknown value appeared"},
      {"[proxy]\nworkers = 2\nworkers = 3\n",
       "t.toml:3: invalid TOML: value (\"workers\") already exists"},
      {"[proxy]\n\n\nlog_level = \"info\n",
       "t.toml:4: invalid TOML: the next token is not a valid string"},
      {"[proxy\n", "t.toml:1: invalid TOML: an invalid key appeared"},
      {"[proxy]\nlisten = [\"a:1\",\n\n \"b:2\" \"c:3\"]\n",
       "t.toml:4: invalid TOML: missing array separator `,` after a value"},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.toml);
    EXPECT_EQ(errors_of(c.toml), std::vector<std::string>{c.error});
  }
}

TEST(ConfigErrors, DeepNestingIsRefusedNotRecursed) {
  const std::string deep = "a = " + std::string(100'000, '[');
  EXPECT_EQ(errors_of(deep),
            std::vector<std::string>{"t.toml:1: invalid TOML: nested deeper than 64 levels"});
  const std::string tables = "a = " + std::string(50'000, '{') + "\n";
  EXPECT_EQ(errors_of(tables).size(), 1U);
  // Brackets inside strings and comments do not count.
  const std::string quoted = "# " + std::string(100, '[') + "\n[health_check]\nuser = \"" +
                             std::string(100, '[') + "\"\ndatabase = '" + std::string(100, '{') +
                             "'\n" + std::string(test::k_minimal);
  EXPECT_EQ(errors_of(quoted), std::vector<std::string>{});
}

// TOML is UTF-8; toml11 3.7.1 reads out of bounds on some invalid UTF-8 (fuzz_config found
// it), so nothing invalid reaches it.
TEST(ConfigErrors, InvalidUtf8IsRefusedBeforeToml) {
  struct Utf8 {
    std::string toml;
    int line;
  };
  const Utf8 cases[] = {
      {"a = 'x\xff'\n", 1},
      {"a = 1\n'[b\xff\xff' = 2\n", 2},  // the shape of the fuzz finding
      {"# \xc0\xaf overlong\n", 1},
      {"\n\na = \"\xed\xa0\x80\"\n", 3},  // a UTF-16 surrogate
      {"a = \"\xf4\x90\x80\x80\"\n", 1},  // above U+10FFFF
      {"a = \"\xe2\x82\"\n", 1},          // cut short
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.toml);
    EXPECT_EQ(errors_of(c.toml), std::vector<std::string>{"t.toml:" + std::to_string(c.line) +
                                                          ": invalid TOML: not valid UTF-8"});
  }
  const std::string valid =
      "# caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80\n" + std::string(test::k_minimal);
  EXPECT_EQ(errors_of(valid), std::vector<std::string>{});
}

TEST(ConfigErrors, UnreadableConfigFile) {
  const test::TempDir dir;
  const auto result = load_config_file(dir.path("missing.toml"));
  EXPECT_EQ(result.config, nullptr);
  EXPECT_EQ(test::error_lines(result),
            std::vector<std::string>{dir.path("missing.toml") +
                                     ": cannot read: No such file or directory"});
  EXPECT_EQ(test::error_lines(load_config_file(dir.path())),
            std::vector<std::string>{dir.path() + ": cannot read: Is a directory"});
}

// Secrets appear in no error: not when the secret's own key is wrong, not when a neighbour
// is, not in syntax errors on the secret's line, not from the auth file.
TEST(ConfigErrors, SecretsNeverInErrorText) {
  const test::TempDir dir;
  dir.write("users.txt", "\"u\" \"SECRET-A1\" junk\n\"u2\" \"SECRET-A2\n\"u\" \"SECRET-A3\"\n");
  dir.write("pw.txt", "SECRET-F1\n");
  const char* const texts[] = {
      "[auth]\nauth_password = \"SECRET-P1\"\nauth_password_file = \"pw.txt\"\n",
      "[auth]\nauth_user = \"x\"\nauth_password = \"SECRET-P2\nworkers = 1\n",
      "[auth]\nauth_user = \"x\"\nauth_password = \"SECRET-P3\" junk\n",
      "[auth]\nauth_user = \"x\"\nauth_password = \"SECRET-P4\"\nauth_password = \"SECRET-P5\"\n",
      "[auth]\nauth_file = \"users.txt\"\nauth_pasword = \"SECRET-P6\"\n",
      "[health_check]\npassword = \"SECRET-P7\"\npassword_file = \"pw.txt\"\nperiod = 1\n",
      "[health_check]\npassword = [\"SECRET-P8\"]\n",
      "[health_check]\npassword = \"SECRET-P9\\q\"\n",
      "[auth]\nauth_user = \"x\"\nauth_password = {v = \"SECRET-P10\"}\n",
  };
  for (const char* text : texts) {
    SCOPED_TRACE(text);
    const auto errors = errors_of(text, dir.path());
    EXPECT_FALSE(errors.empty());
    for (const auto& line : errors) EXPECT_EQ(line.find("SECRET"), std::string::npos) << line;
  }
}

}  // namespace
}  // namespace pgr::conf

#undef PGR_BACKEND
