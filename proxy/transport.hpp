// A connection's byte stream: a TCP socket, and once TLS is negotiated an OpenSSL SSL* on the
// same non-blocking descriptor. Plain connections go straight to the socket (one branch, no
// virtual call); TLS ones through SSL_read/SSL_write, with WANT_READ/WANT_WRITE reported as
// would_block so the readiness-driven session loop (socket_events.hpp) drives both alike.
//
// SSL_pending caveat: bytes OpenSSL already decrypted do not make the descriptor readable; a
// TLS reader keeps reading until would_block (as read_available does), never stops at a short
// read. (A plain one may: the descriptor's readiness tells the truth.)
//
// Also an Asio AsyncReadStream/AsyncWriteStream (async_read_some, async_write_some), so the
// startup and authentication code uses asio::async_write and coroutines on it unchanged.
//
// Thread rules: owned by one session, on its worker.
#pragma once

#include <openssl/ssl.h>

#include <memory>
#include <optional>
#include <string>

#include <boost/asio/compose.hpp>

#include "proxy/asio.hpp"
#include "proxy/readiness_poller.hpp"

namespace pgr::proxy {

struct SslDeleter {
  void operator()(SSL* ssl) const { SSL_free(ssl); }
};
using SslPtr = std::unique_ptr<SSL, SslDeleter>;

// An OpenSSL failure as an error_code-free message: the first queued error, or `fallback`.
std::string openssl_error(std::string_view fallback);

class Transport {
 public:
  using executor_type = tcp::socket::executor_type;

  explicit Transport(tcp::socket socket) : socket_(std::move(socket)) {}
  Transport(Transport&&) noexcept = default;
  Transport& operator=(Transport&&) noexcept = default;
  ~Transport();

  executor_type get_executor() { return socket_.get_executor(); }
  tcp::socket& socket() { return socket_; }
  const tcp::socket& socket() const { return socket_; }
  SSL* ssl() const { return ssl_.get(); }
  bool is_tls() const { return ssl_ != nullptr; }

  // Server side: runs the TLS handshake as the server (socket made non-blocking). On failure
  // the reason (for the log; the peer gets nothing more).
  awaitable<std::optional<std::string>> accept_tls(SSL_CTX* context);
  // Client side: `host` goes into SNI and, with `verify_host`, must match the certificate.
  awaitable<std::optional<std::string>> connect_tls(SSL_CTX* context, const std::string& host, bool verify_host);

  // Non-blocking reads and writes (the socket must be non-blocking): would_block when
  // nothing can move now; eof when the peer closed.
  std::size_t read_some(asio::mutable_buffer buffer, error_code& ec) {
    if (!ssl_) return socket_.read_some(buffer, ec);
    return tls_read(buffer, ec);
  }
  std::size_t write_some(asio::const_buffer buffer, error_code& ec) {
    if (!ssl_) return socket_.write_some(buffer, ec);
    return tls_write(buffer, ec);
  }

  template <typename MutableBuffers, typename Token>
  auto async_read_some(const MutableBuffers& buffers, Token&& token) {
    return asio::async_compose<Token, void(error_code, std::size_t)>(
        IoOp<true>{this, first_buffer(buffers)}, token, socket_);
  }
  template <typename ConstBuffers, typename Token>
  auto async_write_some(const ConstBuffers& buffers, Token&& token) {
    return asio::async_compose<Token, void(error_code, std::size_t)>(
        IoOp<false>{this, first_const_buffer(buffers)}, token, socket_);
  }

  // Ends every wait on this socket: Asio's, and the session loop's watch (the socket stays in
  // its worker's set, detached, for a next owner).
  void cancel(error_code& ec) {
    watch_.detach();
    socket_.cancel(ec);
  }
  void close(error_code& ec);
  // The session loop's readiness for this socket goes to `ready` and `waker` (socket_events.hpp).
  void watch(ReadinessPoller& poller, const std::shared_ptr<Readiness>& ready, Waker* waker) {
    watch_.watch(poller, socket_.native_handle(), ready, waker);
  }
  // The session loop that watched it is ending; Asio's waits are left alone.
  void unwatch() { watch_.detach(); }
  // Asio issues the ioctl on every call; a pooled link is made non-blocking again by each
  // session that takes it, once per transaction with transaction pooling.
  void non_blocking(bool on, error_code& ec) {
    if (socket_.non_blocking() != on) socket_.non_blocking(on, ec);
  }
  tcp::endpoint remote_endpoint(error_code& ec) const { return socket_.remote_endpoint(ec); }

 private:
  template <bool Read>
  struct IoOp {
    Transport* t;
    std::conditional_t<Read, asio::mutable_buffer, asio::const_buffer> buffer;
    bool waited = false;

    template <typename Self>
    void operator()(Self& self, error_code ec = {}, std::size_t n = 0) {
      if (!t->ssl_) {
        if (waited) return self.complete(ec, n);
        waited = true;
        if constexpr (Read) t->socket_.async_read_some(buffer, std::move(self));
        else t->socket_.async_write_some(buffer, std::move(self));
        return;
      }
      if (ec) return self.complete(ec, 0);
      t->socket_.non_blocking(true, ec);
      if constexpr (Read) n = t->tls_read(buffer, ec);
      else n = t->tls_write(buffer, ec);
      if (ec == asio::error::would_block) {
        waited = true;
        t->socket_.async_wait(t->want_write_ ? tcp::socket::wait_write : tcp::socket::wait_read, std::move(self));
        return;
      }
      self.complete(ec, n);
    }
  };

  template <typename Buffers>
  static asio::mutable_buffer first_buffer(const Buffers& b) {
    return *asio::buffer_sequence_begin(b);
  }
  template <typename Buffers>
  static asio::const_buffer first_const_buffer(const Buffers& b) {
    return *asio::buffer_sequence_begin(b);
  }

  std::size_t tls_read(asio::mutable_buffer buffer, error_code& ec);
  std::size_t tls_write(asio::const_buffer buffer, error_code& ec);
  // Maps SSL_get_error after a failed call; sets want_write_ for would_block.
  void map_error(int result, error_code& ec);
  awaitable<std::optional<std::string>> handshake();

  tcp::socket socket_;
  SslPtr ssl_;
  bool want_write_ = false;  // the last would_block waits for writability
  PollWatch watch_;          // forgotten before socket_ closes (declared after it)
};

}  // namespace pgr::proxy
