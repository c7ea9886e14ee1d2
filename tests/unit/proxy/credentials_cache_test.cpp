#include "proxy/credentials_cache.hpp"

#include <gtest/gtest.h>

namespace pgr::proxy {
namespace {

BackendCredentials scram(std::uint8_t key_byte, std::string salt = "salt") {
  BackendCredentials c;
  protocol::ScramClientKeys keys;
  keys.client_key.fill(key_byte);
  keys.server_key.fill(static_cast<std::uint8_t>(key_byte + 1));
  keys.salt = std::move(salt);
  keys.iterations = 4096;
  c.scram_keys = keys;
  return c;
}

TEST(CredentialsCache, EqualCredentialsOfOneUserAreOneCopy) {
  CredentialsCache cache;
  auto a = cache.intern("app", scram(1));
  auto b = cache.intern("app", scram(1));
  EXPECT_EQ(a.get(), b.get());
  EXPECT_EQ(a->scram_keys->client_key[0], 1);
}

TEST(CredentialsCache, DifferentCredentialsOrUsersAreKeptApart) {
  CredentialsCache cache;
  auto a = cache.intern("app", scram(1));
  auto changed_password = cache.intern("app", scram(7));
  EXPECT_NE(a.get(), changed_password.get());
  EXPECT_EQ(a->scram_keys->client_key[0], 1);  // the older session keeps what it had
  EXPECT_EQ(changed_password->scram_keys->client_key[0], 7);
  auto other_salt = cache.intern("app", scram(7, "pepper"));
  EXPECT_NE(changed_password.get(), other_salt.get());

  BackendCredentials plain;
  plain.password = "secret";
  auto x = cache.intern("x", plain);
  auto y = cache.intern("y", plain);
  EXPECT_NE(x.get(), y.get());
  EXPECT_EQ(*x, *y);
}

TEST(CredentialsCache, EntriesGoWithTheirLastSession) {
  CredentialsCache cache;
  auto keep = cache.intern("kept", scram(3));
  for (int i = 0; i < 1000; ++i) cache.intern("gone" + std::to_string(i), scram(4));
  // Swept as the map grew: only a bounded number of dead entries remain.
  EXPECT_LT(cache.size(), 200u);
  EXPECT_EQ(cache.intern("kept", scram(3)).get(), keep.get());
}

}  // namespace
}  // namespace pgr::proxy
