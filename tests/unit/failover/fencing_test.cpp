// Rules for a returning node: fenced old and false primaries, foreign and newer-timeline
// nodes, diverged standbys, repointing, and auto_failback.
#include "failover/fencing.hpp"

#include <functional>
#include <string>

#include <gtest/gtest.h>

namespace pgr::failover {
namespace {

constexpr std::uint64_t sysid = 7310815242871858913u;

// node1 is the primary on timeline 3, which forked from 2 at 0/5000060.
ClusterFacts facts(bool auto_failback = false) {
  ClusterFacts f;
  f.primary = "node1";
  f.timeline = 3;
  f.system_identifier = sysid;
  f.history = *parse_timeline_history("1\t0/3000158\tx\n2\t0/5000060\ty\n", 3).history;
  f.auto_failback = auto_failback;
  return f;
}

NodeReport standby(std::string name, AttachState recorded, std::uint32_t timeline,
                   protocol::lsn_t replay, std::string status = "",
                   std::optional<std::string> upstream = std::nullopt) {
  NodeReport r;
  r.name = std::move(name);
  r.recorded = recorded;
  r.in_recovery = true;
  r.system_identifier = sysid;
  r.timeline = timeline;
  r.replay_lsn = replay;
  r.wal_receiver_status = std::move(status);
  r.upstream = std::move(upstream);
  return r;
}

NodeReport writable(std::string name, AttachState recorded, std::uint32_t timeline) {
  NodeReport r = standby(std::move(name), recorded, timeline, 0x6000000);
  r.in_recovery = false;
  return r;
}

NodeReport streaming(std::string name, AttachState recorded, std::uint32_t timeline,
                     protocol::lsn_t replay = 0x6000000, std::string upstream = "node1") {
  return standby(std::move(name), recorded, timeline, replay, "streaming", std::move(upstream));
}

TEST(Fencing, Rules) {
  using V = ReturnVerdict;
  using S = AttachState;
  struct Case {
    const char* name;
    ClusterFacts facts;
    NodeReport node;
    V verdict;
    S next;
    std::string_view reason_part;
  };
  NodeReport foreign = streaming("node2", S::attached, 3);
  foreign.system_identifier = 1;
  NodeReport no_sysid = streaming("node2", S::fenced, 3);
  no_sysid.system_identifier.reset();
  ClusterFacts no_history = facts();
  no_history.history.reset();
  ClusterFacts no_primary = facts();
  no_primary.primary.reset();
  ClusterFacts forked = facts();  // timeline 3 forked straight from 1
  forked.history = *parse_timeline_history("1\t0/3000158\tx\n", 3).history;
  ClusterFacts unknown_cluster = facts();
  unknown_cluster.system_identifier.reset();

  const Case cases[] = {
      {"foreign cluster", facts(true), foreign, V::fence, S::fenced, "not the cluster's"},
      {"identity not known yet", facts(true), no_sysid, V::keep, S::fenced, "not known yet"},
      {"cluster identity unknown: no check", unknown_cluster, foreign, V::attach, S::attached,
       "streams from node1"},
      {"the primary", facts(), writable("node1", S::attached, 3), V::attach, S::attached,
       "the primary"},
      {"the primary in recovery", facts(), streaming("node1", S::attached, 3), V::keep,
       S::attached, "in recovery"},
      {"old primary back as a primary", facts(true), writable("node0", S::fenced, 2), V::fence,
       S::fenced, "false primary"},
      {"false primary on the current timeline", facts(), writable("node2", S::attached, 3),
       V::fence, S::fenced, "false primary"},
      {"writable without a primary", no_primary, writable("node0", S::fenced, 2), V::keep,
       S::fenced, "no primary"},
      {"newer timeline", facts(true), streaming("node2", S::following, 4), V::fence, S::fenced,
       "newer"},
      {"detached by an operator", facts(true), streaming("node2", S::detached, 3), V::keep,
       S::detached, "operator"},
      {"following, streams from the primary", facts(), streaming("node2", S::following, 3),
       V::attach, S::attached, "streams from node1 on timeline 3"},
      {"following, cascades from another", facts(),
       streaming("node2", S::following, 3, 0x6000000, "node3"), V::keep, S::following,
       "upstream node3"},
      {"following, receiver starting", facts(),
       standby("node2", S::following, 3, 0x6000000, "startup", "node1"), V::keep, S::following,
       "WAL receiver startup"},
      {"following, no receiver", facts(), standby("node2", S::following, 3, 0x6000000), V::keep,
       S::following, "WAL receiver none"},
      {"attached, receiver restarting", facts(), standby("node2", S::attached, 3, 0x6000000),
       V::keep, S::attached, "not streaming"},
      {"rewound old primary, auto_failback", facts(true), streaming("node0", S::fenced, 3),
       V::attach, S::attached, "streams from node1"},
      {"rewound old primary, no auto_failback", facts(false), streaming("node0", S::fenced, 3),
       V::keep, S::fenced, "auto_failback is off"},
      {"rewound diverged, auto_failback", facts(true), streaming("node2", S::diverged, 3),
       V::attach, S::attached, "streams"},
      {"old timeline before the switch", facts(), standby("node2", S::following, 2, 0x5000000),
       V::repoint, S::following, "repoint it to node1"},
      {"old timeline at the switch, was attached", facts(),
       standby("node2", S::attached, 2, 0x5000060, "streaming", "node0"), V::repoint,
       S::following, "switch point 0/5000060"},
      {"old timeline past the switch", facts(), standby("node2", S::following, 2, 0x5000061),
       V::diverge, S::diverged, "past the switch point"},
      {"old primary back as a standby, past the switch", facts(true),
       standby("node0", S::fenced, 2, 0x5100000), V::diverge, S::diverged, "pg_rewind"},
      {"old timeline, streaming from the primary", facts(),
       streaming("node2", S::following, 2, 0x5000000), V::keep, S::following,
       "switching timelines"},
      {"fenced, could follow, no auto_failback", facts(false),
       standby("node0", S::fenced, 2, 0x5000060), V::keep, S::fenced, "auto_failback is off"},
      {"fenced, could follow, auto_failback", facts(true),
       standby("node0", S::fenced, 2, 0x5000060), V::repoint, S::following, "repoint"},
      {"grandparent timeline", facts(), standby("node2", S::following, 1, 0x3000000),
       V::repoint, S::following, "timeline 1"},
      {"history unknown", no_history, standby("node2", S::following, 2, 0x5000000), V::keep,
       S::following, "unknown"},
      {"timeline not in the lineage", forked, standby("node2", S::following, 2, 0x4000000),
       V::diverge, S::diverged, "not in the history"},
      {"no primary to follow", no_primary, streaming("node2", S::following, 3), V::keep,
       S::following, "no primary"},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.name);
    const ReturnDecision d = judge_returning_node(c.facts, c.node);
    EXPECT_EQ(d.verdict, c.verdict) << to_string(d.verdict) << ": " << d.reason;
    EXPECT_EQ(d.next_state, c.next) << to_string(d.next_state);
    EXPECT_NE(d.reason.find(c.reason_part), std::string::npos) << d.reason;
    EXPECT_EQ(d.reason.rfind(c.node.name + ": ", 0), 0u) << d.reason;
  }
}

TEST(Fencing, VerdictNames) {
  EXPECT_EQ(to_string(ReturnVerdict::attach), "attach");
  EXPECT_EQ(to_string(ReturnVerdict::repoint), "repoint");
  EXPECT_EQ(to_string(ReturnVerdict::keep), "keep");
  EXPECT_EQ(to_string(ReturnVerdict::fence), "fence");
  EXPECT_EQ(to_string(ReturnVerdict::diverge), "diverge");
  for (const AttachState s : {AttachState::attached, AttachState::detached, AttachState::fenced,
                              AttachState::diverged, AttachState::following}) {
    EXPECT_EQ(parse_attach_state(to_string(s)), s);
  }
  EXPECT_FALSE(parse_attach_state("up"));
}

}  // namespace
}  // namespace pgr::failover
