// parse_duration and parse_size: what is accepted and what each accepted text means.
#include <gtest/gtest.h>

#include "conf/config.hpp"

namespace pgr::conf {
namespace {

using std::chrono::milliseconds;

TEST(ParseDuration, ValidTable) {
  struct Case {
    const char* text;
    std::int64_t ms;
  };
  const Case cases[] = {
      {"0ms", 0},          {"0s", 0},
      {"1ms", 1},          {"250ms", 250},
      {"1s", 1'000},       {"1.5s", 1'500},
      {"0.001s", 1},       {"1.500s", 1'500},
      {"2m", 120'000},     {"1.5m", 90'000},
      {"1h", 3'600'000},   {"0.5h", 1'800'000},
      {"24h", 86'400'000}, {"1.000000000000s", 1'000},
      {"0010s", 10'000},   {"9223372036854775807ms", 9'223'372'036'854'775'807},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.text);
    const auto got = parse_duration(c.text);
    ASSERT_TRUE(got.has_value());
    EXPECT_EQ(got->count(), c.ms);
  }
}

TEST(ParseDuration, InvalidTable) {
  const char* const cases[] = {
      "",
      "s",
      "ms",
      "2",
      "-1s",
      "+1s",
      "1.5ms",
      "0.0001s",
      "1.s",
      ".5s",
      "1..5s",
      "1.5.5s",
      "2 s",
      " 2s",
      "2s ",
      "2S",
      "2sec",
      "2min",
      "2d",
      "1e3ms",
      "1_000ms",
      "2hs",
      "0x10s",
      "9223372036854775808ms",
      "99999999999999999999h",
      "2562047788015216h",
  };
  for (const char* text : cases) {
    EXPECT_FALSE(parse_duration(text).has_value()) << '"' << text << '"';
  }
}

TEST(ParseSize, ValidTable) {
  struct Case {
    const char* text;
    std::uint64_t bytes;
  };
  const Case cases[] = {
      {"0", 0},
      {"512", 512},
      {"512B", 512},
      {"1kB", 1024},
      {"64kB", 65'536},
      {"16MB", 16ULL << 20},
      {"1GB", 1ULL << 30},
      {"2TB", 2ULL << 40},
      {"18446744073709551615", UINT64_MAX},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.text);
    const auto got = parse_size(c.text);
    ASSERT_TRUE(got.has_value());
    EXPECT_EQ(*got, c.bytes);
  }
}

TEST(ParseSize, InvalidTable) {
  const char* const cases[] = {
      "",
      "B",
      "kB",
      "1kb",
      "1KB",
      "1mb",
      "1.5MB",
      "-1",
      "+1",
      "1 MB",
      " 1",
      "1 ",
      "1K",
      "1M",
      "1G",
      "1PB",
      "0x10",
      "18446744073709551616",
      "17179869184GB",
  };
  for (const char* text : cases) {
    EXPECT_FALSE(parse_size(text).has_value()) << '"' << text << '"';
  }
}

TEST(EnumSpelling, MatchesToml) {
  EXPECT_EQ(to_string(LogLevel::error), "error");
  EXPECT_EQ(to_string(LogLevel::warn), "warn");
  EXPECT_EQ(to_string(LogLevel::info), "info");
  EXPECT_EQ(to_string(LogLevel::debug), "debug");
  EXPECT_EQ(to_string(AuthMethod::trust), "trust");
  EXPECT_EQ(to_string(AuthMethod::md5), "md5");
  EXPECT_EQ(to_string(AuthMethod::scram_sha_256), "scram-sha-256");
}

TEST(ConfigErrorText, OmitsZeroLineAndEmptyKey) {
  EXPECT_EQ((ConfigError{"a.toml", 3, "proxy.workers", "bad"}).to_string(),
            "a.toml:3: proxy.workers: bad");
  EXPECT_EQ((ConfigError{"a.toml", 0, "backends", "missing"}).to_string(),
            "a.toml: backends: missing");
  EXPECT_EQ((ConfigError{"a.toml", 7, "", "invalid TOML"}).to_string(), "a.toml:7: invalid TOML");
}

}  // namespace
}  // namespace pgr::conf
