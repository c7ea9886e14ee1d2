// Pool keys: the same node and startup parameters in any order share a pool; any difference
// (node, user, database, application_name, options) does not.
#include <gtest/gtest.h>

#include "proxy/backend_pool.hpp"

namespace pgr::proxy {
namespace {

TEST(PoolKey, OrderOfParametersDoesNotMatter) {
  const StartupParameters a{{"user", "app"}, {"database", "app"}, {"application_name", "x"}};
  const StartupParameters b{{"application_name", "x"}, {"database", "app"}, {"user", "app"}};
  EXPECT_EQ(pool_key(0, a), pool_key(0, b));
}

TEST(PoolKey, AnyDifferenceMakesAnotherPool) {
  const StartupParameters base{{"user", "app"}, {"database", "app"}};
  EXPECT_NE(pool_key(0, base), pool_key(1, base));
  EXPECT_NE(pool_key(0, base), pool_key(0, {{"user", "app"}, {"database", "other"}}));
  EXPECT_NE(pool_key(0, base), pool_key(0, {{"user", "bob"}, {"database", "app"}}));
  EXPECT_NE(pool_key(0, base), pool_key(0, {{"user", "app"}, {"database", "app"}, {"application_name", "psql"}}));
  EXPECT_NE(pool_key(0, base), pool_key(0, {{"user", "app"}, {"database", "app"}, {"options", "-c work_mem=8MB"}}));
}

TEST(PoolKey, SeparatorsCannotBeForged) {
  // A value cannot pretend to be two parameters: NUL cannot occur inside a startup value.
  EXPECT_NE(pool_key(0, {{"user", "a"}, {"database", "b"}}), pool_key(0, {{"user", "a=database"}, {"x", "b"}}));
  EXPECT_NE(pool_key(1, {{"user", "a"}}), pool_key(11, {{"user", "a"}}));
}

}  // namespace
}  // namespace pgr::proxy
