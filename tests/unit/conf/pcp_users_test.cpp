// The PCP users file (pcp.conf format): users, comments, and errors that never show a hash.
#include <gtest/gtest.h>

#include "conf/pcp_users.hpp"

namespace pgr::conf {
namespace {

TEST(PcpUsers, ReadsUsersAndSkipsComments) {
  const auto parsed = parse_pcp_users(
      "# pcp.conf\n\npgpool:E10ADC3949BA59ABBE56E057F20F883E\r\nops:5f4dcc3b5aa765d61d8327deb882cf99\n",
      "pcp.conf");
  EXPECT_TRUE(parsed.errors.empty());
  ASSERT_EQ(parsed.users.size(), 2u);
  EXPECT_EQ(parsed.users.at("pgpool"), "e10adc3949ba59abbe56e057f20f883e");
  EXPECT_EQ(parsed.users.at("ops"), "5f4dcc3b5aa765d61d8327deb882cf99");
}

TEST(PcpUsers, ErrorsNameTheLineAndHideTheSecret) {
  const auto parsed = parse_pcp_users("nocolon\nbob:secret123\n:e10adc3949ba59abbe56e057f20f883e\n"
                                      "a:e10adc3949ba59abbe56e057f20f883e\na:e10adc3949ba59abbe56e057f20f883e\n",
                                      "pcp.conf");
  ASSERT_EQ(parsed.errors.size(), 4u);
  EXPECT_EQ(parsed.errors[0].line, 1);
  EXPECT_EQ(parsed.errors[1].line, 2);
  EXPECT_EQ(parsed.errors[1].to_string().find("secret123"), std::string::npos);
  EXPECT_EQ(parsed.errors[2].line, 3);
  EXPECT_EQ(parsed.errors[3].line, 5);
  EXPECT_EQ(parsed.users.size(), 1u);
}

}  // namespace
}  // namespace pgr::conf
