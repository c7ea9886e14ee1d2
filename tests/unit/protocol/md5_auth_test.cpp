// MD5 password method: stored hash, salted response and its check. Expected values were
// computed independently with Python's hashlib.
#include "protocol/md5_auth.hpp"

#include <gtest/gtest.h>

namespace pgr::protocol {
namespace {

constexpr std::string_view k_app_hash = "md5fe63fea7be31b0200b496d08bc6b517d";  // md5("appapp")

TEST(Md5Auth, HexDigest) {
  EXPECT_EQ(md5_hex(""), "d41d8cd98f00b204e9800998ecf8427e");
  EXPECT_EQ(md5_hex("appapp"), k_app_hash.substr(3));
}

TEST(Md5Auth, StoredHashIsPasswordThenUser) {
  EXPECT_EQ(md5_stored_hash("app", "app"), k_app_hash);
  EXPECT_NE(md5_stored_hash("ab", "c"), md5_stored_hash("a", "bc"));
  EXPECT_EQ(md5_stored_hash("b", "a"), "md5" + md5_hex("ab"));
}

TEST(Md5Auth, RecognisesStoredHashes) {
  EXPECT_TRUE(is_md5_stored_hash(k_app_hash));
  EXPECT_FALSE(is_md5_stored_hash("md5FE63FEA7BE31B0200B496D08BC6B517D"));
  EXPECT_FALSE(is_md5_stored_hash("md5fe63fea7be31b0200b496d08bc6b517"));
  EXPECT_FALSE(is_md5_stored_hash("sha256fe63fea7be31b0200b496d08bc6b"));
  EXPECT_FALSE(is_md5_stored_hash("md5fe63fea7be31b0200b496d08bc6b517g"));
  EXPECT_FALSE(is_md5_stored_hash("SCRAM-SHA-256$4096:abc"));
}

TEST(Md5Auth, ResponseForKnownSalts) {
  EXPECT_EQ(md5_response_from_hash(k_app_hash, {0x01, 0x02, 0x03, 0x04}),
            "md5c1007ebbc6ecc151a46d7e2af0f47b66");
  // A salt with a NUL and a high byte: the salt is raw bytes, not a string.
  EXPECT_EQ(md5_response_from_hash(k_app_hash, {0xde, 0xad, 0x00, 0xff}),
            "md51e74010d3b10576fbba149047297ddab");
}

TEST(Md5Auth, ChecksResponses) {
  const std::array<std::uint8_t, 4> salt{0x01, 0x02, 0x03, 0x04};
  EXPECT_TRUE(md5_check_response(k_app_hash, salt, "md5c1007ebbc6ecc151a46d7e2af0f47b66"));
  EXPECT_FALSE(md5_check_response(k_app_hash, salt, "md5c1007ebbc6ecc151a46d7e2af0f47b67"));
  EXPECT_FALSE(md5_check_response(k_app_hash, salt, "md5c1007ebbc6ecc151a46d7e2af0f47b6"));
  EXPECT_FALSE(md5_check_response(k_app_hash, salt, ""));
  EXPECT_FALSE(md5_check_response(k_app_hash, {0x01, 0x02, 0x03, 0x05},
                                  "md5c1007ebbc6ecc151a46d7e2af0f47b66"));
}

}  // namespace
}  // namespace pgr::protocol
