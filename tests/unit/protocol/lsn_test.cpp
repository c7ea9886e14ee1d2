// LSN text form: parsing PostgreSQL's "%X/%X" and formatting it back.
#include "protocol/lsn.hpp"

#include <gtest/gtest.h>

namespace pgr::protocol {
namespace {

TEST(Lsn, ParsesAndFormats) {
  EXPECT_EQ(parse_lsn("16/B374D848"), (lsn_t{0x16} << 32) | 0xB374D848u);
  EXPECT_EQ(parse_lsn("0/0"), lsn_t{0});
  EXPECT_EQ(parse_lsn("ffffffff/ffffffff"), ~lsn_t{0});
  EXPECT_EQ(format_lsn((lsn_t{0x16} << 32) | 0xB374D848u), "16/B374D848");
  EXPECT_EQ(format_lsn(0), "0/0");
  EXPECT_EQ(format_lsn(*parse_lsn("0/3000060")), "0/3000060");
}

TEST(Lsn, RejectsMalformedText) {
  for (const char* bad : {"", "/", "1/", "/1", "123456789/0", "0/123456789", "g/0", "0/0/0",
                          "0x1/0", " 1/0", "1/0 "}) {
    EXPECT_EQ(parse_lsn(bad), std::nullopt) << bad;
  }
}

}  // namespace
}  // namespace pgr::protocol
