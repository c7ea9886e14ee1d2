// BufferCache: what it keeps, what it frees, and in which order it lends.
#include "proxy/buffer_cache.hpp"

#include <gtest/gtest.h>

namespace pgr::proxy {
namespace {

protocol::byte_buffer sized(std::size_t n, std::uint8_t mark) { return protocol::byte_buffer(n, mark); }

TEST(BufferCache, EmptyCacheLendsANewBufferItWillTakeBack) {
  BufferCache cache(4, 16, 64);
  auto b = cache.take();
  EXPECT_EQ(b.size(), 0u);
  EXPECT_GE(b.capacity(), 16u);
  cache.give(b);
  EXPECT_EQ(cache.kept(), 1u);
}

TEST(BufferCache, GivenBufferComesBackWithItsStorageAndTheGiverIsLeftEmpty) {
  BufferCache cache(4, 16, 64);
  auto b = sized(32, 7);
  const auto* storage = b.data();
  cache.give(b);
  EXPECT_EQ(b.capacity(), 0u);
  EXPECT_EQ(cache.kept(), 1u);
  auto again = cache.take();
  EXPECT_EQ(again.data(), storage);
  EXPECT_EQ(again.size(), 32u);
  EXPECT_EQ(cache.kept(), 0u);
}

TEST(BufferCache, LendsTheMostRecentlyReturnedFirst) {
  BufferCache cache(4, 16, 64);
  auto a = sized(16, 1);
  auto b = sized(16, 2);
  cache.give(a);
  cache.give(b);
  EXPECT_EQ(cache.take()[0], 2);
  EXPECT_EQ(cache.take()[0], 1);
}

TEST(BufferCache, FreesBuffersOutsideItsSizeRangeOrBeyondItsCount) {
  BufferCache cache(2, 16, 64);
  auto small = sized(8, 1);
  auto large = sized(65, 1);
  cache.give(small);
  cache.give(large);
  EXPECT_EQ(cache.kept(), 0u);
  EXPECT_EQ(small.capacity(), 0u);
  EXPECT_EQ(large.capacity(), 0u);
  for (int i = 0; i < 3; ++i) {
    auto b = sized(16, 1);
    cache.give(b);
    EXPECT_EQ(b.capacity(), 0u);
  }
  EXPECT_EQ(cache.kept(), 2u);
}

TEST(BufferCache, KeepsAnEmptiedBufferByItsCapacity) {
  BufferCache cache(2, 16, 64);
  protocol::byte_buffer out;
  out.reserve(48);
  out.push_back(1);
  out.clear();
  cache.give(out);
  EXPECT_EQ(cache.kept(), 1u);
  EXPECT_GE(cache.take().capacity(), 48u);
}

}  // namespace
}  // namespace pgr::proxy
