// Loading valid configs: a file that sets every key, the defaults when sections are left
// out, and the key table agreeing with the header's defaults and with docs/CONFIG.md.
#include <gtest/gtest.h>

#include <algorithm>
#include <fstream>
#include <set>
#include <sstream>
#include <thread>

#include "conf/config.hpp"
#include "conf/config_keys.hpp"
#include "conf_test_support.hpp"

namespace pgr::conf {
namespace {

using namespace std::chrono_literals;
using test::k_minimal;
using test::TempDir;

// Every key set (the *_file variants are in config_paths_test.cpp: they exclude these).
constexpr const char* k_full_file = R"(# every key
[proxy]
listen = ["127.0.0.1:6432", "[::1]:6433", "localhost:6434", "0.0.0.0:6435"]
workers = 3
max_client_connections = 500
log_level = "debug"
client_login_timeout = "1.5s"
backend_connect_timeout = "250ms"
max_message_size = "64MB"
read_only_listen = ["127.0.0.1:6442", "[::1]:6443"]

[auth]
method = "md5"
auth_file = "users.txt"
auth_user = "pgrouter"
auth_password = "s3cret"
auth_query = "SELECT u, p FROM my_users WHERE u = $1"

[health_check]
period = "1m"
timeout = "3s"
max_retries = 4
retry_delay = "0s"
user = "monitor"
password = "mon-pass"
database = "health"

[load_balance]
enabled = false
mode = "session"
primary_reads = false
max_lag = "5s"
max_lag_bytes = "16MB"
read_your_writes = false
transaction_reads = "primary"
write_functions = ["bump", "app.next_id", "_x$1.Y_2"]

[failover]
mode = "command"
failover_command = "/usr/local/bin/promote %h %p"
follow_primary_command = "follow %d %H"
rewind_command = "rewind %D"
command_timeout = "90s"
wait_timeout = "45s"
search_primary_timeout = "10m"
max_lag_on_failover = 1048576
auto_failback = true
state_file = "state/pgrouter.state"
user = "failover"
password = "fo-pass"

[[backends]]
name = "primary"
host = "10.0.0.1"
port = 15432
weight = 0
data_directory = "/var/lib/postgresql/data"

[[backends]]
host = "db2.example"
weight = 2.5
)";

TEST(LoadConfig, FullFileSetsEveryKey) {
  const TempDir dir;
  dir.write("users.txt", "\"alice\" \"md5a3556571e93b0d20722ba62be61e8c2d\"\n");
  const auto path = dir.write("pgrouter.toml", k_full_file);
  const auto result = load_config_file(path);
  ASSERT_EQ(result.errors.size(), 0U) << ::testing::PrintToString(test::error_lines(result));
  ASSERT_NE(result.config, nullptr);
  const Config& c = *result.config;

  EXPECT_EQ(c.source_path, path);
  const std::vector<ListenAddress> listen{
      {"127.0.0.1", 6432}, {"::1", 6433}, {"localhost", 6434}, {"0.0.0.0", 6435}};
  EXPECT_EQ(c.proxy.listen, listen);
  EXPECT_EQ(c.proxy.workers, 3);
  EXPECT_EQ(c.proxy.max_client_connections, 500);
  EXPECT_EQ(c.proxy.log_level, LogLevel::debug);
  EXPECT_EQ(c.proxy.client_login_timeout, 1500ms);
  EXPECT_EQ(c.proxy.backend_connect_timeout, 250ms);
  EXPECT_EQ(c.proxy.max_message_size, 64U << 20);
  const std::vector<ListenAddress> read_only{{"127.0.0.1", 6442}, {"::1", 6443}};
  EXPECT_EQ(c.proxy.read_only_listen, read_only);

  EXPECT_EQ(c.auth.method, AuthMethod::md5);
  EXPECT_EQ(c.auth.auth_file, dir.path("users.txt"));
  const std::map<std::string, std::string> users{{"alice", "md5a3556571e93b0d20722ba62be61e8c2d"}};
  EXPECT_EQ(c.auth.users, users);
  EXPECT_EQ(c.auth.auth_user, "pgrouter");
  EXPECT_EQ(c.auth.auth_password, "s3cret");
  EXPECT_EQ(c.auth.auth_query, "SELECT u, p FROM my_users WHERE u = $1");

  EXPECT_EQ(c.health_check.period, 60s);
  EXPECT_EQ(c.health_check.timeout, 3s);
  EXPECT_EQ(c.health_check.max_retries, 4);
  EXPECT_EQ(c.health_check.retry_delay, 0ms);
  EXPECT_EQ(c.health_check.user, "monitor");
  EXPECT_EQ(c.health_check.password, "mon-pass");
  EXPECT_EQ(c.health_check.database, "health");

  EXPECT_FALSE(c.load_balance.enabled);
  EXPECT_EQ(c.load_balance.mode, LoadBalanceMode::session);
  EXPECT_FALSE(c.load_balance.primary_reads);
  EXPECT_EQ(c.load_balance.max_lag, 5s);
  EXPECT_EQ(c.load_balance.max_lag_bytes, 16U << 20);
  EXPECT_FALSE(c.load_balance.read_your_writes);
  EXPECT_EQ(c.load_balance.transaction_reads, TransactionReads::primary);
  const std::vector<std::string> functions{"bump", "app.next_id", "_x$1.Y_2"};
  EXPECT_EQ(c.load_balance.write_functions, functions);

  EXPECT_EQ(c.failover.mode, FailoverMode::command);
  EXPECT_EQ(c.failover.failover_command, "/usr/local/bin/promote %h %p");
  EXPECT_EQ(c.failover.follow_primary_command, "follow %d %H");
  EXPECT_EQ(c.failover.rewind_command, "rewind %D");
  EXPECT_EQ(c.failover.command_timeout, 90s);
  EXPECT_EQ(c.failover.wait_timeout, 45s);
  EXPECT_EQ(c.failover.search_primary_timeout, 10min);
  EXPECT_EQ(c.failover.max_lag_on_failover, 1U << 20);
  EXPECT_TRUE(c.failover.auto_failback);
  EXPECT_EQ(c.failover.state_file, dir.path("state/pgrouter.state"));  // need not exist
  EXPECT_EQ(c.failover.user, "failover");
  EXPECT_EQ(c.failover.password, "fo-pass");

  ASSERT_EQ(c.backends.size(), 2U);
  EXPECT_EQ(c.backends[0].name, "primary");
  EXPECT_EQ(c.backends[0].host, "10.0.0.1");
  EXPECT_EQ(c.backends[0].port, 15432);
  EXPECT_EQ(c.backends[0].weight, 0.0);
  EXPECT_EQ(c.backends[0].data_directory, "/var/lib/postgresql/data");
  EXPECT_EQ(c.backends[1].name, "node1");
  EXPECT_EQ(c.backends[1].host, "db2.example");
  EXPECT_EQ(c.backends[1].port, 5432);
  EXPECT_EQ(c.backends[1].weight, 2.5);
  EXPECT_EQ(c.backends[1].data_directory, std::nullopt);
}

TEST(LoadConfig, DefaultsWhenSectionsAreOmitted) {
  const auto result = load_config_text(k_minimal, "t.toml", "");
  ASSERT_NE(result.config, nullptr);
  const Config& c = *result.config;

  Config expected;  // the header's initializers are the defaults...
  expected.source_path = "t.toml";
  expected.backends.push_back({"node0", "127.0.0.1", 5432, 1.0, std::nullopt});
  // ...except workers, which follows the machine.
  expected.proxy.workers =
      static_cast<int>(std::clamp(std::thread::hardware_concurrency(), 1U, 256U));
  EXPECT_EQ(c, expected);
  EXPECT_GE(c.proxy.workers, 1);
  EXPECT_EQ(c.proxy.max_message_size, 0x3fffffffU);
  EXPECT_EQ(c.auth.method, AuthMethod::scram_sha_256);
  EXPECT_TRUE(c.auth.users.empty());
  EXPECT_EQ(c.health_check.period, 2s);
}

TEST(LoadConfig, EmptySectionsAndInlineTablesAreFine) {
  const auto result = load_config_text(
      "backends = [{host = \"a\"}, {host = \"b\", port = 1}]\n"
      "[proxy]\n[auth]\n[health_check]\n[load_balance]\n[failover]\n",
      "t.toml", "");
  ASSERT_NE(result.config, nullptr) << ::testing::PrintToString(test::error_lines(result));
  ASSERT_EQ(result.config->backends.size(), 2U);
  EXPECT_EQ(result.config->backends[1].name, "node1");
  EXPECT_EQ(result.config->backends[1].port, 1);
}

TEST(LoadConfig, MessageSizeSpellings) {
  struct Case {
    const char* value;
    std::uint32_t bytes;
  };
  const Case cases[] = {
      {"1024", 1024},
      {"\"1kB\"", 1024},
      {"\"2048B\"", 2048},
      {"\"16MB\"", 16U << 20},
      {"\"1GB\"", 0x3fffffff},
      {"1073741824", 0x3fffffff},
      {"1073741823", 0x3fffffff},
      {"\"1048576kB\"", 0x3fffffff},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.value);
    const auto text =
        "[proxy]\nmax_message_size = " + std::string(c.value) + "\n" + std::string(k_minimal);
    const auto result = load_config_text(text, "t.toml", "");
    ASSERT_NE(result.config, nullptr) << ::testing::PrintToString(test::error_lines(result));
    EXPECT_EQ(result.config->proxy.max_message_size, c.bytes);
  }
}

// Writing a key with its documented default gives the same Config as leaving it out: the
// table's defaults and config.hpp's initializers agree.
TEST(KeyTable, DefaultsAgreeWithHeader) {
  const auto omitted = load_config_text(k_minimal, "t.toml", "");
  ASSERT_NE(omitted.config, nullptr);
  for (const auto& key : config_keys()) {
    if (key.default_value.empty()) continue;
    SCOPED_TRACE(std::string(key.name));
    const std::string line = std::string(key.name) + " = " + std::string(key.default_value) + "\n";
    const std::string text =
        key.section == Section::backends
            ? std::string(k_minimal) + line
            : "[" + std::string(to_string(key.section)) + "]\n" + line + std::string(k_minimal);
    const auto written = load_config_text(text, "t.toml", "");
    ASSERT_NE(written.config, nullptr) << ::testing::PrintToString(test::error_lines(written));
    EXPECT_EQ(*written.config, *omitted.config);
  }
}

TEST(KeyTable, NamesAreUniqueAndDocumented) {
  std::set<std::pair<Section, std::string_view>> seen;
  for (const auto& key : config_keys()) {
    EXPECT_TRUE(seen.insert({key.section, key.name}).second) << key.name;
    EXPECT_FALSE(key.doc.empty()) << key.name;
    EXPECT_NE(key.apply, nullptr) << key.name;
    EXPECT_EQ(find_key(key.section, key.name), &key);
  }
  EXPECT_EQ(find_key(Section::proxy, "nope"), nullptr);
}

std::string read_config_doc() {
  std::ifstream in(std::string(PGR_SOURCE_DIR) + "/docs/CONFIG.md");
  std::stringstream buffer;
  buffer << in.rdbuf();
  return buffer.str();
}

// The first example in docs/CONFIG.md loads, given the files it names.
TEST(KeyTable, DocsExampleIsValid) {
  const std::string doc = read_config_doc();
  const std::string fence = "```toml\n";
  const auto from = doc.find(fence);
  ASSERT_NE(from, std::string::npos);
  const auto to = doc.find("```", from + fence.size());
  ASSERT_NE(to, std::string::npos);
  const TempDir dir;
  dir.write("users.txt", "\"alice\" \"pw\"\n");
  dir.write("auth_password", "pw\n");
  dir.write("monitor_password", "pw\n");
  const auto path =
      dir.write("pgrouter.toml", doc.substr(from + fence.size(), to - from - fence.size()));
  const auto result = load_config_file(path);
  EXPECT_NE(result.config, nullptr) << ::testing::PrintToString(test::error_lines(result));
}

// docs/CONFIG.md embeds config_reference_markdown() between two markers; regenerate it when
// the key table changes (the failure prints the expected text).
TEST(KeyTable, DocsAreInStep) {
  const std::string doc = read_config_doc();
  ASSERT_FALSE(doc.empty()) << "docs/CONFIG.md is missing";
  const std::string begin = "<!-- BEGIN config_reference_markdown() -->\n";
  const std::string end = "<!-- END config_reference_markdown() -->";
  const auto from = doc.find(begin);
  const auto to = doc.find(end);
  ASSERT_NE(from, std::string::npos);
  ASSERT_NE(to, std::string::npos);
  const std::string embedded = doc.substr(from + begin.size(), to - from - begin.size());
  EXPECT_EQ(embedded, config_reference_markdown()) << "expected block:\n"
                                                   << config_reference_markdown();
}

}  // namespace
}  // namespace pgr::conf
