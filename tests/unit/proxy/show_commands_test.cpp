// SHOW commands answered on the client port: SHOW POOL_POOLS (any case, optional ';') lists
// every pool with its node's host and port and the applied [pool] settings; look-alikes are
// not ours.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "protocol/messages.hpp"
#include "proxy/show_commands.hpp"
#include "tests/unit/proxy/cluster_view_support.hpp"

namespace pgr::proxy {
namespace {

struct ResultSet {
  std::vector<std::string> columns;
  std::vector<std::vector<std::string>> rows;
  std::string tag;
};

// Splits the answer into its messages: RowDescription column names, DataRows, the tag.
ResultSet read_result(const protocol::byte_buffer& out) {
  ResultSet r;
  std::size_t at = 0;
  while (at + 5 <= out.size()) {
    const auto length = (std::size_t{out[at + 1]} << 24) | (std::size_t{out[at + 2]} << 16) |
                        (std::size_t{out[at + 3]} << 8) | std::size_t{out[at + 4]};
    const auto message = protocol::view_message(protocol::bytes_view(out).subspan(at, 1 + length));
    EXPECT_TRUE(message);
    if (!message) return r;
    if (message->type == 'T') {
      const auto body = message->body;
      std::size_t i = 2;  // the column count, then per column: name, 18 bytes of attributes
      while (i < body.size()) {
        std::string name;
        while (i < body.size() && body[i] != 0) name.push_back(static_cast<char>(body[i++]));
        r.columns.push_back(name);
        i += 1 + 18;
      }
    } else if (message->type == 'D') {
      const auto fields = protocol::parse_data_row(message->body);
      EXPECT_TRUE(fields);
      std::vector<std::string> row;
      for (const auto& f : *fields) row.emplace_back(f.value_or("NULL"));
      r.rows.push_back(row);
    } else if (message->type == 'C') {
      r.tag = std::string(protocol::parse_command_complete(message->body).value_or("?"));
    }
    at += 1 + length;
  }
  return r;
}

class ShowPoolPools : public ::testing::Test {
 protected:
  ShowPoolPools() : view_(test::cluster()), counters_(3) {
    for (auto& n : view_.nodes) {
      n.host = "10.0.0." + std::to_string(n.index + 1);
      n.port = static_cast<std::uint16_t>(5432 + n.index);
    }
    pool_.mode = conf::PoolMode::transaction;
    pool_.max_backend_connections = 25;
    pools_ = {{0, "shop", "app", 4, 1, 0, 0}, {2, "shop", "report", 2, 0, 3, 2500}};
  }

  std::optional<protocol::byte_buffer> answer(std::string_view sql) {
    return answer_show_command(sql, view_, counters_, std::nullopt, pools_, pool_);
  }

  health::ClusterView view_;
  std::vector<NodeRouteCounters> counters_;
  std::vector<admin::PoolSnapshot> pools_;
  conf::PoolConfig pool_;
};

TEST_F(ShowPoolPools, OneRowPerPool) {
  const auto out = answer("SHOW POOL_POOLS");
  ASSERT_TRUE(out);
  const auto r = read_result(*out);
  EXPECT_EQ(r.columns, (std::vector<std::string>{"node_id", "hostname", "port", "database", "username", "pool_mode",
                                                 "cl_waiting", "sv_active", "sv_idle", "sv_total", "maxwait_us",
                                                 "max_backend_connections"}));
  ASSERT_EQ(r.rows.size(), 2U);
  EXPECT_EQ(r.rows[0], (std::vector<std::string>{"0", "10.0.0.1", "5432", "shop", "app", "transaction", "0", "4", "1",
                                                 "5", "0", "25"}));
  EXPECT_EQ(r.rows[1], (std::vector<std::string>{"2", "10.0.0.3", "5434", "shop", "report", "transaction", "3", "2",
                                                 "0", "2", "2500", "25"}));
  EXPECT_EQ(r.tag, "SELECT 2");
}

TEST_F(ShowPoolPools, AnyCaseAndSemicolon) {
  for (const std::string_view sql : {"show pool_pools", "Show Pool_Pools;", "  SHOW  POOL_POOLS ; ", "show pool_pools -- x",
                                    "/* first */ show /* then */ pool_pools"}) {
    EXPECT_TRUE(is_show_command(sql)) << sql;
    const auto out = answer(sql);
    ASSERT_TRUE(out) << sql;
    EXPECT_EQ(read_result(*out).tag, "SELECT 2") << sql;
  }
  for (const std::string_view sql : {"SHOW POOL_POOL", "SHOW POOL_POOLS x", "SELECT POOL_POOLS", "SHOW \"pool_pools\"",
                                    "SHOW pool_pools; SHOW pool_pools", ";", "", "-- show pool_pools"}) {
    EXPECT_FALSE(is_show_command(sql)) << sql;
    EXPECT_FALSE(answer(sql)) << sql;
  }
}

TEST_F(ShowPoolPools, NoPoolsNoRows) {
  pools_.clear();
  pool_.mode = conf::PoolMode::none;
  const auto out = answer("SHOW POOL_POOLS;");
  ASSERT_TRUE(out);
  const auto r = read_result(*out);
  EXPECT_EQ(r.columns.size(), 12U);
  EXPECT_TRUE(r.rows.empty());
  EXPECT_EQ(r.tag, "SELECT 0");
}

}  // namespace
}  // namespace pgr::proxy
