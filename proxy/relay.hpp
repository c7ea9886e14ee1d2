// The transparent relay between a client and its backend once both are logged in.
// Two pumps, one per direction, each reading into its own buffer, finding message
// boundaries with the pure FrameScanner and forwarding whole spans of that buffer in one
// write: no per-message allocation or copy. A pump waits for its write before reading
// again, which is the back-pressure that keeps memory bounded.
//
// Thread rules: runs on the session's worker; both sockets belong to that worker.
#pragma once

#include <cstdint>

#include "protocol/frame_scanner.hpp"
#include "proxy/asio.hpp"
#include "proxy/stream_buffer.hpp"

namespace pgr::proxy {

struct RelayStats {
  std::uint64_t client_bytes = 0;   // client -> backend
  std::uint64_t backend_bytes = 0;  // backend -> client
  char transaction_status = 'I';    // from the last ReadyForQuery relayed
};

enum class RelayEnd : std::uint8_t {
  client_terminated,       // the client sent Terminate (forwarded)
  client_closed,           // EOF or error on the client socket
  client_protocol_error,   // a malformed client message (not forwarded)
  backend_closed,          // EOF or error on the backend socket
  backend_protocol_error,  // a malformed backend message
};

struct RelayOutcome {
  RelayEnd end = RelayEnd::client_closed;
  error_code io;
  protocol::FrameError framing = protocol::FrameError::none;
  // True when the client's stream is between messages, so pgrouter may still send it an
  // ErrorResponse of its own.
  bool client_at_boundary = true;
};

class Relay {
 public:
  Relay(tcp::socket& client, StreamBuffer& client_buffer, tcp::socket& backend,
        StreamBuffer& backend_buffer, std::uint32_t max_client_message, RelayStats& stats);

  awaitable<RelayOutcome> run();

 private:
  // What differs between the two directions.
  struct Direction {
    tcp::socket& from;
    tcp::socket& to;
    StreamBuffer& buffer;
    protocol::FrameScanner& scanner;
    std::uint64_t& bytes;
    RelayEnd read_failed;
    RelayEnd write_failed;
    RelayEnd broken;
    bool* write_incomplete;  // set while a write to the client is under way
  };

  awaitable<RelayOutcome> client_to_backend();
  awaitable<RelayOutcome> backend_to_client();
  awaitable<RelayOutcome> pump(Direction direction);

  tcp::socket& client_;
  tcp::socket& backend_;
  StreamBuffer& client_buffer_;
  StreamBuffer& backend_buffer_;
  protocol::FrameScanner client_scanner_;
  protocol::FrameScanner backend_scanner_;
  RelayStats& stats_;
  bool client_write_incomplete_ = false;
};

}  // namespace pgr::proxy
