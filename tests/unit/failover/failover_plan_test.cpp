// The failover plan as event/action sequences: builtin and command happy paths, failures and
// timeouts, no candidate, manual mode, diverged standbys and rewind, deadlines, fencing of the
// old primary, and the order guarantees (no follow before a node accepts writes).
#include "failover/failover_plan.hpp"

#include <algorithm>
#include <functional>
#include <string>
#include <vector>

#include <gtest/gtest.h>

namespace pgr::failover {
namespace {

using namespace std::chrono_literals;
using A = ActionKind;

constexpr std::uint64_t sysid = 7310815242871858913u;
const TimePoint t0 = TimePoint{} + 1000s;
// Timeline 3's history: it forked from 2 at 0/5000060 (node1's received LSN).
const char* const history3 = "1\t0/3000158\tno recovery target specified\n"
                             "2\t0/5000060\tno recovery target specified\n";

PlanNode node(std::string name, std::string host, bool standby, protocol::lsn_t received) {
  PlanNode n;
  n.name = std::move(name);
  n.host = std::move(host);
  n.port = 5432;
  n.data_directory = "/pg/" + n.name;
  n.up = standby;
  n.standby = standby;
  n.system_identifier = sysid;
  n.timeline = 2;
  n.received_lsn = received;
  return n;
}

// node0 was the primary (timeline 2, last seen at 0/5000100); node1 has received the most.
PlanInputs inputs(FailoverMode mode = FailoverMode::builtin) {
  PlanInputs in;
  in.nodes = {node("node0", "10.0.0.10", false, 0), node("node1", "10.0.0.11", true, 0x5000060),
              node("node2", "10.0.0.12", true, 0x5000000), node("node3", "db 3", true, 0x4000000)};
  in.failed_primary = 0;
  in.failed = FailedPrimary{sysid, 2, 0x5000100};
  in.settings.mode = mode;
  return in;
}

// Feeds events 10 ms apart and keeps every action, so tests can check what never happened.
class Driver {
 public:
  explicit Driver(PlanInputs in) : plan_(std::move(in)) {}

  Action feed(const Event& e, std::chrono::milliseconds later = 10ms) {
    now_ += later;
    actions_.push_back(plan_.next(e, now_));
    return actions_.back();
  }
  // Feeds `e` and checks the action's kind and node.
  Action expect(const Event& e, ActionKind kind, std::optional<std::size_t> on = std::nullopt) {
    const Action a = feed(e);
    EXPECT_EQ(a.kind, kind) << to_string(a.kind) << " after " << to_string(e.kind) << ": "
                            << a.reason;
    if (on) {
      EXPECT_EQ(a.node, *on) << to_string(a.kind);
    }
    return a;
  }
  bool ever(ActionKind kind, std::size_t on) const {
    return std::any_of(actions_.begin(), actions_.end(),
                       [&](const Action& a) { return a.kind == kind && a.node == on; });
  }

  FailoverPlan& plan() { return plan_; }
  TimePoint now() const { return now_; }

 private:
  FailoverPlan plan_;
  TimePoint now_ = t0;
  std::vector<Action> actions_;
};

// down → fence node0 → promote node1 → node1 writable on timeline 3 → its history.
void promote_node1(Driver& d) {
  const Action fence = d.expect(Event::primary_confirmed_down(), A::fence, 0);
  EXPECT_NE(fence.reason.find("node1 is being promoted"), std::string::npos) << fence.reason;
  const Action promote = d.expect(Event::applied(), A::promote, 1);
  EXPECT_EQ(promote.timeout, 30s);
  EXPECT_EQ(promote.deadline, d.now() + 30s);
  const Action wait = d.expect(Event::promote_succeeded(), A::wait_for_writable, 1);
  EXPECT_FALSE(wait.any_node);
  const Action fetch =
      d.expect(Event::candidate_accepts_writes(1, 3), A::fetch_timeline_history, 1);
  EXPECT_EQ(fetch.timeline, 3u);
}

// probe → position → mark_following → repoint → ok, for a standby that can follow.
void follow(Driver& d, const Event& answering, std::size_t n, protocol::lsn_t replay) {
  d.expect(answering, A::probe_standby, n);
  d.expect(Event::standby_position(n, 2, replay), A::mark_following, n);
  const Action repoint = d.expect(Event::applied(), A::repoint, n);
  EXPECT_EQ(repoint.target, 1u);
}

TEST(FailoverPlan, BuiltinHappyPath) {
  Driver d(inputs());
  promote_node1(d);
  follow(d, Event::timeline_history(history3), 2, 0x5000000);
  follow(d, Event::repoint_succeeded(2), 3, 0x4000000);
  Action wait = d.expect(Event::repoint_succeeded(3), A::wait_for_streaming);
  EXPECT_EQ(wait.nodes, (std::vector<std::size_t>{2, 3}));
  const TimePoint deadline = wait.deadline;
  EXPECT_EQ(deadline, d.now() + 30s);

  d.expect(Event::standby_streaming(3, true, 3), A::attach, 3);
  wait = d.expect(Event::applied(), A::wait_for_streaming);
  EXPECT_EQ(wait.nodes, (std::vector<std::size_t>{2}));
  EXPECT_EQ(wait.deadline, deadline);  // one deadline for the whole wait
  // Still on the old timeline, or from someone else: keep waiting.
  d.expect(Event::standby_streaming(2, true, 2), A::wait_for_streaming);
  d.expect(Event::standby_streaming(2, false, 3), A::wait_for_streaming);
  d.expect(Event::standby_streaming(2, true, 3), A::attach, 2);
  const Action done = d.expect(Event::applied(), A::done);

  const FailoverOutcome& out = d.plan().outcome();
  EXPECT_TRUE(d.plan().finished());
  EXPECT_EQ(out.result, FailoverResult::promoted);
  EXPECT_EQ(out.new_primary, 1u);
  EXPECT_EQ(out.new_timeline, 3u);
  EXPECT_EQ(out.wal_bytes_possibly_lost, 0xa0u);
  ASSERT_EQ(out.standbys.size(), 2u);
  EXPECT_EQ(out.standbys[0].result, FollowResult::attached);
  EXPECT_EQ(out.standbys[1].result, FollowResult::attached);
  EXPECT_EQ(done.reason, out.summary);
  EXPECT_NE(out.summary.find("node1 promoted to primary on timeline 3 after"), std::string::npos)
      << out.summary;
  EXPECT_NE(out.summary.find("node0 fenced; node2 attached; node3 attached; up to 160 bytes"),
            std::string::npos)
      << out.summary;
  EXPECT_EQ(d.plan().ignored_events(), 0u);

  // Finished is final.
  EXPECT_EQ(d.feed(Event::primary_confirmed_down()).kind, A::done);
  EXPECT_EQ(d.plan().ignored_events(), 1u);
}

TEST(FailoverPlan, StepsRecordTimings) {
  Driver d(inputs());
  d.feed(Event::primary_confirmed_down());        // t0+10: fence
  d.feed(Event::applied(), 5ms);                   // t0+15: promote
  d.feed(Event::promote_succeeded(), 800ms);       // t0+815: wait_for_writable
  d.feed(Event::candidate_accepts_writes(1, 3), 200ms);
  const auto& steps = d.plan().steps();
  ASSERT_EQ(steps.size(), 4u);
  EXPECT_EQ(steps[0].kind, A::fence);
  EXPECT_EQ(steps[0].started, t0 + 10ms);
  EXPECT_EQ(steps[0].finished, t0 + 15ms);
  EXPECT_EQ(steps[1].kind, A::promote);
  EXPECT_EQ(steps[1].node, 1u);
  EXPECT_EQ(*steps[1].finished - steps[1].started, 800ms);
  EXPECT_EQ(steps[1].outcome, "ok");
  EXPECT_EQ(steps[2].outcome, "node1 accepts writes on timeline 3");
  EXPECT_FALSE(steps[3].finished);  // fetch_timeline_history still running
}

TEST(FailoverPlan, CommandModeSeed003) {
  PlanInputs in = inputs(FailoverMode::command);
  in.settings.failover_command = "/var/lib/postgresql/bin/failover.sh %d %M %m";
  Driver d(std::move(in));
  d.expect(Event::primary_confirmed_down(), A::fence, 0);
  const Action run = d.expect(Event::applied(), A::run_failover_command, 1);
  EXPECT_EQ(run.command, "/var/lib/postgresql/bin/failover.sh 0 0 1");
  EXPECT_EQ(run.timeout, 60s);
  EXPECT_EQ(run.deadline, d.now() + 60s);
  const Action wait = d.expect(Event::command_exited(0), A::wait_for_writable);
  EXPECT_TRUE(wait.any_node);
  EXPECT_EQ(wait.deadline, d.now() + 300s);
  // Seed 003's script always promotes its SLAVE1 whatever %m says: here node2.
  d.expect(Event::candidate_accepts_writes(2, 3), A::fetch_timeline_history, 2);
  d.expect(Event::timeline_history(history3), A::probe_standby, 1);
  d.expect(Event::standby_position(1, 2, 0x5000060), A::mark_following, 1);
  // No follow_primary_command: the script repoints; the plan waits for streaming.
  d.expect(Event::applied(), A::probe_standby, 3);
  d.expect(Event::standby_position(3, 2, 0x4000000), A::mark_following, 3);
  const Action streaming = d.expect(Event::applied(), A::wait_for_streaming);
  EXPECT_EQ(streaming.nodes, (std::vector<std::size_t>{1, 3}));
  d.expect(Event::standby_streaming(1, true, 3), A::attach, 1);
  d.expect(Event::applied(), A::wait_for_streaming);
  d.expect(Event::standby_streaming(3, true, 3), A::attach, 3);
  d.expect(Event::applied(), A::done);
  const FailoverOutcome& out = d.plan().outcome();
  EXPECT_EQ(out.new_primary, 2u);
  EXPECT_EQ(d.plan().chosen_candidate(), 1u);
  EXPECT_EQ(out.wal_bytes_possibly_lost, 0x100u);  // measured against node2, the real winner
  EXPECT_NE(out.summary.find("instead of node1"), std::string::npos) << out.summary;
  EXPECT_NE(out.summary.find("repointing left to failover_command"), std::string::npos);
}

TEST(FailoverPlan, CommandModeWithFollowCommand) {
  PlanInputs in = inputs(FailoverMode::command);
  in.settings.failover_command = "failover.sh %d %h %p %D %m %H %M %P %r %R %N %S";
  in.settings.follow_primary_command = "follow.sh %d %h %D %m %H";
  in.settings.command_timeout = 5s;
  Driver d(std::move(in));
  d.expect(Event::primary_confirmed_down(), A::fence, 0);
  EXPECT_EQ(d.expect(Event::applied(), A::run_failover_command).command,
            "failover.sh 0 10.0.0.10 5432 /pg/node0 1 10.0.0.11 0 0 5432 /pg/node1 10.0.0.10 5432");
  d.expect(Event::command_exited(0), A::wait_for_writable);
  d.expect(Event::candidate_accepts_writes(1, 3), A::fetch_timeline_history, 1);
  d.expect(Event::timeline_history(history3), A::probe_standby, 2);
  d.expect(Event::standby_position(2, 2, 0x5000000), A::mark_following, 2);
  const Action follow2 = d.expect(Event::applied(), A::run_follow_command, 2);
  EXPECT_EQ(follow2.command, "follow.sh 2 10.0.0.12 /pg/node2 1 10.0.0.11");
  EXPECT_EQ(follow2.deadline, d.now() + 5s);
  d.expect(Event::command_exited(0), A::probe_standby, 3);
  d.expect(Event::standby_position(3, 2, 0x4000000), A::mark_following, 3);
  const Action follow3 = d.expect(Event::applied(), A::run_follow_command, 3);
  EXPECT_EQ(follow3.command, "follow.sh 3 'db 3' /pg/node3 1 10.0.0.11");  // quoted host
  const Action wait = d.expect(Event::command_exited(2), A::wait_for_streaming);
  EXPECT_EQ(wait.nodes, (std::vector<std::size_t>{2}));  // node3's follow command failed
  d.expect(Event::standby_streaming(2, true, 3), A::attach, 2);
  d.expect(Event::applied(), A::done);
  const auto& standbys = d.plan().outcome().standbys;
  EXPECT_EQ(standbys[0].result, FollowResult::attached);
  EXPECT_EQ(standbys[1].result, FollowResult::repoint_failed);
  EXPECT_EQ(standbys[1].detail, "follow_primary_command exited with code 2");
}

TEST(FailoverPlan, CommandFailureAborts) {
  struct Case {
    const char* name;
    Event answer;
    std::string step_outcome;
  };
  const Case cases[] = {
      {"non-zero exit", Event::command_exited(1), "exited with code 1"},
      {"killed by a signal", Event::command_exited(137), "exited with code 137"},
      {"timeout", Event::command_timed_out(), "timed out after 60000 ms"},
      {"deadline", Event::deadline_passed(), "timed out after 60000 ms"},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.name);
    PlanInputs in = inputs(FailoverMode::command);
    in.settings.failover_command = "failover.sh %d %m";
    Driver d(std::move(in));
    d.expect(Event::primary_confirmed_down(), A::fence, 0);
    d.expect(Event::applied(), A::run_failover_command);
    const Action abort = d.expect(c.answer, A::abort);
    EXPECT_EQ(abort.reason.rfind("failover_command " + c.step_outcome + "; ", 0), 0u)
        << abort.reason;
    EXPECT_NE(abort.reason.find("pgrouter promoted no node and node0 stays fenced"),
              std::string::npos)
        << abort.reason;
    EXPECT_EQ(d.plan().outcome().result, FailoverResult::aborted);
    EXPECT_FALSE(d.plan().outcome().new_primary);
    EXPECT_FALSE(d.ever(A::wait_for_writable, 1));
    EXPECT_EQ(d.plan().steps().back().kind, A::abort);
    EXPECT_EQ(d.plan().steps()[1].outcome, c.step_outcome);
  }
}

TEST(FailoverPlan, BuiltinPromotionFailures) {
  {
    Driver d(inputs());
    d.expect(Event::primary_confirmed_down(), A::fence);
    d.expect(Event::applied(), A::promote, 1);
    const Action abort = d.expect(Event::promote_failed("pg_promote returned false"), A::abort);
    EXPECT_NE(abort.reason.find("pg_promote() on node1 failed: pg_promote returned false; "
                                "node1 may still finish promoting, node0 stays fenced"),
              std::string::npos)
        << abort.reason;
  }
  {
    Driver d(inputs());
    d.expect(Event::primary_confirmed_down(), A::fence);
    d.expect(Event::applied(), A::promote);
    const Action abort = d.expect(Event::deadline_passed(), A::abort);
    EXPECT_NE(abort.reason.find("failed: no answer within 30000 ms"), std::string::npos)
        << abort.reason;
  }
  {
    Driver d(inputs());
    d.expect(Event::primary_confirmed_down(), A::fence);
    d.expect(Event::applied(), A::promote);
    d.expect(Event::promote_succeeded(), A::wait_for_writable);
    const Action abort = d.expect(Event::deadline_passed(), A::abort);
    EXPECT_NE(abort.reason.find("no node accepted writes within 30000 ms"), std::string::npos);
  }
  {
    // Writable, but on the old timeline: not a promotion (a false primary?). Stop there.
    Driver d(inputs());
    d.expect(Event::primary_confirmed_down(), A::fence);
    d.expect(Event::applied(), A::promote);
    d.expect(Event::promote_succeeded(), A::wait_for_writable);
    const Action abort = d.expect(Event::candidate_accepts_writes(1, 2), A::abort);
    EXPECT_NE(abort.reason.find("not newer than the failed primary's timeline 2"),
              std::string::npos);
  }
}

TEST(FailoverPlan, NoEligibleCandidate) {
  struct Case {
    const char* name;
    std::function<void(PlanInputs&)> change;
    std::string_view reason_part;
  };
  const Case cases[] = {
      {"all too far behind", [](PlanInputs& in) { in.settings.max_lag_on_failover = 0x10; },
       "node1: 160 bytes behind (max 16)"},
      {"sync standby names exclude all",
       [](PlanInputs& in) { in.settings.sync_standby_names = std::vector<std::string>{"node9"}; },
       "node3: not a synchronous standby"},
      {"quorum of synchronous standbys incomplete",
       [](PlanInputs& in) {
         in.settings.sync_standby_names = std::vector<std::string>{"node1", "node2"};
         in.settings.sync_needed = 2;  // ANY 1 of node1, node2
         in.nodes[2].up = false;
       },
       "node1: only 1 of the 2 synchronous standbys"},
      {"every standby down",
       [](PlanInputs& in) {
         for (PlanNode& n : in.nodes) n.up = false;
       },
       "node2: not up"},
      {"no standbys at all", [](PlanInputs& in) { in.nodes.resize(1); }, "node0: not up"},
      {"command mode without a command",
       [](PlanInputs& in) { in.settings.mode = FailoverMode::command; },
       "failover_command is empty"},
      {"failed primary out of range", [](PlanInputs& in) { in.failed_primary = 9; },
       "not a configured node"},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.name);
    PlanInputs in = inputs();
    c.change(in);
    Driver d(std::move(in));
    const Action abort = d.expect(Event::primary_confirmed_down(), A::abort);
    EXPECT_NE(abort.reason.find(c.reason_part), std::string::npos) << abort.reason;
    // Nothing was promoted, so the old primary is not fenced: it stays the primary if it
    // comes back.
    EXPECT_EQ(d.plan().steps().size(), 1u);
    EXPECT_FALSE(d.plan().chosen_candidate());
  }
  PlanInputs lag = inputs();
  lag.settings.max_lag_on_failover = 0x100;  // node1 (160 bytes behind) qualifies
  Driver d(std::move(lag));
  d.expect(Event::primary_confirmed_down(), A::fence, 0);
  d.expect(Event::applied(), A::promote, 1);

  // ANY 1 of node2, node3, both up: the one that received more is promoted, never node1
  // (not synchronous), though it received the most.
  PlanInputs sync = inputs();
  sync.settings.sync_standby_names = std::vector<std::string>{"node2", "node3"};
  sync.settings.sync_needed = 2;
  Driver s(std::move(sync));
  s.expect(Event::primary_confirmed_down(), A::fence, 0);
  s.expect(Event::applied(), A::promote, 2);
}

TEST(FailoverPlan, ManualModeOnlyDetaches) {
  Driver d(inputs(FailoverMode::manual));
  const Action detach = d.expect(Event::primary_confirmed_down(), A::detach, 0);
  EXPECT_NE(detach.reason.find("manual"), std::string::npos);
  const Action done = d.expect(Event::applied(), A::done);
  EXPECT_EQ(d.plan().outcome().result, FailoverResult::manual);
  EXPECT_NE(done.reason.find("node0 detached after 10 ms; failover mode is manual"),
            std::string::npos)
      << done.reason;
  EXPECT_FALSE(d.ever(A::promote, 1));
}

TEST(FailoverPlan, DivergedStandbyWithRewind) {
  PlanInputs in = inputs();
  in.settings.rewind_command = "rewind.sh %d %D %H %r";
  Driver d(std::move(in));
  promote_node1(d);
  d.expect(Event::timeline_history(history3), A::probe_standby, 2);
  // node2 replayed past 0/5000060 (e.g. WAL it got from an archive): it cannot follow.
  const Action diverged = d.expect(Event::standby_position(2, 2, 0x5000100), A::mark_diverged, 2);
  EXPECT_EQ(diverged.switchpoint, 0x5000060u);
  EXPECT_NE(diverged.reason.find("past the switch point 0/5000060: needs pg_rewind"),
            std::string::npos)
      << diverged.reason;
  const Action rewind = d.expect(Event::applied(), A::run_rewind_command, 2);
  EXPECT_EQ(rewind.command, "rewind.sh 2 /pg/node2 10.0.0.11 5432");
  d.expect(Event::command_exited(0), A::probe_standby, 3);
  // node3 is on a timeline the new history does not know: diverged as well.
  d.expect(Event::standby_position(3, 7, 0x100), A::mark_diverged, 3);
  d.expect(Event::applied(), A::run_rewind_command, 3);
  const Action wait = d.expect(Event::command_exited(1), A::wait_for_streaming);
  EXPECT_EQ(wait.nodes, (std::vector<std::size_t>{2}));  // rewound: attached if it streams
  d.expect(Event::deadline_passed(), A::done);
  const auto& standbys = d.plan().outcome().standbys;
  EXPECT_EQ(standbys[0].result, FollowResult::diverged);
  EXPECT_NE(standbys[0].detail.find("rewind_command succeeded; not streaming"),
            std::string::npos)
      << standbys[0].detail;
  EXPECT_EQ(standbys[1].result, FollowResult::diverged);
  EXPECT_NE(standbys[1].detail.find(
                "not in the history of timeline 3; rewind_command exited with code 1"),
            std::string::npos)
      << standbys[1].detail;
  EXPECT_FALSE(d.ever(A::attach, 2));
  EXPECT_FALSE(d.ever(A::repoint, 2));
}

TEST(FailoverPlan, DivergedStandbyWithoutRewindCommand) {
  Driver d(inputs());
  promote_node1(d);
  d.expect(Event::timeline_history(history3), A::probe_standby, 2);
  d.expect(Event::standby_position(2, 2, 0x5000061), A::mark_diverged, 2);
  follow(d, Event::applied(), 3, 0x4000000);
  const Action wait = d.expect(Event::repoint_succeeded(3), A::wait_for_streaming);
  EXPECT_EQ(wait.nodes, (std::vector<std::size_t>{3}));
  d.expect(Event::standby_streaming(3, true, 3), A::attach, 3);
  d.expect(Event::applied(), A::done);
  EXPECT_FALSE(d.ever(A::run_rewind_command, 2));
}

TEST(FailoverPlan, StandbyThatNeverStreams) {
  Driver d(inputs());
  promote_node1(d);
  follow(d, Event::timeline_history(history3), 2, 0x5000000);
  follow(d, Event::repoint_succeeded(2), 3, 0x4000000);
  d.expect(Event::repoint_succeeded(3), A::wait_for_streaming);
  d.expect(Event::standby_streaming(2, true, 3), A::attach, 2);
  d.expect(Event::applied(), A::wait_for_streaming);
  const Action done = d.expect(Event::deadline_passed(), A::done);
  const auto& standbys = d.plan().outcome().standbys;
  EXPECT_EQ(standbys[0].result, FollowResult::attached);
  EXPECT_EQ(standbys[1].result, FollowResult::not_streaming);
  EXPECT_NE(done.reason.find("node3 not_streaming (not streaming from node1 within 30000 ms)"),
            std::string::npos)
      << done.reason;
  EXPECT_FALSE(d.ever(A::attach, 3));
}

TEST(FailoverPlan, UnreachableAndFailedStandbys) {
  PlanInputs in = inputs();
  in.nodes[3].up = false;  // down when failover starts: not probed at all
  Driver d(std::move(in));
  promote_node1(d);
  d.expect(Event::timeline_history(history3), A::probe_standby, 2);
  d.expect(Event::standby_unreachable(2, "connection refused"), A::mark_following, 2);
  const Action down = d.expect(Event::applied(), A::mark_following, 3);
  EXPECT_NE(down.reason.find("down during the failover"), std::string::npos);
  d.expect(Event::applied(), A::done);  // nothing to wait for
  const auto& standbys = d.plan().outcome().standbys;
  EXPECT_EQ(standbys[0].result, FollowResult::unreachable);
  EXPECT_EQ(standbys[0].detail, "connection refused");
  EXPECT_EQ(standbys[1].result, FollowResult::unreachable);
  EXPECT_FALSE(d.ever(A::probe_standby, 3));

  Driver r(inputs());
  promote_node1(r);
  r.expect(Event::timeline_history(history3), A::probe_standby, 2);
  r.expect(Event::standby_position(2, 2, 0x5000000), A::mark_following, 2);
  r.expect(Event::applied(), A::repoint, 2);
  r.expect(Event::repoint_failed(2, "permission denied to set parameter"), A::probe_standby, 3);
  EXPECT_EQ(r.plan().outcome().standbys[0].result, FollowResult::repoint_failed);
  EXPECT_EQ(r.plan().outcome().standbys[0].detail,
            "repoint failed: permission denied to set parameter");
  r.expect(Event::standby_position(3, 2, 0x4000000), A::mark_following, 3);
  r.expect(Event::applied(), A::repoint, 3);
  r.expect(Event::deadline_passed(), A::done);  // no one to wait for
  EXPECT_EQ(r.plan().outcome().standbys[1].detail, "repoint failed: no answer within 30000 ms");
}

TEST(FailoverPlan, HistoryProblemsLeaveStandbysFollowing) {
  struct Case {
    const char* name;
    Event answer;
    std::string_view detail_part;
  };
  const Case cases[] = {
      {"not fetched", Event::timeline_history_failed("no replication connection"),
       "unavailable: no replication connection"},
      {"corrupt", Event::timeline_history("x\t0/1\n"), "does not parse: line 1"},
      {"skips the failed timeline", Event::timeline_history("1\t0/3000158\tx\n"),
       "does not contain the failed primary's timeline 2"},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.name);
    PlanInputs in = inputs();
    in.settings.rewind_command = "rewind.sh %d";
    Driver d(std::move(in));
    promote_node1(d);
    d.expect(c.answer, A::mark_following, 2);
    d.expect(Event::applied(), A::mark_following, 3);
    d.expect(Event::applied(), A::done);
    for (const StandbyOutcome& s : d.plan().outcome().standbys) {
      EXPECT_EQ(s.result, FollowResult::no_history);
      EXPECT_NE(s.detail.find(c.detail_part), std::string::npos) << s.detail;
    }
    // Never a destructive rewind on a guess.
    EXPECT_FALSE(d.ever(A::mark_diverged, 2) || d.ever(A::mark_diverged, 3));
  }
}

TEST(FailoverPlan, OldPrimaryIsFencedAndNeverFollowed) {
  Driver d(inputs());
  const Action fence = d.expect(Event::primary_confirmed_down(), A::fence, 0);
  EXPECT_EQ(fence.reason, "primary failed; node1 is being promoted in its place");
  d.expect(Event::applied(), A::promote, 1);
  d.expect(Event::promote_succeeded(), A::wait_for_writable);
  // The old primary reporting writable is not the promotion being waited for.
  d.expect(Event::candidate_accepts_writes(0, 3), A::wait_for_writable);
  d.expect(Event::candidate_accepts_writes(1, 3), A::fetch_timeline_history);
  follow(d, Event::timeline_history(history3), 2, 0x5000000);
  follow(d, Event::repoint_succeeded(2), 3, 0x4000000);
  d.expect(Event::repoint_succeeded(3), A::wait_for_streaming);
  d.expect(Event::standby_streaming(0, true, 3), A::wait_for_streaming);  // not awaited
  for (const StandbyOutcome& s : d.plan().outcome().standbys) EXPECT_NE(s.node, 0u);
  for (const ActionKind kind : {A::attach, A::probe_standby, A::repoint, A::mark_following}) {
    EXPECT_FALSE(d.ever(kind, 0)) << to_string(kind);
  }
}

TEST(FailoverPlan, NeverFollowsBeforeWritable) {
  Driver d(inputs());
  d.expect(Event::primary_confirmed_down(), A::fence);
  d.expect(Event::applied(), A::promote);
  d.expect(Event::promote_succeeded(), A::wait_for_writable, 1);
  const Event early[] = {
      Event::timeline_history(history3),       Event::standby_position(2, 2, 0x5000000),
      Event::standby_streaming(2, true, 3),    Event::applied(),
      Event::repoint_succeeded(2),             Event::command_exited(0),
      Event::candidate_accepts_writes(2, 3),  // builtin: only the promoted node counts
      Event::candidate_accepts_writes(99, 3), Event::primary_confirmed_down(),
  };
  for (const Event& e : early) {
    SCOPED_TRACE(to_string(e.kind));
    EXPECT_EQ(d.feed(e).kind, A::wait_for_writable);
  }
  EXPECT_EQ(d.plan().ignored_events(), std::size(early));
  EXPECT_FALSE(d.plan().outcome().new_primary);
  d.expect(Event::candidate_accepts_writes(1, 3), A::fetch_timeline_history);
}

TEST(FailoverPlan, IgnoresStrayEvents) {
  Driver d(inputs());
  EXPECT_EQ(d.feed(Event::applied()).kind, A::idle);  // not started yet
  promote_node1(d);
  d.expect(Event::timeline_history(history3), A::probe_standby, 2);
  d.expect(Event::standby_position(3, 2, 0x4000000), A::probe_standby, 2);  // wrong node
  d.expect(Event::standby_unreachable(3, "x"), A::probe_standby, 2);
  d.expect(Event::standby_position(2, 2, 0x5000000), A::mark_following, 2);
  d.expect(Event::applied(), A::repoint, 2);
  d.expect(Event::repoint_succeeded(3), A::repoint, 2);  // wrong node
  EXPECT_EQ(d.plan().ignored_events(), 4u);
}

TEST(FailoverPlan, TemplateErrorsAbortOrSkip) {
  PlanInputs in = inputs(FailoverMode::command);
  in.settings.failover_command = "failover.sh $(echo %d)";
  Driver d(std::move(in));
  const Action abort = d.expect(Event::primary_confirmed_down(), A::abort);
  EXPECT_EQ(abort.reason.rfind("failover_command: at byte 19: %d: a placeholder inside", 0), 0u)
      << abort.reason;
  EXPECT_FALSE(d.ever(A::fence, 0));  // refused before anything was touched

  // A follow_primary_command that cannot be expanded for one standby (its data directory
  // holds a line break) leaves that standby following and goes on with the next.
  PlanInputs follow = inputs(FailoverMode::command);
  follow.settings.failover_command = "failover.sh %d %m";
  follow.settings.follow_primary_command = "follow.sh %d %D";
  follow.nodes[2].data_directory = "/pg/a\nb";
  Driver f(std::move(follow));
  f.expect(Event::primary_confirmed_down(), A::fence);
  f.expect(Event::applied(), A::run_failover_command);
  f.expect(Event::command_exited(0), A::wait_for_writable);
  f.expect(Event::candidate_accepts_writes(1, 3), A::fetch_timeline_history);
  f.expect(Event::timeline_history(history3), A::probe_standby, 2);
  f.expect(Event::standby_position(2, 2, 0x5000000), A::mark_following, 2);
  f.expect(Event::applied(), A::probe_standby, 3);
  const StandbyOutcome& skipped = f.plan().outcome().standbys[0];
  EXPECT_EQ(skipped.result, FollowResult::repoint_failed);
  EXPECT_NE(skipped.detail.find("follow_primary_command: at byte 13: the value of %D contains a "
                                "line break"),
            std::string::npos)
      << skipped.detail;
}

TEST(FailoverPlan, Names) {
  EXPECT_EQ(to_string(A::wait_for_streaming), "wait_for_streaming");
  EXPECT_EQ(to_string(EventKind::standby_position), "standby_position");
  EXPECT_EQ(to_string(FollowResult::no_history), "no_history");
  EXPECT_EQ(to_string(FailoverResult::aborted), "aborted");
  EXPECT_EQ(to_string(FailoverMode::command), "command");
}

}  // namespace
}  // namespace pgr::failover
