// pgrouter's SSLRequest to a backend, against a scripted fake server on loopback: an 'E'
// answer is never trusted, bytes after 'S' (CVE-2021-23222) fail the connection, 'N' is
// accepted only by prefer.
#include <gtest/gtest.h>

#include "proxy/backend_login.hpp"

namespace pgr::proxy {
namespace {

// Runs one login against a server that reads the 8-byte SSLRequest, writes `answer`, then
// reads whatever comes and closes.
std::string login_against(const std::string& answer, conf::ServerTlsMode mode) {
  asio::io_context io;
  tcp::acceptor acceptor(io, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0));
  const auto port = acceptor.local_endpoint().port();
  asio::co_spawn(io, [&]() -> awaitable<void> {
    auto [ec, socket] = co_await acceptor.async_accept(nothrow_awaitable);
    if (ec) co_return;
    std::array<std::uint8_t, 8> request{};
    co_await asio::async_read(socket, asio::buffer(request), nothrow_awaitable);
    co_await asio::async_write(socket, asio::buffer(answer), nothrow_awaitable);
    std::array<std::uint8_t, 512> sink{};
    co_await socket.async_read_some(asio::buffer(sink), nothrow_awaitable);
  }, asio::detached);

  conf::TlsConfig config;
  config.server_mode = mode;
  const auto built = make_tls_contexts(config);
  EXPECT_TRUE(built.contexts) << built.error;
  std::string error;
  asio::co_spawn(io, [&]() -> awaitable<void> {
    const BackendEndpoint endpoint{"fake", "127.0.0.1", port};
    const StartupParameters parameters{{"user", "u"}, {"database", "d"}};
    const BackendCredentials credentials;
    const BackendTls tls{mode, built.contexts};
    auto result = co_await login_to_backend(endpoint, parameters, credentials, std::chrono::seconds(5), tls);
    if (auto* err = std::get_if<SessionError>(&result)) error = err->message;
  }, asio::detached);
  io.run_for(std::chrono::seconds(10));
  return error;
}

TEST(BackendTls, ErrorAnswerIsNotTrusted) {
  const std::string fake_error = std::string("E\0\0\0\x10SFATAL\0\0", 12);
  const auto error = login_against(fake_error, conf::ServerTlsMode::prefer);
  EXPECT_NE(error.find("failed: the server answered the TLS request with 'E'"), std::string::npos) << error;
}

TEST(BackendTls, BytesAfterTheSAnswerFail) {
  const auto error = login_against("SZ\0\0\0\x05I", conf::ServerTlsMode::require);
  EXPECT_NE(error.find("failed: unexpected data after the server accepted TLS"), std::string::npos) << error;
}

TEST(BackendTls, NoTlsFailsRequireButNotPrefer) {
  const auto required = login_against("N", conf::ServerTlsMode::require);
  EXPECT_NE(required.find("failed: the server does not accept TLS"), std::string::npos) << required;
  const auto preferred = login_against("N", conf::ServerTlsMode::prefer);
  // prefer goes on in plaintext: the fake server then closes during the login.
  EXPECT_EQ(preferred.find("TLS"), std::string::npos) << preferred;
  EXPECT_NE(preferred.find("lost connection to backend fake"), std::string::npos) << preferred;
}

TEST(BackendTls, HandshakeFailureIsReported) {
  // 'S' and then a close: the handshake fails.
  const auto error = login_against("S", conf::ServerTlsMode::require);
  EXPECT_NE(error.find("TLS with backend fake"), std::string::npos) << error;
}

}  // namespace
}  // namespace pgr::proxy
