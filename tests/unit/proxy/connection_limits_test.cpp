// Per-user, per-database and pending-login counting: limits, wording, release on destruction.
#include "proxy/connection_limits.hpp"

#include <gtest/gtest.h>

namespace pgr::proxy {
namespace {

TEST(ConnectionLimits, UserAndDatabaseLimits) {
  ConnectionLimits limits;
  std::string refusal;
  auto a = limits.acquire("alice", "app", 2, 3, refusal);
  auto b = limits.acquire("alice", "app", 2, 3, refusal);
  ASSERT_TRUE(a && b);
  EXPECT_FALSE(limits.acquire("alice", "other", 2, 3, refusal));
  EXPECT_EQ(refusal, "too many connections for role \"alice\"");
  auto c = limits.acquire("bob", "app", 2, 3, refusal);
  ASSERT_TRUE(c);
  EXPECT_FALSE(limits.acquire("carol", "app", 2, 3, refusal));
  EXPECT_EQ(refusal, "too many connections for database \"app\"");
  EXPECT_EQ(limits.user_connections("alice"), 2);
  EXPECT_EQ(limits.db_connections("app"), 3);
  b.reset();
  EXPECT_EQ(limits.user_connections("alice"), 1);
  EXPECT_TRUE(limits.acquire("alice", "other", 2, 3, refusal));  // released at once
  EXPECT_EQ(limits.user_connections("alice"), 1);
}

TEST(ConnectionLimits, ZeroMeansNoLimit) {
  ConnectionLimits limits;
  std::string refusal;
  std::vector<ConnectionLimits::Lease> held;
  for (int i = 0; i < 100; ++i) held.push_back(*limits.acquire("u", "d", 0, 0, refusal));
  EXPECT_EQ(limits.user_connections("u"), 100);
  held.clear();
  EXPECT_EQ(limits.user_connections("u"), 0);
}

TEST(ConnectionLimits, PendingLogins) {
  ConnectionLimits limits;
  auto a = limits.begin_login(2);
  auto b = limits.begin_login(2);
  ASSERT_TRUE(a && b);
  EXPECT_FALSE(limits.begin_login(2));
  EXPECT_EQ(limits.pending_logins(), 2);
  a.reset();
  EXPECT_EQ(limits.pending_logins(), 1);
  auto moved = std::move(*b);
  b.reset();
  EXPECT_EQ(limits.pending_logins(), 1);  // the moved-from lease holds nothing
  EXPECT_TRUE(limits.begin_login(0));     // no limit
}

}  // namespace
}  // namespace pgr::proxy
