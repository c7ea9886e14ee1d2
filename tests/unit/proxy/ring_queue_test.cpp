// RingQueue: FIFO order across wrap-around and growth, what a popped slot keeps, and that a
// steady queue stops allocating.
#include "proxy/ring_queue.hpp"

#include <memory>
#include <string>
#include <vector>

#include <gtest/gtest.h>

namespace pgr::proxy {
namespace {

std::vector<int> contents(const RingQueue<int>& q) { return {q.begin(), q.end()}; }

TEST(RingQueue, NewQueueIsEmptyAndHoldsNoStorage) {
  RingQueue<int> q;
  EXPECT_TRUE(q.empty());
  EXPECT_EQ(q.size(), 0u);
  EXPECT_EQ(q.capacity(), 0u);
  EXPECT_EQ(q.begin(), q.end());
}

TEST(RingQueue, PopsInTheOrderPushed) {
  RingQueue<int> q;
  for (int i = 1; i <= 5; ++i) q.push_back(i);
  EXPECT_EQ(contents(q), (std::vector<int>{1, 2, 3, 4, 5}));
  EXPECT_EQ(q.front(), 1);
  EXPECT_EQ(q.back(), 5);
  q.pop_front();
  q.pop_front();
  EXPECT_EQ(q.front(), 3);
  EXPECT_EQ(q.size(), 3u);
}

TEST(RingQueue, KeepsOrderWhenItGrowsWhileWrappedAround) {
  RingQueue<int> q;
  for (int i = 0; i < 4; ++i) q.push_back(i);  // 4 slots, full
  q.pop_front();
  q.pop_front();
  q.push_back(4);
  q.push_back(5);  // wrapped: the back is in slots 0 and 1
  ASSERT_EQ(q.capacity(), 4u);
  q.push_back(6);  // grows with the front in the middle of the ring
  EXPECT_EQ(q.capacity(), 8u);
  EXPECT_EQ(contents(q), (std::vector<int>{2, 3, 4, 5, 6}));
  EXPECT_EQ(q[0], 2);
  EXPECT_EQ(q[4], 6);
}

TEST(RingQueue, PopBackDropsTheNewest) {
  RingQueue<int> q;
  q.push_back(1);
  q.push_back(2);
  q.push_back(3);
  q.pop_back();
  EXPECT_EQ(q.back(), 2);
  q.push_back(9);
  EXPECT_EQ(contents(q), (std::vector<int>{1, 2, 9}));
}

TEST(RingQueue, AQueueThatNeverHoldsMoreThanOneKeepsOneSlotForEver) {
  RingQueue<std::string> q;
  for (int i = 0; i < 1000; ++i) {
    q.push_back("unit " + std::to_string(i));
    EXPECT_EQ(q.front(), "unit " + std::to_string(i));
    q.pop_front();
  }
  EXPECT_TRUE(q.empty());
  EXPECT_EQ(q.capacity(), 1u);
}

TEST(RingQueue, APoppedElementIsGoneNotLeftInItsSlot) {
  RingQueue<std::shared_ptr<int>> q;
  auto first = std::make_shared<int>(1);
  auto last = std::make_shared<int>(2);
  const std::weak_ptr<int> first_seen = first;
  const std::weak_ptr<int> last_seen = last;
  q.push_back(std::move(first));
  q.push_back(std::move(last));
  q.pop_front();
  EXPECT_TRUE(first_seen.expired());
  q.pop_back();
  EXPECT_TRUE(last_seen.expired());
  EXPECT_EQ(q.capacity(), 2u);
}

TEST(RingQueue, ElementsCanBeChangedInPlace) {
  RingQueue<int> q;
  q.push_back(1);
  q.push_back(2);
  q.back() = 20;
  for (auto& v : q) v += 1;
  EXPECT_EQ(contents(q), (std::vector<int>{2, 21}));
}

}  // namespace
}  // namespace pgr::proxy
