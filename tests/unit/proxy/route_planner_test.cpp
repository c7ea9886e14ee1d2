// The routing decision of a session: writes, weighted reads, eligibility, the read-only port,
// session mode, transactions (side standbys, read-only, wholly on the primary, failed), pins,
// reconciliation from ReadyForQuery, read-your-writes and forgetting a lost node.
#include "proxy/route_planner.hpp"

#include <gtest/gtest.h>

#include "tests/unit/proxy/cluster_view_support.hpp"

#include <string>
#include <vector>

namespace pgr::proxy {
namespace {

using namespace std::chrono_literals;
using health::ClusterView;
using health::NodeRole;
using health::NodeStatus;
using health::NodeView;
using time_point = std::chrono::system_clock::time_point;

constexpr std::size_t k_primary = 0;
constexpr std::size_t k_s1 = 1;
constexpr std::size_t k_s2 = 2;
constexpr std::size_t k_none = 99;
// With two standbys of weight 1 and primary_reads off, random01 < 0.5 picks node 1.
constexpr double k_to_s1 = 0.1;
constexpr double k_to_s2 = 0.9;

using test::at;
using test::cluster;
using test::node;

// UnitFacts as the session builds them from the classifier.
UnitFacts facts_of(std::string_view sql) { return unit_facts(protocol::classify_sql(sql)); }

RoutingPolicy standbys_only() {
  RoutingPolicy p;
  p.reads.primary_reads = false;
  return p;
}

// One client session against a view; plans units and feeds back the server's answers.
struct Session {
  RoutingState state;
  ClusterView view = cluster();
  RoutingPolicy policy = standbys_only();
  std::vector<bool> excluded;

  PlanResult plan(std::string_view sql, double random01 = 0.5) {
    return plan_unit(state, facts_of(sql), view, policy, random01, excluded);
  }
  PlanResult plan(const UnitFacts& facts, double random01 = 0.5) {
    return plan_unit(state, facts, view, policy, random01, excluded);
  }
  // The node the unit is planned on (k_none when no route).
  std::size_t node_for(std::string_view sql, double random01 = 0.5) {
    const auto result = plan(sql, random01);
    return result.decision ? result.decision->node : k_none;
  }
  // Plans the unit, then the server answers it with ReadyForQuery `status` (nothing pending).
  RouteDecision run(std::string_view sql, char status, double random01 = 0.5, time_point now = at(0ms)) {
    const auto result = plan(sql, random01);
    EXPECT_TRUE(result.decision) << sql;
    if (!result.decision) return {};
    on_unit_finished(state, result.decision->node, status, true, result.decision->writes, true, now);
    return *result.decision;
  }
};

// --- Outside a transaction -----------------------------------------------------------------

struct SimpleCase {
  const char* sql;
  bool primary_reads;
  double random01;
  std::size_t node;
  RouteKind kind;
  bool writes;
};

class OutsideTransaction : public testing::TestWithParam<SimpleCase> {};

TEST_P(OutsideTransaction, RoutesTheUnit) {
  const auto& c = GetParam();
  Session s;
  s.policy.reads.primary_reads = c.primary_reads;
  const auto result = s.plan(c.sql, c.random01);
  ASSERT_TRUE(result.decision);
  EXPECT_EQ(result.decision->node, c.node);
  EXPECT_EQ(result.decision->kind, c.kind);
  EXPECT_EQ(result.decision->writes, c.writes);
  EXPECT_FALSE(result.decision->open_side_transaction);
  EXPECT_FALSE(result.decision->reason.empty());
  EXPECT_EQ(s.state.txn, TxnMode::none);
}

INSTANTIATE_TEST_SUITE_P(
    RoutePlanner, OutsideTransaction,
    testing::Values(
        // Writes, and whatever might write, go to the primary whatever the draw.
        SimpleCase{"INSERT INTO t VALUES (1)", false, k_to_s1, k_primary, RouteKind::write, true},
        SimpleCase{"UPDATE t SET a = 1", true, k_to_s2, k_primary, RouteKind::write, true},
        SimpleCase{"DELETE FROM t", false, 0.0, k_primary, RouteKind::write, true},
        SimpleCase{"CREATE TABLE t (a int)", false, 0.5, k_primary, RouteKind::write, true},
        SimpleCase{"SELECT nextval('s')", false, k_to_s1, k_primary, RouteKind::write, true},
        SimpleCase{"SELECT * FROM t FOR UPDATE", false, k_to_s1, k_primary, RouteKind::write, true},
        SimpleCase{"SELECT 1; INSERT INTO t VALUES (1)", false, k_to_s1, k_primary, RouteKind::write, true},
        SimpleCase{"FROBNICATE t", false, k_to_s1, k_primary, RouteKind::write, true},
        // A read forced to the primary by a hint is still a read, and writes nothing.
        SimpleCase{"/*pgrouter:primary*/ SELECT 1", false, k_to_s1, k_primary, RouteKind::read, false},
        SimpleCase{"/*NO LOAD BALANCE*/ SELECT 1", false, k_to_s2, k_primary, RouteKind::read, false},
        // Reads: standbys by weight; the primary joins with primary_reads.
        SimpleCase{"SELECT 1", false, k_to_s1, k_s1, RouteKind::read, false},
        SimpleCase{"SELECT 1", false, k_to_s2, k_s2, RouteKind::read, false},
        SimpleCase{"SELECT 1", false, 0.0, k_s1, RouteKind::read, false},
        SimpleCase{"SELECT 1", false, 0.999999, k_s2, RouteKind::read, false},
        SimpleCase{"SHOW search_path", false, k_to_s2, k_s2, RouteKind::read, false},
        SimpleCase{"SELECT 1", true, 0.1, k_s1, RouteKind::read, false},
        SimpleCase{"SELECT 1", true, 0.5, k_s2, RouteKind::read, false},
        SimpleCase{"SELECT 1", true, 0.9, k_primary, RouteKind::read, false},
        // No preference and nowhere run before: the primary.
        SimpleCase{"SET search_path = a", false, k_to_s1, k_primary, RouteKind::other, false},
        SimpleCase{"", false, k_to_s1, k_primary, RouteKind::other, false}));

struct SplitCase {
  double w1;
  double w2;
  double random01;
  std::size_t node;
};

class WeightSplit : public testing::TestWithParam<SplitCase> {};

TEST_P(WeightSplit, Random01PicksTheSideOfTheSplit) {
  const auto& c = GetParam();
  Session s;
  s.view = cluster(c.w1, c.w2);
  EXPECT_EQ(s.node_for("SELECT 1", c.random01), c.node);
}

INSTANTIATE_TEST_SUITE_P(RoutePlanner, WeightSplit,
                         testing::Values(SplitCase{1.0, 3.0, 0.0, k_s1}, SplitCase{1.0, 3.0, 0.249, k_s1},
                                         SplitCase{1.0, 3.0, 0.251, k_s2}, SplitCase{1.0, 3.0, 0.99, k_s2},
                                         SplitCase{3.0, 1.0, 0.74, k_s1}, SplitCase{3.0, 1.0, 0.76, k_s2},
                                         SplitCase{0.0, 1.0, 0.0, k_s2}, SplitCase{1.0, 0.0, 0.99, k_s1}));

// Something about the cluster, policy or session that makes node1 (the draw's pick) ineligible.
struct EligibilityCase {
  const char* name;
  void (*change)(Session&);
  std::size_t node;  // where SELECT with random01 = k_to_s1 goes
  std::string_view reason;
};

class Eligibility : public testing::TestWithParam<EligibilityCase> {};

TEST_P(Eligibility, ReadSkipsIneligibleStandbys) {
  const auto& c = GetParam();
  Session s;
  c.change(s);
  const auto result = s.plan("SELECT 1", k_to_s1);
  ASSERT_TRUE(result.decision);
  EXPECT_EQ(result.decision->node, c.node);
  if (!c.reason.empty()) {
    EXPECT_EQ(result.decision->reason, c.reason);
  }
}

INSTANTIATE_TEST_SUITE_P(
    RoutePlanner, Eligibility,
    testing::Values(
        EligibilityCase{"baseline", [](Session&) {}, k_s1, ""},
        EligibilityCase{"down", [](Session& s) { s.view.nodes[1].status = NodeStatus::down; }, k_s2, ""},
        EligibilityCase{"suspect", [](Session& s) { s.view.nodes[1].status = NodeStatus::suspect; }, k_s2, ""},
        EligibilityCase{"excluded", [](Session& s) { s.excluded = {false, true}; }, k_s2, ""},
        EligibilityCase{"weight_zero", [](Session& s) { s.view.nodes[1].weight = 0.0; }, k_s2, ""},
        EligibilityCase{"lag_time",
                        [](Session& s) {
                          s.view.nodes[1].lag = 2500ms;
                          s.policy.reads.max_lag = 1000ms;
                        },
                        k_s2, ""},
        EligibilityCase{"lag_bytes",
                        [](Session& s) {
                          s.view.nodes[1].lag_bytes = 64u << 20;
                          s.policy.reads.max_lag_bytes = 16u << 20;
                        },
                        k_s2, ""},
        EligibilityCase{"lag_within_limits",
                        [](Session& s) {
                          s.view.nodes[1].lag_bytes = 1u << 20;
                          s.view.nodes[1].lag = 200ms;
                          s.policy.reads.max_lag_bytes = 16u << 20;
                          s.policy.reads.max_lag = 1000ms;
                        },
                        k_s1, ""},
        EligibilityCase{"lag_unknown_with_limit",
                        [](Session& s) {
                          s.view.nodes[1].lag.reset();
                          s.view.nodes[1].lag_bytes.reset();
                          s.policy.reads.max_lag = 1000ms;
                        },
                        k_s2, ""},
        EligibilityCase{"both_down_fall_back_to_primary",
                        [](Session& s) {
                          s.view.nodes[1].status = NodeStatus::down;
                          s.view.nodes[2].status = NodeStatus::down;
                        },
                        k_primary, "read, no standby eligible"},
        EligibilityCase{"both_excluded_fall_back_to_primary", [](Session& s) { s.excluded = {false, true, true}; },
                        k_primary, "read, no standby eligible"},
        EligibilityCase{"both_over_lag_fall_back_to_primary_even_with_primary_reads",
                        [](Session& s) {
                          s.policy.reads.primary_reads = true;
                          s.view.nodes[1].lag = 5s;
                          s.view.nodes[2].lag = 5s;
                          s.policy.reads.max_lag = 1s;
                        },
                        k_primary, "read, no standby eligible"},
        EligibilityCase{"primary_excluded_reads_still_on_standbys", [](Session& s) { s.excluded = {true}; }, k_s1,
                        ""},
        EligibilityCase{"disabled",
                        [](Session& s) { s.policy.enabled = false; }, k_primary, "load balancing disabled"}),
    [](const testing::TestParamInfo<EligibilityCase>& row) { return std::string(row.param.name); });

TEST(RoutePlanner, NoUsablePrimaryMeansNoRouteForWrites) {
  Session s;
  s.excluded = {true};
  auto result = s.plan("INSERT INTO t VALUES (1)");
  EXPECT_FALSE(result.decision);
  EXPECT_EQ(result.why, NoRoute::no_primary);

  Session failing_over;
  failing_over.view.primary.reset();
  failing_over.view.nodes[0].role = NodeRole::unknown;
  failing_over.view.nodes[0].status = NodeStatus::down;
  result = failing_over.plan("INSERT INTO t VALUES (1)");
  EXPECT_FALSE(result.decision);
  EXPECT_EQ(result.why, NoRoute::no_primary);
  result = failing_over.plan("BEGIN");
  EXPECT_FALSE(result.decision);
  EXPECT_EQ(failing_over.state.txn, TxnMode::none);
  // Reads still reach the standbys while there is no primary.
  EXPECT_EQ(failing_over.node_for("SELECT 1", k_to_s2), k_s2);
  // And with nothing at all, no route.
  failing_over.view.nodes[1].status = NodeStatus::down;
  failing_over.view.nodes[2].status = NodeStatus::down;
  result = failing_over.plan("SELECT 1");
  EXPECT_FALSE(result.decision);
  EXPECT_EQ(result.why, NoRoute::no_primary);
}

TEST(RoutePlanner, DisabledSendsEverythingToThePrimary) {
  Session s;
  s.policy.enabled = false;
  s.policy.reads.primary_reads = true;
  for (const char* sql : {"SELECT 1", "BEGIN", "SELECT 2", "BEGIN READ ONLY", "SHOW x", "COMMIT"}) {
    EXPECT_EQ(s.node_for(sql, k_to_s1), k_primary) << sql;
  }
}

TEST(RoutePlanner, NoPreferenceRunsWhereTheSessionRanLast) {
  Session s;
  EXPECT_EQ(s.node_for("SELECT 1", k_to_s2), k_s2);
  EXPECT_EQ(s.node_for("SET search_path = a"), k_s2);
  EXPECT_EQ(s.node_for(";"), k_s2);
  // Unless that node is gone.
  s.view.nodes[2].status = NodeStatus::down;
  EXPECT_EQ(s.node_for("SET search_path = b"), k_primary);
}

TEST(RoutePlanner, AUnitGoesWhereItsPortalLives) {
  Session s;
  UnitFacts execute;
  execute.route = protocol::Route::standby_ok;
  execute.kind = protocol::StatementKind::read;
  execute.required_node = k_s2;
  auto result = s.plan(execute, k_to_s1);
  ASSERT_TRUE(result.decision);
  EXPECT_EQ(result.decision->node, k_s2);
  s.view.nodes[2].status = NodeStatus::down;
  result = s.plan(execute, k_to_s1);
  EXPECT_FALSE(result.decision);
  EXPECT_EQ(result.why, NoRoute::node_gone);
}

// --- The read-only port -------------------------------------------------------------------

RoutingPolicy read_only_port() {
  RoutingPolicy p;
  p.read_only_port = true;
  p.reads.primary_reads = true;  // must not matter: the port never uses the primary
  return p;
}

TEST(ReadOnlyPort, EverythingGoesToStandbysOnly) {
  Session s;
  s.policy = read_only_port();
  for (const double r : {0.0, 0.3, 0.6, 0.9, 0.999}) {
    const auto chosen = s.node_for("SELECT 1", r);
    EXPECT_TRUE(chosen == k_s1 || chosen == k_s2) << r;
  }
  EXPECT_EQ(s.node_for("SELECT 1", k_to_s1), k_s1);
  EXPECT_EQ(s.node_for("SELECT 1", k_to_s2), k_s2);
  // Writes go to a standby too, which refuses them with 25006.
  EXPECT_NE(s.node_for("INSERT INTO t VALUES (1)", k_to_s1), k_primary);
  EXPECT_NE(s.node_for("SET x = 1"), k_primary);
}

TEST(ReadOnlyPort, NoEligibleStandbyIsNoStandby) {
  Session s;
  s.policy = read_only_port();
  s.view.nodes[1].status = NodeStatus::down;
  s.excluded = {false, false, true};
  const auto result = s.plan("SELECT 1");
  EXPECT_FALSE(result.decision);
  EXPECT_EQ(result.why, NoRoute::no_standby);
  EXPECT_FALSE(describe(result.why).empty());
}

TEST(ReadOnlyPort, LagLimitsApply) {
  Session s;
  s.policy = read_only_port();
  s.policy.reads.max_lag = 1000ms;
  s.view.nodes[1].lag = 3s;
  EXPECT_EQ(s.node_for("SELECT 1", k_to_s1), k_s2);
  s.view.nodes[2].lag = 3s;
  EXPECT_EQ(s.plan("SELECT 1").why, NoRoute::no_standby);
}

TEST(ReadOnlyPort, ATransactionStaysOnItsStandby) {
  Session s;
  s.policy = read_only_port();
  EXPECT_EQ(s.run("BEGIN", 'T', k_to_s2).node, k_s2);
  EXPECT_EQ(s.state.txn, TxnMode::read_only_standby);
  EXPECT_EQ(s.run("SELECT 1", 'T', k_to_s1).node, k_s2);
  EXPECT_EQ(s.run("SELECT 2", 'T', 0.0).node, k_s2);
  EXPECT_EQ(s.run("COMMIT", 'I', k_to_s1).node, k_s2);
  EXPECT_EQ(s.state.txn, TxnMode::none);
  EXPECT_EQ(s.node_for("SELECT 3", k_to_s1), k_s1);
}

TEST(ReadOnlyPort, ATransactionWhoseStandbyIsGoneHasNoRoute) {
  Session s;
  s.policy = read_only_port();
  s.run("BEGIN", 'T', k_to_s1);
  s.view.nodes[1].status = NodeStatus::down;
  const auto result = s.plan("SELECT 1", k_to_s2);
  EXPECT_FALSE(result.decision);
  EXPECT_EQ(result.why, NoRoute::node_gone);
}

// --- Session mode ------------------------------------------------------------------------

TEST(SessionMode, KeepsItsReader) {
  Session s;
  s.policy.session_reader = true;
  EXPECT_EQ(s.node_for("SELECT 1", k_to_s2), k_s2);
  EXPECT_EQ(s.state.session_reader, k_s2);
  for (const double r : {0.0, 0.1, 0.4, 0.6, 0.99}) EXPECT_EQ(s.node_for("SELECT 1", r), k_s2) << r;
}

TEST(SessionMode, KeepsThePrimaryAsReaderWithPrimaryReads) {
  Session s;
  s.policy.session_reader = true;
  s.policy.reads.primary_reads = true;
  EXPECT_EQ(s.node_for("SELECT 1", 0.9), k_primary);
  EXPECT_EQ(s.node_for("SELECT 1", 0.1), k_primary);
  // Once the primary may no longer take reads, the session re-chooses.
  s.policy.reads.primary_reads = false;
  EXPECT_EQ(s.node_for("SELECT 1", k_to_s1), k_s1);
  EXPECT_EQ(s.state.session_reader, k_s1);
}

class SessionReaderBecomesIneligible : public testing::TestWithParam<EligibilityCase> {};

TEST_P(SessionReaderBecomesIneligible, ReChoosesAndKeepsTheNewOne) {
  const auto& c = GetParam();
  Session s;
  s.policy.session_reader = true;
  EXPECT_EQ(s.node_for("SELECT 1", k_to_s1), k_s1);
  c.change(s);
  EXPECT_EQ(s.node_for("SELECT 1", k_to_s1), c.node);
  EXPECT_EQ(s.state.session_reader, c.node);
  EXPECT_EQ(s.node_for("SELECT 1", k_to_s1), c.node);
}

INSTANTIATE_TEST_SUITE_P(
    RoutePlanner, SessionReaderBecomesIneligible,
    testing::Values(
        EligibilityCase{"down",
                        [](Session& s) {
                          s.view.nodes[1].status = NodeStatus::down;
                          s.state.session_reader = k_s1;  // still remembered
                        },
                        k_s2, ""},
        EligibilityCase{"excluded", [](Session& s) { s.excluded = {false, true}; }, k_s2, ""},
        EligibilityCase{"weight_zero", [](Session& s) { s.view.nodes[1].weight = 0.0; }, k_s2, ""},
        EligibilityCase{"over_lag",
                        [](Session& s) {
                          s.view.nodes[1].lag = 2s;
                          s.policy.reads.max_lag = 1s;
                        },
                        k_s2, ""},
        EligibilityCase{"promoted",
                        [](Session& s) {
                          // node1 became the primary; primary_reads is off.
                          s.view.nodes[0].status = NodeStatus::down;
                          s.view.nodes[0].role = NodeRole::unknown;
                          s.view.nodes[1].role = NodeRole::primary;
                          s.view.nodes[1].current_lsn = 1000;
                          s.view.primary = k_s1;
                        },
                        k_s2, ""}),
    [](const testing::TestParamInfo<EligibilityCase>& row) { return std::string(row.param.name); });

TEST(SessionMode, ReadOnlyPortKeepsItsStandby) {
  Session s;
  s.policy = read_only_port();
  s.policy.session_reader = true;
  EXPECT_EQ(s.node_for("SELECT 1", k_to_s2), k_s2);
  EXPECT_EQ(s.node_for("SELECT 1", k_to_s1), k_s2);
  s.view.nodes[2].status = NodeStatus::down;
  EXPECT_EQ(s.node_for("SELECT 1", k_to_s2), k_s1);
  EXPECT_EQ(s.node_for("SELECT 1", k_to_s2), k_s1);
}

// A standby over max_lag gets no reads until it catches up, also on the read-only port.
TEST(SessionMode, ReadOnlyPortReChoosesWhenTheReaderFallsBehind) {
  Session s;
  s.policy = read_only_port();
  s.policy.session_reader = true;
  s.policy.reads.max_lag = 1s;
  EXPECT_EQ(s.node_for("SELECT 1", k_to_s2), k_s2);
  s.view.nodes[2].lag = 5s;
  EXPECT_EQ(s.node_for("SELECT 1", k_to_s2), k_s1);
}

// --- Transactions ------------------------------------------------------------------------

TEST(Transactions, BeginRunsOnThePrimaryAndReadsOnOneSideStandby) {
  Session s;
  auto result = s.plan("BEGIN", k_to_s2);
  ASSERT_TRUE(result.decision);
  EXPECT_EQ(result.decision->node, k_primary);
  EXPECT_FALSE(result.decision->open_side_transaction);
  EXPECT_EQ(s.state.txn, TxnMode::until_write);
  EXPECT_EQ(s.state.txn_home, k_primary);
  on_unit_finished(s.state, k_primary, 'T', true, false, true, at(0ms));

  result = s.plan("SELECT 1", k_to_s2);
  ASSERT_TRUE(result.decision);
  EXPECT_EQ(result.decision->node, k_s2);
  EXPECT_TRUE(result.decision->open_side_transaction);
  EXPECT_EQ(s.state.txn_side, k_s2);
  on_unit_finished(s.state, k_s2, 'T', true, false, true, at(0ms));

  // The side is reused, never opened twice, whatever the draw.
  for (const double r : {0.0, k_to_s1, k_to_s2}) {
    result = s.plan("SELECT 2", r);
    ASSERT_TRUE(result.decision);
    EXPECT_EQ(result.decision->node, k_s2);
    EXPECT_FALSE(result.decision->open_side_transaction);
    EXPECT_FALSE(result.decision->writes);
  }
  // No preference: where the transaction ran last.
  EXPECT_EQ(s.node_for("FETCH 1 FROM c"), k_s2);
  EXPECT_EQ(s.state.txn, TxnMode::until_write);
  EXPECT_FALSE(s.state.txn_written);
}

TEST(Transactions, TheFirstWriteMovesTheTransactionToThePrimaryForGood) {
  Session s;
  s.run("BEGIN", 'T');
  EXPECT_EQ(s.run("SELECT 1", 'T', k_to_s1).node, k_s1);
  const auto write = s.run("INSERT INTO t VALUES (1)", 'T', k_to_s1);
  EXPECT_EQ(write.node, k_primary);
  EXPECT_FALSE(write.writes) << "not visible to anyone before the commit";
  EXPECT_TRUE(s.state.txn_written);
  for (const char* sql : {"SELECT 1", "SHOW x", "SELECT 2", "SET LOCAL x = 1"}) {
    EXPECT_EQ(s.run(sql, 'T', k_to_s1).node, k_primary) << sql;
  }
  const auto commit = s.plan("COMMIT", k_to_s1);
  ASSERT_TRUE(commit.decision);
  EXPECT_EQ(commit.decision->node, k_primary);
  EXPECT_TRUE(commit.decision->writes);
  EXPECT_EQ(s.state.txn, TxnMode::none);
}

TEST(Transactions, BeginWithAWriteInTheSameUnitStaysOnThePrimary) {
  Session s;
  const auto begin = s.run("BEGIN; INSERT INTO t VALUES (1)", 'T', k_to_s1);
  EXPECT_EQ(begin.node, k_primary);
  EXPECT_FALSE(begin.writes);
  EXPECT_EQ(s.state.txn_home, k_primary);
  EXPECT_EQ(s.run("SELECT 1", 'T', k_to_s1).node, k_primary);
}

struct SavepointCase {
  const char* name;
  std::vector<const char*> before;  // after BEGIN, before the savepoint
  const char* savepoint;
};

class Savepoints : public testing::TestWithParam<SavepointCase> {};

TEST_P(Savepoints, KeepTheTransactionOnThePrimary) {
  const auto& c = GetParam();
  Session s;
  s.run("BEGIN", 'T');
  for (const char* sql : c.before) s.run(sql, 'T', k_to_s1);
  EXPECT_EQ(s.run(c.savepoint, 'T', k_to_s1).node, k_primary);
  EXPECT_EQ(s.run("SELECT 1", 'T', k_to_s1).node, k_primary);
  EXPECT_EQ(s.run("ROLLBACK TO SAVEPOINT a", 'T', k_to_s1).node, k_primary);
  EXPECT_EQ(s.run("SELECT 2", 'T', k_to_s2).node, k_primary);
}

INSTANTIATE_TEST_SUITE_P(
    RoutePlanner, Savepoints,
    testing::Values(SavepointCase{"first", {}, "SAVEPOINT a"},
                    SavepointCase{"after_side_reads", {"SELECT 1", "SELECT 2"}, "SAVEPOINT a"},
                    SavepointCase{"lowercase", {"SELECT 1"}, "savepoint a"}),
    [](const testing::TestParamInfo<SavepointCase>& row) { return std::string(row.param.name); });

class ReadOnlyTransaction : public testing::TestWithParam<const char*> {};

TEST_P(ReadOnlyTransaction, RunsWhollyOnOneStandby) {
  Session s;
  const auto begin = s.run(GetParam(), 'T', k_to_s2);
  EXPECT_EQ(begin.node, k_s2);
  EXPECT_FALSE(begin.open_side_transaction);
  EXPECT_EQ(s.state.txn, TxnMode::read_only_standby);
  EXPECT_EQ(s.state.txn_home, k_s2);
  for (const char* sql : {"SELECT 1", "SHOW x", "SET LOCAL x = 1", "SELECT 2"}) {
    const auto d = s.run(sql, 'T', k_to_s1);
    EXPECT_EQ(d.node, k_s2) << sql;
    EXPECT_FALSE(d.open_side_transaction);
  }
  // A write in it goes there too (and the standby refuses it: the client asked for read only).
  EXPECT_EQ(s.node_for("INSERT INTO t VALUES (1)", k_to_s1), k_s2);
  EXPECT_EQ(s.node_for("COMMIT", k_to_s1), k_s2);
}

INSTANTIATE_TEST_SUITE_P(RoutePlanner, ReadOnlyTransaction,
                         testing::Values("BEGIN READ ONLY", "START TRANSACTION READ ONLY",
                                         "begin transaction read only",
                                         "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY",
                                         "BEGIN; SET TRANSACTION READ ONLY"));

TEST(Transactions, ReadOnlyTransactionWithoutAStandbyStaysOnThePrimary) {
  Session s;
  s.view.nodes[1].status = NodeStatus::down;
  s.view.nodes[2].status = NodeStatus::down;
  EXPECT_EQ(s.run("BEGIN READ ONLY", 'T', k_to_s1).node, k_primary);
  EXPECT_EQ(s.state.txn, TxnMode::primary_only);
  s.view.nodes[1].status = NodeStatus::up;
  EXPECT_EQ(s.run("SELECT 1", 'T', k_to_s1).node, k_primary);
}

struct WholeOnPrimaryCase {
  const char* begin;
  bool reads_in_transactions;
  TxnMode mode;
};

class WholeOnPrimary : public testing::TestWithParam<WholeOnPrimaryCase> {};

TEST_P(WholeOnPrimary, ReadsStayOnThePrimary) {
  const auto& c = GetParam();
  Session s;
  s.policy.reads_in_transactions = c.reads_in_transactions;
  EXPECT_EQ(s.run(c.begin, 'T', k_to_s1).node, k_primary);
  EXPECT_EQ(s.state.txn, c.mode);
  for (const double r : {0.0, k_to_s1, k_to_s2}) {
    const auto result = s.plan("SELECT 1", r);
    ASSERT_TRUE(result.decision);
    EXPECT_EQ(result.decision->node, k_primary);
    EXPECT_FALSE(result.decision->open_side_transaction);
  }
  EXPECT_FALSE(s.state.txn_side);
}

INSTANTIATE_TEST_SUITE_P(
    RoutePlanner, WholeOnPrimary,
    testing::Values(WholeOnPrimaryCase{"BEGIN ISOLATION LEVEL REPEATABLE READ", true, TxnMode::primary_only},
                    WholeOnPrimaryCase{"BEGIN ISOLATION LEVEL SERIALIZABLE", true, TxnMode::primary_only},
                    WholeOnPrimaryCase{"START TRANSACTION ISOLATION LEVEL SERIALIZABLE", true, TxnMode::primary_only},
                    WholeOnPrimaryCase{"BEGIN; SET TRANSACTION ISOLATION LEVEL REPEATABLE READ", true,
                                       TxnMode::primary_only},
                    WholeOnPrimaryCase{"BEGIN", false, TxnMode::primary_only},
                    WholeOnPrimaryCase{"START TRANSACTION", false, TxnMode::primary_only},
                    // READ WRITE is a primary statement: the transaction counts as written.
                    WholeOnPrimaryCase{"BEGIN READ WRITE", true, TxnMode::until_write}));

TEST(Transactions, ReadCommittedBeginStillUsesASideStandby) {
  Session s;
  s.run("BEGIN ISOLATION LEVEL READ COMMITTED", 'T');
  EXPECT_EQ(s.state.txn, TxnMode::until_write);
  EXPECT_EQ(s.run("SELECT 1", 'T', k_to_s1).node, k_s1);
}

// PostgreSQL refuses SERIALIZABLE on a hot standby ("cannot use serializable mode in a hot
// standby", 0A000), read only or not: such a transaction must run on the primary.
TEST(Transactions, SerializableReadOnlyRunsOnThePrimary) {
  Session s;
  const auto begin = s.run("BEGIN ISOLATION LEVEL SERIALIZABLE READ ONLY", 'T', k_to_s1);
  EXPECT_EQ(begin.node, k_primary);
}

class EndsTransaction : public testing::TestWithParam<const char*> {};

TEST_P(EndsTransaction, GoesHome) {
  Session s;
  s.run("BEGIN", 'T');
  EXPECT_EQ(s.run("SELECT 1", 'T', k_to_s2).node, k_s2);
  const auto end = s.plan(GetParam(), k_to_s2);
  ASSERT_TRUE(end.decision);
  EXPECT_EQ(end.decision->node, k_primary);
  EXPECT_FALSE(end.decision->writes) << "the transaction wrote nothing";
  EXPECT_EQ(s.state.txn, TxnMode::none);
}

INSTANTIATE_TEST_SUITE_P(RoutePlanner, EndsTransaction,
                         testing::Values("COMMIT", "ROLLBACK", "END", "ABORT", "commit work", "rollback transaction",
                                         "SELECT 1; COMMIT"));

TEST(Transactions, ASideReadWithoutAnEligibleStandbyStaysHome) {
  Session s;
  s.policy.reads.primary_reads = true;
  s.policy.reads.max_lag = 1s;
  s.view.nodes[1].lag = 2s;
  s.run("BEGIN", 'T');
  // node1 is over the lag limit: the side goes to node2 whatever the draw.
  const auto side = s.plan("SELECT 1", k_to_s1);
  ASSERT_TRUE(side.decision);
  EXPECT_EQ(side.decision->node, k_s2);
  EXPECT_TRUE(side.decision->open_side_transaction);

  Session none;
  none.view.nodes[1].status = NodeStatus::down;
  none.view.nodes[2].status = NodeStatus::down;
  none.run("BEGIN", 'T');
  const auto home = none.plan("SELECT 1", k_to_s1);
  ASSERT_TRUE(home.decision);
  EXPECT_EQ(home.decision->node, k_primary);
  EXPECT_FALSE(home.decision->open_side_transaction);
  EXPECT_FALSE(none.state.txn_side);
}

TEST(Transactions, ASideTransactionNeverUsesThePrimaryAsSide) {
  Session s;
  s.policy.reads.primary_reads = true;
  s.run("BEGIN", 'T');
  const auto result = s.plan("SELECT 1", 0.99);  // with the primary in the draw this would be it
  ASSERT_TRUE(result.decision);
  EXPECT_NE(result.decision->node, k_primary);
  EXPECT_TRUE(result.decision->open_side_transaction);
}

TEST(Transactions, AHomeThatIsGoneHasNoRoute) {
  Session s;
  s.run("BEGIN", 'T');
  s.view.nodes[0].status = NodeStatus::down;
  const auto result = s.plan("SELECT 1", k_to_s1);
  EXPECT_FALSE(result.decision);
  EXPECT_EQ(result.why, NoRoute::node_gone);
}

// --- Pins -----------------------------------------------------------------------------------

class Pins : public testing::TestWithParam<const char*> {};

TEST_P(Pins, ArePermanent) {
  Session s;
  ASSERT_TRUE(facts_of(GetParam()).pins_to_primary) << GetParam();
  EXPECT_EQ(s.run(GetParam(), 'I', k_to_s1).node, k_primary);
  EXPECT_TRUE(s.state.pinned);
  EXPECT_FALSE(s.state.pin_reason.empty());
  for (const double r : {0.0, k_to_s1, k_to_s2}) {
    const auto result = s.plan("SELECT 1", r);
    ASSERT_TRUE(result.decision);
    EXPECT_EQ(result.decision->node, k_primary);
    EXPECT_EQ(result.decision->reason, "session pinned to the primary");
  }
  // Transactions and read-only transactions too.
  EXPECT_EQ(s.run("BEGIN", 'T').node, k_primary);
  EXPECT_EQ(s.run("SELECT 1", 'T', k_to_s1).node, k_primary);
  EXPECT_EQ(s.run("COMMIT", 'I').node, k_primary);
  EXPECT_EQ(s.run("BEGIN READ ONLY", 'T', k_to_s1).node, k_primary);
  EXPECT_EQ(s.run("SELECT 1", 'T', k_to_s1).node, k_primary);
  EXPECT_EQ(s.run("COMMIT", 'I').node, k_primary);
  EXPECT_EQ(s.run("SELECT 1", 'I', k_to_s2).node, k_primary);
  EXPECT_TRUE(s.state.pinned);
}

INSTANTIATE_TEST_SUITE_P(RoutePlanner, Pins,
                         testing::Values("CREATE TEMP TABLE t (a int)", "CREATE TEMPORARY TABLE t (a int)",
                                         "LISTEN ch", "SELECT pg_advisory_lock(1)",
                                         "SELECT * INTO TEMP t FROM u"));

// A temporary table created inside a transaction block outlives it: the pin must stick.
TEST(Pins, APinInsideATransactionIsPermanent) {
  Session s;
  s.policy.read_your_writes = false;  // or the commit alone would keep the next read on the primary
  s.run("BEGIN", 'T');
  EXPECT_EQ(s.run("CREATE TEMP TABLE t (a int)", 'T', k_to_s1).node, k_primary);
  s.run("COMMIT", 'I');
  EXPECT_EQ(s.node_for("SELECT * FROM t", k_to_s1), k_primary);
  EXPECT_TRUE(s.state.pinned);
}

TEST(Pins, APinInTheSameUnitAsBeginAndCommitIsPermanent) {
  Session s;
  s.run("BEGIN; CREATE TEMP TABLE t (a int); COMMIT", 'I', k_to_s1);
  EXPECT_TRUE(s.state.pinned);
  EXPECT_EQ(s.node_for("SELECT * FROM t", k_to_s1), k_primary);
}

// --- Failed transactions -------------------------------------------------------------------

TEST(FailedTransaction, StaysOnTheSideWhereItFailedUntilTheEnd) {
  Session s;
  s.run("BEGIN", 'T');
  EXPECT_EQ(s.run("SELECT 1/0", 'E', k_to_s2).node, k_s2);
  EXPECT_TRUE(s.state.txn_failed);
  EXPECT_EQ(s.state.txn, TxnMode::until_write);
  for (const char* sql : {"SELECT 1", "INSERT INTO t VALUES (1)", "SHOW x", "SAVEPOINT a"}) {
    const auto result = s.plan(sql, k_to_s1);
    ASSERT_TRUE(result.decision) << sql;
    EXPECT_EQ(result.decision->node, k_s2) << sql;
    EXPECT_EQ(result.decision->reason, "failed transaction, where it failed") << sql;
    on_unit_finished(s.state, result.decision->node, 'E', true, result.decision->writes, true, at(0ms));
  }
  // The end goes home.
  EXPECT_EQ(s.run("ROLLBACK", 'I', k_to_s2).node, k_primary);
  EXPECT_EQ(s.state.txn, TxnMode::none);
  EXPECT_FALSE(s.state.txn_failed);
}

TEST(FailedTransaction, StaysOnThePrimaryWhereItFailed) {
  Session s;
  s.run("BEGIN", 'T');
  EXPECT_EQ(s.run("INSERT INTO t VALUES (1)", 'E').node, k_primary);
  EXPECT_EQ(s.run("SELECT 1", 'E', k_to_s2).node, k_primary);
  EXPECT_EQ(s.run("COMMIT", 'I', k_to_s2).node, k_primary);
  EXPECT_EQ(s.state.txn, TxnMode::none);
}

TEST(FailedTransaction, ARolledBackSavepointRecoversTheTransaction) {
  Session s;
  s.run("BEGIN", 'T');
  s.run("SAVEPOINT a", 'T');
  s.run("INSERT INTO t VALUES (1)", 'E');
  EXPECT_TRUE(s.state.txn_failed);
  EXPECT_EQ(s.run("ROLLBACK TO SAVEPOINT a", 'T').node, k_primary);
  EXPECT_FALSE(s.state.txn_failed) << "ReadyForQuery 'T' after 'E': the transaction is usable again";
  EXPECT_EQ(s.state.txn, TxnMode::until_write);
}

// --- Reconciliation from ReadyForQuery ------------------------------------------------------

TEST(Reconciliation, IdleClosesTheTransaction) {
  Session s;
  s.run("BEGIN", 'T');
  s.run("SELECT 1", 'T', k_to_s2);
  s.run("INSERT INTO t VALUES (1)", 'T');
  ASSERT_TRUE(s.state.txn_written);
  // The server says idle after a unit the classifier thought left the transaction open.
  on_unit_finished(s.state, k_primary, 'I', true, false, true, at(0ms));
  EXPECT_EQ(s.state.txn, TxnMode::none);
  EXPECT_FALSE(s.state.txn_home);
  EXPECT_FALSE(s.state.txn_written);
  EXPECT_FALSE(s.state.txn_failed);
  EXPECT_FALSE(s.state.txn_side) << "no side transaction outlives the client's transaction";
  EXPECT_TRUE(s.state.writes.pending()) << "the transaction wrote and the server is idle: it committed";
}

TEST(Reconciliation, AnUnexpectedTransactionIsKeptWhollyWhereItOpened) {
  Session s;
  const auto d = s.run("SELECT begins_a_transaction_somehow()", 'T', k_to_s1);
  EXPECT_EQ(d.node, k_s1);
  EXPECT_EQ(s.state.txn, TxnMode::primary_only);
  EXPECT_EQ(s.state.txn_home, k_s1);
  for (const double r : {0.0, k_to_s2}) EXPECT_EQ(s.run("SELECT 1", 'T', r).node, k_s1);
  EXPECT_EQ(s.run("COMMIT", 'I').node, k_s1);
  EXPECT_EQ(s.state.txn, TxnMode::none);
}

TEST(Reconciliation, AnUnexpectedTransactionAfterAWriteCountsAsWritten) {
  Session s;
  const auto d = s.run("INSERT INTO t VALUES (1)", 'T', k_to_s1);
  EXPECT_EQ(d.node, k_primary);
  EXPECT_EQ(s.state.txn, TxnMode::primary_only);
  EXPECT_TRUE(s.state.txn_written);
  EXPECT_FALSE(s.state.writes.pending()) << "not committed yet";
  const auto commit = s.run("COMMIT", 'I', 0.5, at(500ms));
  EXPECT_TRUE(commit.writes);
  EXPECT_TRUE(s.state.writes.pending());
}

TEST(Reconciliation, AFailureOutsideATransactionBlockIsKeptWhereItFailed) {
  Session s;
  s.run("SELECT weird()", 'E', k_to_s2);
  EXPECT_EQ(s.state.txn, TxnMode::primary_only);
  EXPECT_EQ(s.state.txn_home, k_s2);
  EXPECT_TRUE(s.state.txn_failed);
  EXPECT_EQ(s.node_for("SELECT 1", k_to_s1), k_s2);
  EXPECT_EQ(s.run("ROLLBACK", 'I').node, k_s2);
  EXPECT_EQ(s.state.txn, TxnMode::none);
}

struct NotLastCase {
  bool in_transaction;
  char status;
};

class NotLast : public testing::TestWithParam<NotLastCase> {};

TEST_P(NotLast, DoesNotOverrideTheTentativeState) {
  const auto& c = GetParam();
  Session s;
  if (c.in_transaction) s.run("BEGIN", 'T');
  const auto before = s.state.txn;
  const auto home = s.state.txn_home;
  const auto result = s.plan("SELECT 1", k_to_s1);
  ASSERT_TRUE(result.decision);
  on_unit_finished(s.state, result.decision->node, c.status, false, false, true, at(0ms));
  EXPECT_EQ(s.state.txn, before);
  EXPECT_EQ(s.state.txn_home, home);
  EXPECT_FALSE(s.state.txn_failed);
}

INSTANTIATE_TEST_SUITE_P(RoutePlanner, NotLast,
                         testing::Values(NotLastCase{false, 'T'}, NotLastCase{false, 'E'}, NotLastCase{true, 'I'},
                                         NotLastCase{true, 'E'}));

TEST(Reconciliation, APipelinedBeginIsNotUndoneByTheIdleOfAnEarlierUnit) {
  Session s;
  const auto read = s.plan("SELECT 1", k_to_s1);
  const auto begin = s.plan("BEGIN");
  ASSERT_TRUE(read.decision && begin.decision);
  EXPECT_EQ(s.state.txn, TxnMode::until_write);
  on_unit_finished(s.state, read.decision->node, 'I', false, false, true, at(0ms));
  EXPECT_EQ(s.state.txn, TxnMode::until_write);
  on_unit_finished(s.state, begin.decision->node, 'T', true, false, true, at(0ms));
  EXPECT_EQ(s.state.txn, TxnMode::until_write);
  EXPECT_EQ(s.state.txn_home, k_primary);
}

// --- Read-your-writes ------------------------------------------------------------------------

// The primary's probe at `t` saw WAL position `lsn`.
void primary_probed(ClusterView& v, std::chrono::milliseconds t, std::uint64_t lsn) {
  v.nodes[0].last_probe = at(t);
  v.nodes[0].current_lsn = lsn;
}

TEST(ReadYourWritesRouting, ReadsStayOnThePrimaryUntilAStandbyHasReplayedThePostCommitPosition) {
  Session s;
  const auto write = s.run("INSERT INTO t VALUES (1)", 'I', 0.5, at(500ms));
  EXPECT_TRUE(write.writes);
  EXPECT_EQ(s.state.unconfirmed_writes, 0u);
  EXPECT_TRUE(s.state.writes.pending());

  for (const double r : {0.0, k_to_s1, k_to_s2}) {
    const auto result = s.plan("SELECT 1", r);
    ASSERT_TRUE(result.decision);
    EXPECT_EQ(result.decision->node, k_primary);
    EXPECT_EQ(result.decision->reason, "read, no standby has the session's writes yet");
  }
  // A primary probe newer than the commit fixes the requirement: LSN 2000. node1 has it.
  primary_probed(s.view, 1000ms, 2000);
  s.view.nodes[1].replay_lsn = 2000;
  s.view.nodes[2].replay_lsn = 1999;
  for (const double r : {0.0, k_to_s1, k_to_s2}) EXPECT_EQ(s.node_for("SELECT 1", r), k_s1) << r;
  EXPECT_FALSE(s.state.writes.pending());
  EXPECT_EQ(s.state.writes.required_lsn(), 2000u);
  // node2 catches up.
  s.view.nodes[2].replay_lsn = 2000;
  EXPECT_EQ(s.node_for("SELECT 1", k_to_s2), k_s2);
}

class ProbeNotAfterTheCommit : public testing::TestWithParam<std::chrono::milliseconds> {};

TEST_P(ProbeNotAfterTheCommit, DoesNotResolveIt) {
  Session s;
  s.run("INSERT INTO t VALUES (1)", 'I', 0.5, at(500ms));
  primary_probed(s.view, GetParam(), 2000);
  s.view.nodes[1].replay_lsn = 5000;
  s.view.nodes[2].replay_lsn = 5000;
  EXPECT_EQ(s.node_for("SELECT 1", k_to_s1), k_primary);
  EXPECT_TRUE(s.state.writes.pending());
}

INSTANTIATE_TEST_SUITE_P(RoutePlanner, ProbeNotAfterTheCommit, testing::Values(0ms, 400ms, 500ms));

TEST(ReadYourWritesRouting, AFailedPrimaryProbeDoesNotResolveTheCommit) {
  Session s;
  s.run("INSERT INTO t VALUES (1)", 'I', 0.5, at(500ms));
  primary_probed(s.view, 1000ms, 2000);
  s.view.nodes[0].last_error = "timeout";
  EXPECT_EQ(s.node_for("SELECT 1", k_to_s1), k_primary);
}

TEST(ReadYourWritesRouting, WithPrimaryReadsThePendingSessionStillReadsFromThePrimary) {
  Session s;
  s.policy.reads.primary_reads = true;
  s.run("INSERT INTO t VALUES (1)", 'I', 0.5, at(500ms));
  for (const double r : {0.0, 0.5, 0.9}) EXPECT_EQ(s.node_for("SELECT 1", r), k_primary) << r;
}

TEST(ReadYourWritesRouting, ATransactionThatWroteCountsWhenItCommits) {
  Session s;
  s.run("BEGIN", 'T');
  EXPECT_FALSE(s.run("INSERT INTO t VALUES (1)", 'T').writes);
  EXPECT_FALSE(s.state.writes.pending());
  EXPECT_EQ(s.state.unconfirmed_writes, 0u);
  const auto commit = s.run("COMMIT", 'I', 0.5, at(500ms));
  EXPECT_TRUE(commit.writes);
  EXPECT_TRUE(s.state.writes.pending());
  EXPECT_EQ(s.node_for("SELECT 1", k_to_s1), k_primary);
}

TEST(ReadYourWritesRouting, ATransactionThatOnlyReadIsNoWrite) {
  Session s;
  s.run("BEGIN", 'T');
  s.run("SELECT 1", 'T', k_to_s1);
  EXPECT_FALSE(s.run("COMMIT", 'I', 0.5, at(500ms)).writes);
  EXPECT_FALSE(s.state.writes.pending());
  EXPECT_EQ(s.node_for("SELECT 1", k_to_s2), k_s2);
}

TEST(ReadYourWritesRouting, ASideStandbyMustHaveTheSessionsWrites) {
  Session s;
  s.run("INSERT INTO t VALUES (1)", 'I', 0.5, at(500ms));
  s.run("BEGIN", 'T');
  const auto read = s.plan("SELECT 1", k_to_s1);
  ASSERT_TRUE(read.decision);
  EXPECT_EQ(read.decision->node, k_primary);
  EXPECT_FALSE(read.decision->open_side_transaction);
  s.run("COMMIT", 'I');
  // Once node2 has the write, it may be the side.
  primary_probed(s.view, 1000ms, 2000);
  s.view.nodes[2].replay_lsn = 2000;
  s.run("BEGIN", 'T');
  const auto side = s.plan("SELECT 1", k_to_s1);
  ASSERT_TRUE(side.decision);
  EXPECT_EQ(side.decision->node, k_s2);
  EXPECT_TRUE(side.decision->open_side_transaction);
}

TEST(ReadYourWritesRouting, OffReadsGoToStandbysRightAfterAWrite) {
  Session s;
  s.policy.read_your_writes = false;
  s.run("INSERT INTO t VALUES (1)", 'I', 0.5, at(500ms));
  EXPECT_EQ(s.node_for("SELECT 1", k_to_s1), k_s1);
  // Even with the write still in flight.
  EXPECT_TRUE(s.plan("INSERT INTO t VALUES (2)").decision);
  EXPECT_EQ(s.node_for("SELECT 1", k_to_s2), k_s2);
}

TEST(ReadYourWritesRouting, AStandbyHintSkipsTheFreshnessRule) {
  Session s;
  s.run("INSERT INTO t VALUES (1)", 'I', 0.5, at(500ms));
  EXPECT_EQ(s.node_for("/*pgrouter:standby*/ SELECT 1", k_to_s2), k_s2);
  EXPECT_EQ(s.node_for("SELECT 1", k_to_s2), k_primary);
}

TEST(UnconfirmedWrites, AReadPlannedWhileAWriteIsInFlightGoesToThePrimary) {
  Session s;
  const auto write = s.plan("INSERT INTO t VALUES (1)");
  ASSERT_TRUE(write.decision);
  EXPECT_TRUE(write.decision->writes);
  EXPECT_EQ(s.state.unconfirmed_writes, 1u);
  const auto second = s.plan("UPDATE t SET a = 2");
  ASSERT_TRUE(second.decision);
  EXPECT_EQ(s.state.unconfirmed_writes, 2u);
  const auto read = s.plan("SELECT 1", k_to_s1);
  ASSERT_TRUE(read.decision);
  EXPECT_EQ(read.decision->node, k_primary);
  EXPECT_EQ(read.decision->reason, "read, the session's write is still in flight");
  // Answers come back in order; the reads stay on the primary (the commits are pending too).
  on_unit_finished(s.state, k_primary, 'I', false, true, true, at(500ms));
  EXPECT_EQ(s.state.unconfirmed_writes, 1u);
  on_unit_finished(s.state, k_primary, 'I', false, true, true, at(600ms));
  EXPECT_EQ(s.state.unconfirmed_writes, 0u);
  on_unit_finished(s.state, k_primary, 'I', true, false, true, at(700ms));
  EXPECT_EQ(s.state.unconfirmed_writes, 0u);
  EXPECT_TRUE(s.state.writes.pending());
  primary_probed(s.view, 1000ms, 3000);
  s.view.nodes[1].replay_lsn = 3000;
  EXPECT_EQ(s.node_for("SELECT 1", k_to_s2), k_s1);
}

TEST(UnconfirmedWrites, ACommitInFlightKeepsReadsOnThePrimary) {
  Session s;
  s.run("BEGIN", 'T');
  s.run("INSERT INTO t VALUES (1)", 'T');
  const auto commit = s.plan("COMMIT");
  ASSERT_TRUE(commit.decision);
  EXPECT_TRUE(commit.decision->writes);
  EXPECT_EQ(s.state.unconfirmed_writes, 1u);
  EXPECT_EQ(s.node_for("SELECT 1", k_to_s1), k_primary);
}

// Pipelined: a write, then a transaction whose first read would open a side transaction. No
// standby can have the write yet, so the read must not go to one.
TEST(UnconfirmedWrites, ASideReadPlannedWhileAWriteIsInFlightStaysOnThePrimary) {
  Session s;
  ASSERT_TRUE(s.plan("INSERT INTO t VALUES (1)").decision);
  ASSERT_TRUE(s.plan("BEGIN").decision);
  const auto read = s.plan("SELECT * FROM t", k_to_s1);
  ASSERT_TRUE(read.decision);
  EXPECT_EQ(read.decision->node, k_primary);
  EXPECT_FALSE(read.decision->open_side_transaction);
}

TEST(UnconfirmedWrites, AReadOnlyTransactionPlannedWhileAWriteIsInFlightStaysOnThePrimary) {
  Session s;
  ASSERT_TRUE(s.plan("INSERT INTO t VALUES (1)").decision);
  const auto begin = s.plan("BEGIN READ ONLY", k_to_s1);
  ASSERT_TRUE(begin.decision);
  EXPECT_EQ(begin.decision->node, k_primary);
  EXPECT_EQ(s.state.txn, TxnMode::primary_only);
}

// --- forget_node -----------------------------------------------------------------------------

TEST(ForgetNode, LosingTheSideFailsTheTransactionButKeepsItsHome) {
  Session s;
  s.run("BEGIN", 'T');
  EXPECT_EQ(s.run("SELECT 1", 'T', k_to_s2).node, k_s2);
  EXPECT_FALSE(forget_node(s.state, k_s2));
  EXPECT_FALSE(s.state.txn_side);
  EXPECT_TRUE(s.state.txn_failed);
  EXPECT_EQ(s.state.txn, TxnMode::until_write);
  EXPECT_EQ(s.state.txn_home, k_primary);
  s.view.nodes[2].status = NodeStatus::down;
  EXPECT_EQ(s.node_for("SELECT 1", k_to_s1), k_primary);
  EXPECT_EQ(s.run("ROLLBACK", 'I').node, k_primary);
  EXPECT_EQ(s.state.txn, TxnMode::none);
}

TEST(ForgetNode, LosingTheHomeLosesTheTransaction) {
  Session s;
  s.run("BEGIN", 'T');
  s.run("SELECT 1", 'T', k_to_s2);
  s.run("INSERT INTO t VALUES (1)", 'T');
  EXPECT_TRUE(forget_node(s.state, k_primary));
  EXPECT_EQ(s.state.txn, TxnMode::none);
  EXPECT_FALSE(s.state.txn_home);
  EXPECT_FALSE(s.state.txn_side);
  EXPECT_FALSE(s.state.txn_written);
  EXPECT_FALSE(s.state.txn_failed);
  EXPECT_FALSE(s.state.last_node);
}

TEST(ForgetNode, LosingAReadOnlyTransactionsStandbyLosesTheTransaction) {
  Session s;
  s.run("BEGIN READ ONLY", 'T', k_to_s1);
  EXPECT_TRUE(forget_node(s.state, k_s1));
  EXPECT_EQ(s.state.txn, TxnMode::none);
}

TEST(ForgetNode, LosingTheReaderOutsideATransactionLosesNothing) {
  Session s;
  s.policy.session_reader = true;
  s.run("SELECT 1", 'I', k_to_s1);
  EXPECT_FALSE(forget_node(s.state, k_s1));
  EXPECT_FALSE(s.state.session_reader);
  EXPECT_FALSE(s.state.last_node);
  EXPECT_FALSE(forget_node(s.state, k_s2));
  s.excluded = {false, true};
  EXPECT_EQ(s.node_for("SELECT 1", k_to_s1), k_s2);
  EXPECT_EQ(s.state.session_reader, k_s2);
}

TEST(ForgetNode, AnEndedTransactionsSideIsNoLongerInvolved) {
  Session s;
  s.run("BEGIN", 'T');
  s.run("SELECT 1", 'T', k_to_s2);
  s.run("COMMIT", 'I');
  EXPECT_FALSE(forget_node(s.state, k_s2));
  EXPECT_EQ(s.state.last_node, k_primary) << "the session last ran on the primary, not on the old side";
}

// --- Names ------------------------------------------------------------------------------------

TEST(RoutePlanner, NamesAreNotEmpty) {
  EXPECT_EQ(to_string(RouteKind::read), "read");
  EXPECT_EQ(to_string(RouteKind::write), "write");
  EXPECT_EQ(to_string(RouteKind::other), "other");
  for (const auto why : {NoRoute::no_primary, NoRoute::no_standby, NoRoute::node_gone}) {
    EXPECT_FALSE(describe(why).empty());
    EXPECT_NE(describe(why), "?");
  }
}

}  // namespace
}  // namespace pgr::proxy
