// The worker's epoll set of session sockets, on real loopback TCP connections: readiness
// reaches the watching session and nobody else, a closed socket's stale events reach no new
// owner, and a worker with nothing watched runs out of work (so it can stop).
#include <gtest/gtest.h>

#include <array>
#include <chrono>
#include <memory>
#include <vector>

#include "proxy/readiness_poller.hpp"
#include "proxy/socket_events.hpp"
#include "proxy/transport.hpp"

namespace pgr::proxy {
namespace {

using namespace std::chrono_literals;

// A connected pair on loopback: `near` is watched, `far` is the peer the test writes from.
struct Pair {
  Transport near;
  tcp::socket far;
};

Pair connect_pair(asio::io_context& io) {
  tcp::acceptor acceptor(io, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0));
  tcp::socket far(io);
  far.connect(acceptor.local_endpoint());
  tcp::socket near(io);
  acceptor.accept(near);
  near.non_blocking(true);
  return Pair{Transport(std::move(near)), std::move(far)};
}

// A session stand-in: sleeps on its Waker and counts the times it was resumed.
struct Sleeper {
  Sleeper(asio::io_context& io, ReadinessPoller& poller) : waker(io.get_executor(), poller) {}
  void start(asio::io_context& io) {
    asio::co_spawn(io, [this]() -> awaitable<void> {
      while (!stop) {
        if (waker.take_pending()) continue;  // a notify also leaves this set: see Waker
        co_await waker.sleep();
        ++wakeups;
      }
    }, asio::detached);
  }
  Waker waker;
  int wakeups = 0;
  bool stop = false;
};

void run_briefly(asio::io_context& io) {
  io.restart();
  io.run_for(50ms);
}

// A worker's io_context and poller, with one watched-to-be connection.
class ReadinessPollerTest : public ::testing::Test {
 protected:
  asio::io_context io;
  ReadinessPoller poller{io};
  Pair pair = connect_pair(io);

  // `session` goes to sleep watching pair.near for reading.
  std::shared_ptr<Readiness> start_reading(Sleeper& session) {
    session.start(io);
    auto ready = std::make_shared<Readiness>();
    session.waker.arm_read(pair.near, ready);
    run_briefly(io);
    return ready;
  }

  // `owner` watches pair.near, then hands it back as a pooled link's session does: detached,
  // still in the set.
  void watch_then_hand_back(Sleeper& owner) {
    start_reading(owner);
    error_code ec;
    pair.near.cancel(ec);
  }

  // The peer sends a byte: `session` is woken once more and finds the socket readable.
  void expect_a_byte_wakes(Sleeper& session, const Readiness& ready) {
    const int before = session.wakeups;
    asio::write(pair.far, asio::buffer("b", 1));
    run_briefly(io);
    EXPECT_TRUE(ready.readable);
    EXPECT_EQ(session.wakeups, before + 1);
  }
};

TEST_F(ReadinessPollerTest, BytesFromThePeerMakeTheSocketReadableAndWakeItsSession) {
  Sleeper session(io, poller);
  auto ready = start_reading(session);
  EXPECT_FALSE(ready->readable);
  EXPECT_TRUE(ready->writable);
  // Joining the set reports the socket writable, which its flag already said: no wake-up.
  EXPECT_EQ(session.wakeups, 0);

  expect_a_byte_wakes(session, *ready);
  // More bytes before the session read the first: it knows, and chose not to read yet.
  asio::write(pair.far, asio::buffer("R", 1));
  run_briefly(io);
  EXPECT_EQ(session.wakeups, 1);

  // Asking again while the flag is set costs nothing; after a read that drains the socket
  // the next bytes wake it again (edge-triggered, registered once).
  std::array<char, 16> sink{};
  error_code ec;
  EXPECT_EQ(pair.near.read_some(asio::buffer(sink), ec), 2u);
  ready->readable = false;
  session.waker.arm_read(pair.near, ready);
  asio::write(pair.far, asio::buffer("X", 1));
  run_briefly(io);
  EXPECT_TRUE(ready->readable);
  EXPECT_EQ(session.wakeups, 2);
  EXPECT_EQ(poller.attached(), 1u);
  session.stop = true;
  pair.near.unwatch();
  EXPECT_EQ(poller.attached(), 0u);
}

TEST_F(ReadinessPollerTest, BytesAlreadyWaitingAreReportedWhenTheWatchBegins) {
  asio::write(pair.far, asio::buffer("early", 5));
  Sleeper session(io, poller);
  session.start(io);
  auto ready = std::make_shared<Readiness>();
  run_briefly(io);
  session.waker.arm_read(pair.near, ready);
  run_briefly(io);
  EXPECT_TRUE(ready->readable);
  EXPECT_EQ(session.wakeups, 1);  // one batch: readable and writable together
  pair.near.unwatch();
}

// The hang-up comes in the same edge as the last bytes and no edge follows: a short read of
// those bytes must not put the session to sleep before it sees the end of the stream.
TEST_F(ReadinessPollerTest, APeerThatSendsAndHangsUpIsReadToTheEnd) {
  Sleeper session(io, poller);
  auto ready = start_reading(session);
  asio::write(pair.far, asio::buffer("last words", 10));
  pair.far.close();
  run_briefly(io);
  ASSERT_TRUE(ready->readable);
  EXPECT_TRUE(ready->peer_closed);

  StreamBuffer buffer(4096);
  error_code ec;
  EXPECT_EQ(read_available(pair.near, buffer, *ready, 1, 4096, ec), IoStatus::progress);
  EXPECT_EQ(buffer.end - buffer.begin, 10u);
  EXPECT_TRUE(ready->readable);  // short, but the end is still to be read
  EXPECT_EQ(read_available(pair.near, buffer, *ready, 1, 4096, ec), IoStatus::closed);
  pair.near.unwatch();
}

TEST_F(ReadinessPollerTest, ADetachedSocketWakesNobodyUntilItsNextOwnerWatchesIt) {
  Sleeper first(io, poller);
  Sleeper second(io, poller);
  first.start(io);
  second.start(io);
  auto first_ready = std::make_shared<Readiness>();
  first.waker.arm_read(pair.near, first_ready);
  run_briefly(io);

  error_code ec;
  pair.near.cancel(ec);  // back to the pool: detached, still registered
  EXPECT_EQ(poller.attached(), 0u);
  asio::write(pair.far, asio::buffer("a", 1));
  run_briefly(io);
  EXPECT_FALSE(first_ready->readable);
  EXPECT_EQ(first.wakeups, 0);

  // The next owner's watch has what came meanwhile reported to it (the socket is registered
  // again: its edge went to nobody); new bytes after that reach it, not the first owner.
  const auto registrations = poller.registrations();
  auto second_ready = std::make_shared<Readiness>();
  second.waker.arm_read(pair.near, second_ready);
  EXPECT_EQ(poller.registrations(), registrations + 1);
  run_briefly(io);
  EXPECT_TRUE(second_ready->readable);
  EXPECT_EQ(second.wakeups, 1);
  StreamBuffer buffer(4096);
  EXPECT_EQ(read_available(pair.near, buffer, *second_ready, 1, 4096, ec), IoStatus::progress);
  EXPECT_FALSE(second_ready->readable);
  second.waker.arm_read(pair.near, second_ready);
  expect_a_byte_wakes(second, *second_ready);
  EXPECT_FALSE(first_ready->readable);
  EXPECT_EQ(first.wakeups, 0);
  pair.near.unwatch();
}

// A pooled connection nothing happened to between owners goes to its next owner as it is, with
// no system call (with transaction pooling that is one per transaction); what comes after
// reaches the new owner.
TEST_F(ReadinessPollerTest, AQuietSocketChangesOwnersWithoutBeingRegisteredAgain) {
  Sleeper first(io, poller);
  watch_then_hand_back(first);
  run_briefly(io);

  Sleeper second(io, poller);
  const auto registrations = poller.registrations();
  auto ready = start_reading(second);
  EXPECT_EQ(poller.registrations(), registrations);
  EXPECT_FALSE(ready->readable);
  EXPECT_EQ(second.wakeups, 0);
  expect_a_byte_wakes(second, *ready);
  EXPECT_EQ(first.wakeups, 0);
  pair.near.unwatch();
}

// The server closes a pooled connection while nobody watches it (its hang-up edge is dropped):
// the next owner is told, reads the last bytes and still finds the end, instead of waiting for
// an edge that will not come.
TEST_F(ReadinessPollerTest, APooledSocketThatHungUpBetweenOwnersIsReadToTheEnd) {
  Sleeper first(io, poller);
  watch_then_hand_back(first);
  asio::write(pair.far, asio::buffer("bye", 3));
  pair.far.close();
  run_briefly(io);

  Sleeper second(io, poller);
  auto ready = start_reading(second);
  EXPECT_TRUE(ready->readable);
  EXPECT_TRUE(ready->peer_closed);
  EXPECT_EQ(second.wakeups, 1);
  StreamBuffer buffer(4096);
  error_code ec;
  EXPECT_EQ(read_available(pair.near, buffer, *ready, 1, 4096, ec), IoStatus::progress);
  EXPECT_EQ(buffer.end - buffer.begin, 3u);
  EXPECT_TRUE(ready->readable);
  EXPECT_EQ(read_available(pair.near, buffer, *ready, 1, 4096, ec), IoStatus::closed);
  pair.near.unwatch();
}

TEST_F(ReadinessPollerTest, AForgottenSlotsLateEventsDoNotReachItsNextUser) {
  auto& old_pair = pair;
  auto new_pair = connect_pair(io);
  Sleeper old_owner(io, poller);
  Sleeper new_owner(io, poller);
  old_owner.start(io);
  new_owner.start(io);
  auto old_ready = std::make_shared<Readiness>();
  const auto old_handle = poller.watch(0, old_pair.near.socket().native_handle(), old_ready, &old_owner.waker);
  ASSERT_NE(old_handle, 0u);
  run_briefly(io);

  // The old socket stays in the set (nobody closed it) but its slot is given up, then taken by
  // a new socket: the old socket's events carry the old generation and are dropped.
  poller.forget(old_handle);
  auto new_ready = std::make_shared<Readiness>();
  const auto new_handle = poller.watch(0, new_pair.near.socket().native_handle(), new_ready, &new_owner.waker);
  ASSERT_NE(new_handle, 0u);
  EXPECT_EQ(static_cast<std::uint32_t>(new_handle), static_cast<std::uint32_t>(old_handle));  // same slot
  EXPECT_NE(new_handle, old_handle);                                                           // new generation
  run_briefly(io);
  new_ready->writable = false;  // to see that the old socket's event sets nothing here
  asio::write(old_pair.far, asio::buffer("stale", 5));
  run_briefly(io);
  EXPECT_FALSE(new_ready->readable);
  EXPECT_FALSE(new_ready->writable);
  EXPECT_FALSE(old_ready->readable);
  EXPECT_EQ(new_owner.wakeups, 0);
  EXPECT_EQ(old_owner.wakeups, 0);

  asio::write(new_pair.far, asio::buffer("fresh", 5));
  run_briefly(io);
  EXPECT_TRUE(new_ready->readable);
  EXPECT_EQ(new_owner.wakeups, 1);
  poller.forget(new_handle);
}

TEST_F(ReadinessPollerTest, AFullSocketBecomesWritableWhenThePeerReads) {
  Sleeper session(io, poller);
  session.start(io);
  auto ready = std::make_shared<Readiness>();
  std::vector<char> chunk(64 * 1024, 'x');
  error_code ec;
  std::size_t written = 0;
  while (true) {
    const auto n = pair.near.write_some(asio::buffer(chunk), ec);
    if (ec == asio::error::would_block) break;
    ASSERT_FALSE(ec) << ec.message();
    written += n;
  }
  ready->writable = false;
  session.waker.arm_write(pair.near, ready);
  run_briefly(io);
  EXPECT_FALSE(ready->writable);

  std::vector<char> sink(written);
  asio::read(pair.far, asio::buffer(sink));
  run_briefly(io);
  EXPECT_TRUE(ready->writable);
  EXPECT_GE(session.wakeups, 1);
  pair.near.unwatch();
}

TEST_F(ReadinessPollerTest, AStoppingWorkerWithNothingWatchedRunsOutOfWork) {
  Sleeper session(io, poller);
  auto ready = std::make_shared<Readiness>();
  session.waker.arm_read(pair.near, ready);
  pair.near.unwatch();
  // A worker at work keeps the set's wait when its last session sleeps: no re-arm each time.
  io.restart();
  io.run_for(100ms);
  EXPECT_FALSE(io.stopped());
  // Once it stops, the wait goes with the last socket: run() returns by itself.
  poller.release_when_idle();
  io.restart();
  io.run_for(5s);
  EXPECT_TRUE(io.stopped());

  // Closing a watched socket gives up its slot the same way.
  session.waker.arm_read(pair.near, ready);
  EXPECT_EQ(poller.attached(), 1u);
  error_code ec;
  pair.near.close(ec);
  EXPECT_EQ(poller.attached(), 0u);
  io.restart();
  io.run_for(5s);
  EXPECT_TRUE(io.stopped());
}

// A Worker keeps its poller past its io_context (the sessions the io_context destroys forget
// their sockets in it): once closed, the poller holds nothing of the io_context.
TEST(ReadinessPoller, AClosedPollerOutlivesItsIoContext) {
  auto poller_holder = std::unique_ptr<ReadinessPoller>();
  {
    asio::io_context io;
    poller_holder = std::make_unique<ReadinessPoller>(io);
    auto pair = connect_pair(io);
    Sleeper session(io, *poller_holder);
    session.waker.arm_read(pair.near, std::make_shared<Readiness>());
    EXPECT_EQ(poller_holder->attached(), 1u);
    poller_holder->close();
    io.run_for(10ms);
    // The socket forgets its slot as it goes, after the set closed.
  }
  EXPECT_EQ(poller_holder->attached(), 0u);
  poller_holder.reset();
}

}  // namespace
}  // namespace pgr::proxy
