// The per-node connection budget: the limit holds, freed tickets go to the oldest waiter,
// cancelled waiters are skipped, a lowered limit is honoured, tickets return on destruction.
#include "proxy/pool_budget.hpp"

#include <gtest/gtest.h>

#include <optional>
#include <utility>
#include <vector>

namespace pgr::proxy {
namespace {

TEST(NodeBudget, TakesUpToTheLimitThenQueues) {
  NodeBudget budget;
  auto a = budget.take_or_wait(2, {});
  auto b = budget.take_or_wait(2, {});
  ASSERT_TRUE(a.ticket.held());
  ASSERT_TRUE(b.ticket.held());
  std::optional<PoolTicket> granted;
  auto c = budget.take_or_wait(2, [&](PoolTicket t) { granted = std::move(t); });
  EXPECT_FALSE(c.ticket.held());
  ASSERT_TRUE(c.wait);
  EXPECT_EQ(budget.held(), 2);
  EXPECT_EQ(budget.waiting(), 1);
  a.ticket.reset();  // the ticket passes to the waiter: still 2 held
  ASSERT_TRUE(granted);
  EXPECT_TRUE(granted->held());
  EXPECT_EQ(budget.held(), 2);
  EXPECT_EQ(budget.waiting(), 0);
  granted.reset();
  b.ticket.reset();
  EXPECT_EQ(budget.held(), 0);
}

TEST(NodeBudget, ZeroMeansNoLimit) {
  NodeBudget budget;
  std::vector<PoolTicket> tickets;
  for (int i = 0; i < 1000; ++i) {
    auto o = budget.take_or_wait(0, {});
    ASSERT_TRUE(o.ticket.held());
    tickets.push_back(std::move(o.ticket));
  }
  EXPECT_EQ(budget.held(), 1000);
  tickets.clear();
  EXPECT_EQ(budget.held(), 0);
}

TEST(NodeBudget, WaitersAreServedInOrderAndCancelledOnesSkipped) {
  NodeBudget budget;
  auto held = budget.take_or_wait(1, {});
  std::vector<int> order;
  std::optional<PoolTicket> t1;
  std::optional<PoolTicket> t3;
  auto w1 = budget.take_or_wait(1, [&](PoolTicket t) { order.push_back(1); t1 = std::move(t); });
  auto w2 = budget.take_or_wait(1, [&](PoolTicket) { order.push_back(2); });
  auto w3 = budget.take_or_wait(1, [&](PoolTicket t) { order.push_back(3); t3 = std::move(t); });
  EXPECT_TRUE(budget.cancel(*w2.wait));
  EXPECT_FALSE(budget.cancel(*w2.wait));  // already gone
  held.ticket.reset();
  ASSERT_EQ(order, std::vector<int>{1});
  t1.reset();  // w1 done: its ticket passes on to w3
  ASSERT_EQ(order, (std::vector<int>{1, 3}));
  EXPECT_EQ(budget.held(), 1);
  t3.reset();
  EXPECT_EQ(budget.held(), 0);
}

TEST(NodeBudget, NewcomersQueueBehindWaiters) {
  NodeBudget budget;
  auto held = budget.take_or_wait(1, {});
  std::optional<PoolTicket> first;
  auto w = budget.take_or_wait(1, [&](PoolTicket t) { first = std::move(t); });
  ASSERT_TRUE(w.wait);
  held.ticket.reset();
  ASSERT_TRUE(first);
  // A newcomer cannot overtake: the ticket is the waiter's.
  auto late = budget.take_or_wait(1, [](PoolTicket) {});
  EXPECT_FALSE(late.ticket.held());
  EXPECT_TRUE(budget.cancel(*late.wait));
}

TEST(NodeBudget, LoweredLimitIsHonouredAsTicketsReturn) {
  NodeBudget budget;
  auto a = budget.take_or_wait(3, {});
  auto b = budget.take_or_wait(3, {});
  auto c = budget.take_or_wait(3, {});
  budget.set_limit(1);
  bool granted = false;
  std::optional<PoolTicket> kept;
  auto w = budget.take_or_wait(1, [&](PoolTicket t) {
    granted = true;
    kept = std::move(t);
  });
  ASSERT_TRUE(w.wait);
  a.ticket.reset();  // 2 held, limit 1: not handed on
  EXPECT_FALSE(granted);
  b.ticket.reset();  // 1 held: still at the limit
  EXPECT_FALSE(granted);
  c.ticket.reset();  // 0 held: the waiter gets one
  EXPECT_TRUE(granted);
  EXPECT_EQ(budget.held(), 1);
}

TEST(NodeBudget, RaisedLimitLetsWaitersIn) {
  NodeBudget budget;
  auto a = budget.take_or_wait(1, {});
  int granted = 0;
  std::vector<PoolTicket> kept;
  auto w1 = budget.take_or_wait(1, [&](PoolTicket t) { ++granted; kept.push_back(std::move(t)); });
  auto w2 = budget.take_or_wait(1, [&](PoolTicket t) { ++granted; kept.push_back(std::move(t)); });
  budget.set_limit(3);
  EXPECT_EQ(granted, 2);
  EXPECT_EQ(budget.held(), 3);
}

TEST(NodeBudget, DroppedGrantReturnsTheTicket) {
  NodeBudget budget;
  auto a = budget.take_or_wait(1, {});
  auto w = budget.take_or_wait(1, [](PoolTicket) { /* the waiter is gone: dropped */ });
  a.ticket.reset();
  EXPECT_EQ(budget.held(), 0);
  EXPECT_EQ(budget.waiting(), 0);
}

TEST(PoolTicket, MoveTransfersOwnership) {
  NodeBudget budget;
  auto a = budget.take_or_wait(1, {});
  PoolTicket moved = std::move(a.ticket);
  EXPECT_FALSE(a.ticket.held());  // NOLINT(bugprone-use-after-move): checking the moved-from state
  EXPECT_TRUE(moved.held());
  PoolTicket other;
  other = std::move(moved);
  EXPECT_EQ(budget.held(), 1);
  other.reset();
  EXPECT_EQ(budget.held(), 0);
}

}  // namespace
}  // namespace pgr::proxy
