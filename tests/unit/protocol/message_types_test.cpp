// The message tables: every protocol 3.0 type in each direction, its limits and fixed sizes.
#include "protocol/message_types.hpp"

#include <gtest/gtest.h>

#include <string>

namespace pgr::protocol {
namespace {

TEST(MessageTypes, FrontendSetIsComplete) {
  const std::string known = "BCDEFHPQSXcdfp";
  for (int c = 0; c < 256; ++c) {
    const char code = static_cast<char>(c);
    const auto* t = find_frontend_type(code);
    EXPECT_EQ(t != nullptr, known.find(code) != std::string::npos) << c;
    if (t != nullptr) {
      EXPECT_EQ(t->code, code);
      EXPECT_FALSE(t->name.empty());
    }
  }
}

TEST(MessageTypes, BackendSetIsComplete) {
  const std::string known = "123ACDEGHIKNRSTVWZcdnstv";
  for (int c = 0; c < 256; ++c) {
    const char code = static_cast<char>(c);
    const auto* t = find_backend_type(code);
    EXPECT_EQ(t != nullptr, known.find(code) != std::string::npos) << c;
    if (t != nullptr) {
      EXPECT_EQ(t->code, code);
    }
  }
}

TEST(MessageTypes, FrontendLimitsFollowTheServer) {
  for (char c : std::string("SHXc")) {
    EXPECT_EQ(find_frontend_type(c)->exact_length, 4u) << c;
  }
  for (char c : std::string("CDEfpSHXc")) {
    EXPECT_EQ(find_frontend_type(c)->max_length, k_small_message_limit) << c;
  }
  for (char c : std::string("BFPQd")) {
    EXPECT_EQ(find_frontend_type(c)->max_length, k_large_message_limit) << c;
    EXPECT_EQ(find_frontend_type(c)->exact_length, 0u) << c;
  }
  EXPECT_EQ(find_frontend_type(fe::query)->name, "Query");
}

TEST(MessageTypes, BackendFixedSizes) {
  EXPECT_EQ(find_backend_type(be::ready_for_query)->exact_length, 5u);
  EXPECT_EQ(find_backend_type(be::backend_key_data)->exact_length, 12u);
  for (char c : std::string("123Incs")) {
    EXPECT_EQ(find_backend_type(c)->exact_length, 4u) << c;
  }
  for (char c : std::string("ACDEGHNRSTVWdtv")) {
    EXPECT_EQ(find_backend_type(c)->exact_length, 0u) << c;
    EXPECT_EQ(find_backend_type(c)->max_length, k_large_message_limit) << c;
  }
  EXPECT_EQ(find_backend_type(be::data_row)->name, "DataRow");
}

TEST(MessageTypes, DirectionsDiffer) {
  EXPECT_EQ(find_frontend_type('Z'), nullptr);
  EXPECT_EQ(find_backend_type('Q'), nullptr);
  EXPECT_EQ(find_frontend_type('p')->code, fe::password);
  EXPECT_EQ(find_backend_type('p'), nullptr);
  EXPECT_EQ(find_frontend_type('\0'), nullptr);
  EXPECT_EQ(find_backend_type('\xff'), nullptr);
}

}  // namespace
}  // namespace pgr::protocol
