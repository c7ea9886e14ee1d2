// TCP or TLS byte streams (see transport.hpp).
#include "proxy/transport.hpp"

#include <openssl/err.h>
#include <openssl/x509v3.h>

namespace pgr::proxy {

std::string openssl_error(std::string_view fallback) {
  const unsigned long code = ERR_get_error();
  ERR_clear_error();
  if (code == 0) return std::string(fallback);
  char text[256];
  ERR_error_string_n(code, text, sizeof text);
  return std::string(fallback) + ": " + text;
}

Transport::~Transport() {
  // Best effort close_notify; never on a closed descriptor (its number may be reused).
  if (ssl_ && socket_.is_open()) {
    error_code ec;
    socket_.non_blocking(true, ec);
    ERR_clear_error();
    (void)SSL_shutdown(ssl_.get());
    ERR_clear_error();
  }
}

void Transport::close(error_code& ec) {
  watch_.forget();
  socket_.close(ec);
}

void Transport::map_error(int result, error_code& ec) {
  const int e = SSL_get_error(ssl_.get(), result);
  want_write_ = false;
  switch (e) {
    case SSL_ERROR_WANT_READ:
      ec = asio::error::would_block;
      return;
    case SSL_ERROR_WANT_WRITE:
      want_write_ = true;
      ec = asio::error::would_block;
      return;
    case SSL_ERROR_ZERO_RETURN:
      ec = asio::error::eof;
      return;
    case SSL_ERROR_SYSCALL:
      ec = errno != 0 ? error_code(errno, boost::system::system_category()) : error_code(asio::error::eof);
      ERR_clear_error();
      return;
    default:
      ec = asio::error::connection_aborted;
      ERR_clear_error();
      return;
  }
}

std::size_t Transport::tls_read(asio::mutable_buffer buffer, error_code& ec) {
  ec.clear();
  if (buffer.size() == 0) return 0;
  ERR_clear_error();
  errno = 0;
  std::size_t n = 0;
  const int r = SSL_read_ex(ssl_.get(), buffer.data(), buffer.size(), &n);
  if (r == 1) return n;
  map_error(r, ec);
  return 0;
}

std::size_t Transport::tls_write(asio::const_buffer buffer, error_code& ec) {
  ec.clear();
  if (buffer.size() == 0) return 0;
  ERR_clear_error();
  errno = 0;
  std::size_t n = 0;
  const int r = SSL_write_ex(ssl_.get(), buffer.data(), buffer.size(), &n);
  if (r == 1) return n;
  map_error(r, ec);
  return 0;
}

awaitable<std::optional<std::string>> Transport::handshake() {
  for (;;) {
    ERR_clear_error();
    errno = 0;
    const int r = SSL_do_handshake(ssl_.get());
    if (r == 1) co_return std::nullopt;
    const int e = SSL_get_error(ssl_.get(), r);
    if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE) {
      auto [ec] = co_await socket_.async_wait(e == SSL_ERROR_WANT_READ ? tcp::socket::wait_read : tcp::socket::wait_write,
                                              nothrow_awaitable);
      if (ec) co_return "TLS handshake interrupted: " + ec.message();
      continue;
    }
    if (e == SSL_ERROR_SYSCALL && ERR_peek_error() == 0) co_return std::string("connection closed during the TLS handshake");
    if (SSL_get_verify_result(ssl_.get()) != X509_V_OK) {
      const std::string reason = X509_verify_cert_error_string(SSL_get_verify_result(ssl_.get()));
      ERR_clear_error();
      co_return "certificate verification failed: " + reason;
    }
    co_return openssl_error("TLS handshake failed");
  }
}

awaitable<std::optional<std::string>> Transport::accept_tls(SSL_CTX* context) {
  error_code ec;
  socket_.non_blocking(true, ec);
  ssl_.reset(SSL_new(context));
  if (!ssl_ || SSL_set_fd(ssl_.get(), socket_.native_handle()) != 1) {
    ssl_.reset();
    co_return openssl_error("cannot start TLS");
  }
  SSL_set_accept_state(ssl_.get());
  co_return co_await handshake();
}

awaitable<std::optional<std::string>> Transport::connect_tls(SSL_CTX* context, const std::string& host,
                                                             bool verify_host) {
  error_code ec;
  socket_.non_blocking(true, ec);
  ssl_.reset(SSL_new(context));
  if (!ssl_ || SSL_set_fd(ssl_.get(), socket_.native_handle()) != 1) {
    ssl_.reset();
    co_return openssl_error("cannot start TLS");
  }
  (void)asio::ip::make_address(host, ec);
  const bool numeric = !ec;
  // SNI (the macro casts to void*; SSL_ctrl is what it expands to).
  if (!numeric) SSL_ctrl(ssl_.get(), SSL_CTRL_SET_TLSEXT_HOSTNAME, TLSEXT_NAMETYPE_host_name, const_cast<char*>(host.c_str()));
  if (verify_host) {
    X509_VERIFY_PARAM* param = SSL_get0_param(ssl_.get());
    const int ok = numeric ? X509_VERIFY_PARAM_set1_ip_asc(param, host.c_str())
                           : X509_VERIFY_PARAM_set1_host(param, host.c_str(), host.size());
    if (ok != 1) co_return openssl_error("cannot set the host name to verify");
  }
  SSL_set_connect_state(ssl_.get());
  co_return co_await handshake();
}

}  // namespace pgr::proxy
