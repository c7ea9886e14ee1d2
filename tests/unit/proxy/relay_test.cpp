// Relay over real loopback sockets: bytes pass unchanged in both directions, Terminate ends
// the session, a malformed length ends it with a protocol error, and a message larger than
// the relay's buffer streams through.
#include "proxy/relay.hpp"

#include <gtest/gtest.h>

#include <thread>

#include "protocol/messages.hpp"

namespace pgr::proxy {
namespace {

using protocol::byte_buffer;

struct SocketPair {
  tcp::socket near;
  tcp::socket far;
};

SocketPair make_pair(asio::io_context& io) {
  tcp::acceptor acceptor(io, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0));
  tcp::socket a(io);
  a.connect(acceptor.local_endpoint());
  tcp::socket b = acceptor.accept();
  return {std::move(a), std::move(b)};
}

class RelayTest : public ::testing::Test {
 protected:
  // client_app <-> client_side [relay] backend_side <-> backend_app
  asio::io_context io_;
  SocketPair client_ = make_pair(io_);
  SocketPair backend_ = make_pair(io_);
  StreamBuffer client_buffer_;
  StreamBuffer backend_buffer_;
  RelayStats stats_;
  std::optional<RelayOutcome> outcome_;

  void start_relay(std::uint32_t max_client_message = protocol::k_large_message_limit) {
    asio::co_spawn(io_, [this, max_client_message]() -> awaitable<void> {
      Relay relay(client_.far, client_buffer_, backend_.near, backend_buffer_, max_client_message, stats_);
      outcome_ = co_await relay.run();
    }, asio::detached);
  }

  // Runs the io_context until `done` or a time limit.
  template <typename Pred>
  void run_until(Pred done) {
    const auto limit = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    while (!done() && std::chrono::steady_clock::now() < limit) {
      io_.run_for(std::chrono::milliseconds(10));
      io_.restart();
    }
    ASSERT_TRUE(done()) << "timed out";
  }

  byte_buffer read_exactly(tcp::socket& s, std::size_t n) {
    byte_buffer got(n);
    std::size_t have = 0;
    run_until([&] {
      error_code ec;
      while (have < n) {
        s.non_blocking(true);
        const auto r = s.read_some(asio::buffer(got.data() + have, n - have), ec);
        if (ec) break;
        have += r;
      }
      return have == n;
    });
    return got;
  }
};

TEST_F(RelayTest, ForwardsBothWaysAndEndsOnTerminate) {
  start_relay();
  byte_buffer query;
  protocol::write_query(query, "SELECT 1");
  asio::write(client_.near, asio::buffer(query));
  EXPECT_EQ(read_exactly(backend_.far, query.size()), query);

  byte_buffer reply;
  protocol::write_command_complete(reply, "SELECT 1");
  protocol::write_ready_for_query(reply, 'T');
  asio::write(backend_.far, asio::buffer(reply));
  EXPECT_EQ(read_exactly(client_.near, reply.size()), reply);

  byte_buffer bye;
  protocol::write_terminate(bye);
  asio::write(client_.near, asio::buffer(bye));
  run_until([&] { return outcome_.has_value(); });
  EXPECT_EQ(outcome_->end, RelayEnd::client_terminated);
  EXPECT_EQ(read_exactly(backend_.far, bye.size()), bye) << "Terminate reaches the backend";
  EXPECT_EQ(stats_.transaction_status, 'T');
  EXPECT_EQ(stats_.client_bytes, query.size() + bye.size());
  EXPECT_EQ(stats_.backend_bytes, reply.size());
}

TEST_F(RelayTest, MessageSplitAcrossWritesArrivesWhole) {
  start_relay();
  byte_buffer query;
  protocol::write_query(query, "SELECT 'split across many writes'");
  for (std::size_t i = 0; i < query.size(); ++i) {
    asio::write(client_.near, asio::buffer(&query[i], 1));
    io_.run_for(std::chrono::milliseconds(1));
    io_.restart();
  }
  EXPECT_EQ(read_exactly(backend_.far, query.size()), query);
}

TEST_F(RelayTest, LengthBelowFourIsAProtocolErrorAndIsNotForwarded) {
  start_relay();
  byte_buffer good;
  protocol::write_query(good, "SELECT 1");
  const std::uint8_t bad[] = {'Q', 0, 0, 0, 3};
  asio::write(client_.near, asio::buffer(good));
  asio::write(client_.near, asio::buffer(bad));
  run_until([&] { return outcome_.has_value(); });
  EXPECT_EQ(outcome_->end, RelayEnd::client_protocol_error);
  EXPECT_EQ(outcome_->framing, protocol::FrameError::length_too_small);
  EXPECT_TRUE(outcome_->client_at_boundary);
  EXPECT_EQ(stats_.client_bytes, good.size()) << "only the valid message went through";
}

TEST_F(RelayTest, OversizedClientMessageIsRejected) {
  start_relay(/*max_client_message=*/1024);
  const std::uint8_t big[] = {'Q', 0, 0, 0x10, 0};  // declares 4096 bytes
  asio::write(client_.near, asio::buffer(big));
  run_until([&] { return outcome_.has_value(); });
  EXPECT_EQ(outcome_->end, RelayEnd::client_protocol_error);
  EXPECT_EQ(outcome_->framing, protocol::FrameError::length_too_large);
  EXPECT_EQ(stats_.client_bytes, 0u);
}

TEST_F(RelayTest, LargeDataRowStreamsThroughASmallBuffer) {
  start_relay();
  byte_buffer row;
  protocol::write_data_row(row, {std::string(1 << 20, 'x')});
  protocol::write_ready_for_query(row, 'I');
  std::thread writer([&] { asio::write(backend_.far, asio::buffer(row)); });
  const auto got = read_exactly(client_.near, row.size());
  writer.join();
  EXPECT_EQ(got, row);
  EXPECT_EQ(stats_.transaction_status, 'I');
}

TEST_F(RelayTest, BackendEofEndsTheRelay) {
  start_relay();
  backend_.far.close();
  run_until([&] { return outcome_.has_value(); });
  EXPECT_EQ(outcome_->end, RelayEnd::backend_closed);
  EXPECT_TRUE(outcome_->client_at_boundary);
}

}  // namespace
}  // namespace pgr::proxy
