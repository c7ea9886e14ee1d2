// Timeline history files as PostgreSQL writes them, malformed ones, and the follow test.
#include "failover/timeline_history.hpp"

#include <gtest/gtest.h>

namespace pgr::failover {
namespace {

// What PostgreSQL 15 writes to pg_wal/00000003.history after two promotions.
constexpr std::string_view tli3 =
    "1\t0/3000158\tno recovery target specified\n"
    "\n"
    "2\t0/5000060\tno recovery target specified\n";

TEST(TimelineHistory, ParsesWhatPostgresWrites) {
  const auto r = parse_timeline_history(tli3, 3);
  ASSERT_TRUE(r.history) << r.error->to_string();
  EXPECT_FALSE(r.error);
  EXPECT_EQ(r.history->timeline, 3u);
  ASSERT_EQ(r.history->ancestors.size(), 2u);
  EXPECT_EQ(r.history->ancestors[0].timeline, 1u);
  EXPECT_EQ(r.history->ancestors[0].switchpoint, 0x3000158u);
  EXPECT_EQ(r.history->ancestors[0].reason, "no recovery target specified");
  EXPECT_EQ(r.history->ancestors[1].timeline, 2u);
  EXPECT_EQ(r.history->ancestors[1].switchpoint, 0x5000060u);
}

TEST(TimelineHistory, Accepted) {
  struct Case {
    const char* name;
    std::string_view content;
    std::uint32_t timeline;
    std::size_t entries;
    protocol::lsn_t last_switchpoint;
  };
  const Case cases[] = {
      {"timeline 1 has no file", "", 1, 0, 0},
      {"comments and blanks", "# a comment\n\n   \n  # indented comment\n1\t0/3000158\tx\n", 2, 1,
       0x3000158},
      {"no reason", "1\t0/3000158\n", 2, 1, 0x3000158},
      {"no final newline", "1\t0/3000158\tdone", 2, 1, 0x3000158},
      {"spaces as separators", "1 0/3000158   reason with spaces\n", 2, 1, 0x3000158},
      {"CRLF", "1\t0/3000158\tx\r\n", 2, 1, 0x3000158},
      {"skipped timelines", "1\t0/3000158\tx\n4\t1/A0\tafter a discarded fork\n", 7, 2,
       0x1000000A0},
      {"high switchpoint", "1\tFFFFFFFF/FFFFFFFF\tx\n", 2, 1, 0xFFFFFFFFFFFFFFFF},
      {"reason with tab", "1\t0/10\tbefore\t2024-01-01\n", 2, 1, 0x10},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.name);
    const auto r = parse_timeline_history(c.content, c.timeline);
    ASSERT_TRUE(r.history) << r.error->to_string();
    ASSERT_EQ(r.history->ancestors.size(), c.entries);
    if (c.entries > 0) {
      EXPECT_EQ(r.history->ancestors.back().switchpoint, c.last_switchpoint);
    }
  }
  EXPECT_EQ(parse_timeline_history("1\t0/10\tbefore\t2024-01-01\n", 2)
                .history->ancestors[0]
                .reason,
            "before\t2024-01-01");
}

TEST(TimelineHistory, RejectedWithLineNumbers) {
  struct Case {
    const char* name;
    std::string_view content;
    std::uint32_t timeline;
    int line;
    std::string_view problem_part;
  };
  const Case cases[] = {
      {"not a number", "x\t0/3000158\treason\n", 2, 1, "numeric timeline"},
      {"timeline zero", "0\t0/3000158\treason\n", 2, 1, "numeric timeline"},
      {"negative", "-1\t0/3000158\n", 2, 1, "numeric timeline"},
      {"missing switchpoint", "1\n", 2, 1, "switchpoint"},
      {"bad switchpoint", "# c\n1\t3000158\tr\n", 2, 2, "switchpoint"},
      {"switchpoint junk", "1\t0/30001G8\tr\n", 2, 1, "switchpoint"},
      {"not increasing", "1\t0/10\ta\n\n1\t0/20\tb\n", 3, 3, "increasing"},
      {"decreasing", "2\t0/10\ta\n1\t0/20\tb\n", 3, 2, "increasing"},
      {"parent not older", "1\t0/10\ta\n2\t0/20\tb\n", 2, 2, "not older"},
      {"overflow", "4294967296\t0/10\n", 5, 1, "numeric timeline"},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.name);
    const auto r = parse_timeline_history(c.content, c.timeline);
    EXPECT_FALSE(r.history);
    ASSERT_TRUE(r.error);
    EXPECT_EQ(r.error->line, c.line);
    EXPECT_NE(r.error->problem.find(c.problem_part), std::string::npos) << r.error->problem;
    EXPECT_EQ(r.error->to_string().rfind("line " + std::to_string(c.line) + ": ", 0), 0u);
  }
  const auto zero = parse_timeline_history("", 0);
  ASSERT_TRUE(zero.error);
  EXPECT_EQ(zero.error->line, 0);
  EXPECT_EQ(zero.error->to_string(), zero.error->problem);
}

TEST(TimelineHistory, CanFollow) {
  const auto history = *parse_timeline_history(tli3, 3).history;
  struct Case {
    const char* name;
    std::uint32_t standby_timeline;
    protocol::lsn_t replay;
    FollowVerdict verdict;
    std::optional<protocol::lsn_t> switchpoint;
  };
  const Case cases[] = {
      {"already on the new timeline", 3, 0x9000000, FollowVerdict::follows, std::nullopt},
      {"parent, behind the switch", 2, 0x5000000, FollowVerdict::follows, 0x5000060},
      {"parent, exactly at the switch", 2, 0x5000060, FollowVerdict::follows, 0x5000060},
      {"parent, one byte past", 2, 0x5000061, FollowVerdict::diverged, 0x5000060},
      {"grandparent, behind its switch", 1, 0x3000100, FollowVerdict::follows, 0x3000158},
      {"grandparent, past its switch", 1, 0x4000000, FollowVerdict::diverged, 0x3000158},
      {"newer than the history", 4, 0x1000, FollowVerdict::unknown_timeline, std::nullopt},
      {"not in the lineage", 0, 0x1000, FollowVerdict::unknown_timeline, std::nullopt},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.name);
    const auto check = check_follow(history, c.standby_timeline, c.replay);
    EXPECT_EQ(check.verdict, c.verdict) << to_string(check.verdict);
    EXPECT_EQ(check.switchpoint, c.switchpoint);
  }
}

TEST(TimelineHistory, ForkedLineageIsUnknown) {
  // Timeline 3 forked from 1; a standby still on the abandoned timeline 2 cannot follow it.
  const auto history = *parse_timeline_history("1\t0/3000158\tx\n", 3).history;
  EXPECT_EQ(check_follow(history, 2, 0x3000000).verdict, FollowVerdict::unknown_timeline);
  EXPECT_EQ(check_follow(history, 1, 0x3000000).verdict, FollowVerdict::follows);
}

}  // namespace
}  // namespace pgr::failover
