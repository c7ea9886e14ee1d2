// The admin socket's request language: parse and format agree; bad input is a clear error.
#include <gtest/gtest.h>

#include "admin/control_request.hpp"

namespace pgr::admin {
namespace {

TEST(ControlRequest, RoundTrips) {
  for (const std::string_view line : {"list\n", "attach node1\n", "detach 2\n", "promote node1\n",
                                 "promote node1 switchover\n", "reload\n", "stop fast\n"}) {
    std::string error;
    const auto r = parse_control_request(line, error);
    ASSERT_TRUE(r) << line << ": " << error;
    EXPECT_EQ(format_control_request(*r), line);
  }
}

TEST(ControlRequest, BadInputSaysWhy) {
  std::string error;
  EXPECT_FALSE(parse_control_request("", error));
  EXPECT_EQ(error, "empty request");
  EXPECT_FALSE(parse_control_request("attach", error));
  EXPECT_EQ(error, "usage: attach NODE");
  EXPECT_FALSE(parse_control_request("promote n1 now", error));
  EXPECT_FALSE(parse_control_request("stop slowly", error));
  EXPECT_FALSE(parse_control_request("frobnicate", error));
  EXPECT_NE(error.find("unknown command"), std::string::npos);
  EXPECT_FALSE(parse_control_request(std::string(2000, 'x'), error));
}

}  // namespace
}  // namespace pgr::admin
