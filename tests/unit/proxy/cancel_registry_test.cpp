// CancelRegistry: keys are unique, only the exact (pid, secret) pair finds a target.
#include "proxy/cancel_registry.hpp"

#include <gtest/gtest.h>

#include <set>

namespace pgr::proxy {
namespace {

TEST(CancelRegistry, IssuedKeysAreUniqueAndPositive) {
  CancelRegistry registry;
  std::set<std::int32_t> pids;
  for (int i = 0; i < 1000; ++i) {
    const auto key = registry.issue_key();
    EXPECT_GT(key.process_id, 0);
    EXPECT_TRUE(pids.insert(key.process_id).second);
  }
}

TEST(CancelRegistry, FindsTargetOnlyWithTheRightSecret) {
  CancelRegistry registry;
  const auto key = registry.issue_key();
  EXPECT_FALSE(registry.find(key).has_value()) << "no target before the backend is known";
  registry.set_target(key, CancelTarget{"127.0.0.1", 5432, {4242, 77}});
  const auto found = registry.find(key);
  ASSERT_TRUE(found.has_value());
  EXPECT_EQ(found->backend_key.process_id, 4242);
  EXPECT_EQ(found->backend_key.secret_key, 77);
  EXPECT_FALSE(registry.find({key.process_id, key.secret_key ^ 1}).has_value());
  registry.release({key.process_id, key.secret_key ^ 1});  // a wrong secret releases nothing
  EXPECT_TRUE(registry.find(key).has_value());
  registry.release(key);
  EXPECT_FALSE(registry.find(key).has_value());
}

}  // namespace
}  // namespace pgr::proxy
