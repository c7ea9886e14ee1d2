// The per-thread reserve of CSPRNG bytes: no byte handed out twice across refills, draws of
// every size, bytes that look random, big draws that bypass the reserve, threads apart.
#include "protocol/secure_random.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <cstdint>
#include <set>
#include <thread>
#include <vector>

namespace pgr::protocol {
namespace {

TEST(SecureRandom, SmallDrawsNeverRepeatAcrossRefills) {
  // 20,000 eight-byte draws use the 512-byte reserve up some 300 times over. Two equal 64-bit
  // values by chance: about 1 in 10^11.
  std::set<std::uint64_t> seen;
  for (int i = 0; i < 20'000; ++i) {
    EXPECT_TRUE(seen.insert(secure_random_value<std::uint64_t>()).second) << "draw " << i << " repeated";
  }
}

TEST(SecureRandom, DrawsOfEverySizeLookUniform) {
  // Sizes 1..128 in turn, so draws often do not fit what is left in the reserve. Each byte
  // value is expected 800 times in 204,800 bytes (sd about 28): 500..1100 fails only if the
  // bytes are not random (all zeros, a stuck refill, one block handed out again and again).
  std::array<int, 256> counts{};
  std::size_t total = 0;
  std::vector<std::uint8_t> draw;
  for (int round = 0; total < 204'800; ++round) {
    draw.assign(static_cast<std::size_t>(round % 128 + 1), 0);
    secure_random(draw);
    for (const auto b : draw) ++counts[b];
    total += draw.size();
  }
  const auto [low, high] = std::minmax_element(counts.begin(), counts.end());
  EXPECT_GT(*low, 500 * static_cast<int>(total) / 204'800);
  EXPECT_LT(*high, 1100 * static_cast<int>(total) / 204'800);
}

TEST(SecureRandom, BigDrawsAndEmptyDraws) {
  std::vector<std::uint8_t> a(4096), b(4096);
  secure_random(a);
  secure_random(b);
  EXPECT_NE(a, b);
  EXPECT_GT(std::count(a.begin(), a.end(), 0), 0);     // some zeros, as 4096 random bytes have
  EXPECT_LT(std::count(a.begin(), a.end(), 0), 64);   // but not many (expected 16)
  std::vector<std::uint8_t> none;
  secure_random(none);  // no bytes asked, none taken; must not touch anything
  const auto after = secure_random_value<std::uint64_t>();
  EXPECT_NE(after, secure_random_value<std::uint64_t>());
}

TEST(SecureRandom, EachThreadDrawsItsOwnBytes) {
  std::vector<std::uint64_t> first(2000), second(2000);
  std::thread one([&] { for (auto& v : first) v = secure_random_value<std::uint64_t>(); });
  std::thread two([&] { for (auto& v : second) v = secure_random_value<std::uint64_t>(); });
  one.join();
  two.join();
  std::set<std::uint64_t> all(first.begin(), first.end());
  all.insert(second.begin(), second.end());
  EXPECT_EQ(all.size(), 4000u);
}

}  // namespace
}  // namespace pgr::protocol
