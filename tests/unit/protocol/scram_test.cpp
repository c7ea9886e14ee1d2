// SCRAM-SHA-256: RFC 7677's test vector, server <-> client round trips from a password and
// from recovered keys, wrong passwords, malformed messages and the mock verifier.
#include "protocol/scram.hpp"

#include <gtest/gtest.h>

#include <thread>

#include "protocol/base64.hpp"

namespace pgr::protocol {
namespace {

// RFC 7677 section 3.
constexpr std::string_view k_password = "pencil";
constexpr std::string_view k_client_nonce = "rOprNGfwEbeRWgbNEkqO";
constexpr std::string_view k_server_nonce = "%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0";
constexpr std::string_view k_salt_b64 = "W22ZaJ0SNY7soEsUEjb6gQ==";
constexpr std::string_view k_client_first = "n,,n=user,r=rOprNGfwEbeRWgbNEkqO";
constexpr std::string_view k_server_first =
    "r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096";
constexpr std::string_view k_client_final =
    "c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,"
    "p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=";
constexpr std::string_view k_server_final = "v=6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4=";
// StoredKey and ServerKey for that password and salt, computed with Python's hashlib.
constexpr std::string_view k_rfc_verifier =
    "SCRAM-SHA-256$4096:W22ZaJ0SNY7soEsUEjb6gQ==$WG5d8oPm3OtcPnkdi4Uo7BkeZkBFzpcXkuLmtbsT4qY=:"
    "wfPLwcE6nTWhTAmQ7tl2KeoiWGPlZqQxSrmfPwDl2dU=";

ScramVerifier rfc_verifier() {
  return scram_verifier_from_password(k_password, *base64_decode(k_salt_b64), 4096);
}

template <typename T>
T expect_ok(const std::variant<T, ScramError>& result) {
  if (const auto* e = std::get_if<ScramError>(&result)) {
    ADD_FAILURE() << "ScramError: " << e->message;
    return T{};
  }
  return std::get<T>(result);
}

ScramError expect_error(const std::variant<std::string, ScramError>& result) {
  EXPECT_TRUE(std::holds_alternative<ScramError>(result)) << std::get<std::string>(result);
  return std::holds_alternative<ScramError>(result) ? std::get<ScramError>(result) : ScramError{};
}

TEST(ScramVerifier, FromPasswordMatchesRfc7677) {
  EXPECT_EQ(format_scram_verifier(rfc_verifier()), k_rfc_verifier);
}

TEST(ScramVerifier, ParsesAndFormats) {
  const auto v = parse_scram_verifier(k_rfc_verifier);
  ASSERT_TRUE(v);
  EXPECT_EQ(v->iterations, 4096);
  EXPECT_EQ(v->salt, *base64_decode(k_salt_b64));
  EXPECT_EQ(v->stored_key, rfc_verifier().stored_key);
  EXPECT_EQ(v->server_key, rfc_verifier().server_key);
  EXPECT_EQ(format_scram_verifier(*v), k_rfc_verifier);
}

TEST(ScramVerifier, RejectsMalformedSecrets) {
  const std::string good(k_rfc_verifier);
  const std::string stored = "WG5d8oPm3OtcPnkdi4Uo7BkeZkBFzpcXkuLmtbsT4qY=";
  const std::string server = "wfPLwcE6nTWhTAmQ7tl2KeoiWGPlZqQxSrmfPwDl2dU=";
  for (const std::string& bad : {
           std::string(""),
           std::string("md5fe63fea7be31b0200b496d08bc6b517d"),
           "SCRAM-SHA-1$4096:c2FsdA==$" + stored + ":" + server,
           "SCRAM-SHA-256$0:c2FsdA==$" + stored + ":" + server,
           "SCRAM-SHA-256$-1:c2FsdA==$" + stored + ":" + server,
           "SCRAM-SHA-256$x:c2FsdA==$" + stored + ":" + server,
           "SCRAM-SHA-256$99999999999:c2FsdA==$" + stored + ":" + server,
           "SCRAM-SHA-256$4096:$" + stored + ":" + server,
           "SCRAM-SHA-256$4096:c2Fsd!==$" + stored + ":" + server,
           "SCRAM-SHA-256$4096:c2FsdA==$" + stored.substr(4) + ":" + server,
           "SCRAM-SHA-256$4096:c2FsdA==$" + stored + ":c2FsdA==",
           "SCRAM-SHA-256$4096:c2FsdA==$" + stored + server,
           "SCRAM-SHA-256$4096c2FsdA==$" + stored + ":" + server,
           "SCRAM-SHA-256$4096:c2FsdA==" + stored + ":" + server,
           good + "x",
       }) {
    EXPECT_FALSE(parse_scram_verifier(bad)) << bad;
  }
}

TEST(ScramServer, AcceptsRfc7677Exchange) {
  ScramServer server(rfc_verifier(), std::string(k_server_nonce));
  EXPECT_EQ(expect_ok(server.handle_client_first(k_client_first)), k_server_first);
  EXPECT_EQ(expect_ok(server.handle_client_final(k_client_final)), k_server_final);
  // The recovered ClientKey is the password's: HMAC(SaltedPassword, "Client Key").
  EXPECT_EQ(base64_encode(server.client_key()), "pg/JI9Z+hkSpLRa5btpe9GVrDHJcSEN0viVTVXaZbos=");
}

// Each thread keeps its own HMAC context, re-keyed per use: the RFC exchange, over and over
// on two threads at once, still gives the RFC's answers.
TEST(ScramServer, Rfc7677ExchangeOnTwoThreadsAtOnce) {
  const auto run = [](int* failures) {
    for (int i = 0; i < 200; ++i) {
      ScramServer server(rfc_verifier(), std::string(k_server_nonce));
      const auto first = server.handle_client_first(k_client_first);
      const auto final = server.handle_client_final(k_client_final);
      if (!std::holds_alternative<std::string>(first) || std::get<std::string>(first) != k_server_first ||
          !std::holds_alternative<std::string>(final) || std::get<std::string>(final) != k_server_final) {
        ++*failures;
      }
    }
  };
  int failures_one = 0;
  int failures_two = 0;
  std::thread one(run, &failures_one);
  std::thread two(run, &failures_two);
  one.join();
  two.join();
  EXPECT_EQ(failures_one, 0);
  EXPECT_EQ(failures_two, 0);
}

TEST(ScramClient, MatchesAnIndependentComputation) {
  // Our client sends an empty user name (as libpq does), so its proof differs from the RFC's
  // "n=user" one; the expected values were computed with Python's hashlib and hmac.
  auto client = ScramClient::from_password(std::string(k_password), std::string(k_client_nonce));
  EXPECT_EQ(client.client_first(), "n,,n=,r=rOprNGfwEbeRWgbNEkqO");
  EXPECT_EQ(expect_ok(client.handle_server_first(k_server_first)),
            "c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,"
            "p=qvT2SWdEH5Q06albL+hjSYuUhCG7VndFyzIb7CK4n9k=");
  EXPECT_EQ(client.handle_server_final("v=3HO6Qt1M4MKJrmlKaoOqLAI0/0TV0HZe7J9H3MBtSOg="),
            std::nullopt);
}

// Runs a whole exchange; returns the server's error or the client's, if any.
std::optional<ScramError> run_exchange(ScramServer& server, ScramClient& client) {
  const auto server_first = server.handle_client_first(client.client_first());
  if (const auto* e = std::get_if<ScramError>(&server_first)) return *e;
  const auto client_final = client.handle_server_first(std::get<std::string>(server_first));
  if (const auto* e = std::get_if<ScramError>(&client_final)) return *e;
  const auto server_final = server.handle_client_final(std::get<std::string>(client_final));
  if (const auto* e = std::get_if<ScramError>(&server_final)) return *e;
  return client.handle_server_final(std::get<std::string>(server_final));
}

TEST(ScramRoundTrip, FromPasswordThenFromRecoveredKeys) {
  const auto verifier = scram_verifier_from_password("s3cret", "0123456789abcdef", 4096);

  // A client logs in to pgrouter with the password...
  ScramServer front(verifier, scram_random_nonce());
  auto client = ScramClient::from_password("s3cret", scram_random_nonce());
  ASSERT_EQ(run_exchange(front, client), std::nullopt);

  // ...and pgrouter logs in to a backend holding the same verifier with the recovered keys.
  ScramClientKeys keys{front.client_key(), verifier.server_key, verifier.salt, verifier.iterations};
  ScramServer backend(verifier, scram_random_nonce());
  auto proxy = ScramClient::from_keys(keys, scram_random_nonce());
  ASSERT_EQ(run_exchange(backend, proxy), std::nullopt);
  EXPECT_EQ(backend.client_key(), front.client_key());
}

TEST(ScramRoundTrip, WrongPasswordIsBadPassword) {
  const auto verifier = scram_verifier_from_password("right", "salt-salt-salt!!", 4096);
  ScramServer server(verifier, scram_random_nonce());
  auto client = ScramClient::from_password("wrong", scram_random_nonce());
  const auto error = run_exchange(server, client);
  ASSERT_TRUE(error);
  EXPECT_TRUE(error->bad_password);
}

TEST(ScramRoundTrip, KeysForAnotherSaltAreRefused) {
  const auto verifier = scram_verifier_from_password("pw", "salt-one", 4096);
  const auto other = scram_verifier_from_password("pw", "salt-two", 4096);
  ScramServer backend(other, scram_random_nonce());
  auto proxy = ScramClient::from_keys({{}, verifier.server_key, verifier.salt, 4096}, "nonce");
  const auto error = run_exchange(backend, proxy);
  ASSERT_TRUE(error);
  EXPECT_FALSE(error->bad_password);
  EXPECT_EQ(error->message,
            "the backend's SCRAM salt or iteration count differs from pgrouter's secret for "
            "this user");

  ScramServer backend2(scram_verifier_from_password("pw", "salt-one", 4097), "n2");
  auto proxy2 = ScramClient::from_keys({{}, verifier.server_key, verifier.salt, 4096}, "nonce");
  EXPECT_TRUE(run_exchange(backend2, proxy2));
}

TEST(ScramRoundTrip, MockVerifierIsDeterministicAndAlwaysFails) {
  const auto a = scram_mock_verifier("nobody", "process-secret");
  const auto b = scram_mock_verifier("nobody", "process-secret");
  EXPECT_EQ(format_scram_verifier(a), format_scram_verifier(b));
  EXPECT_EQ(a.iterations, 4096);
  EXPECT_EQ(a.salt.size(), 16u);
  EXPECT_NE(scram_mock_verifier("somebody", "process-secret").salt, a.salt);
  EXPECT_NE(scram_mock_verifier("nobody", "other-secret").salt, a.salt);
  EXPECT_TRUE(parse_scram_verifier(format_scram_verifier(a)));

  for (const char* password : {"", "nobody", "process-secret", "password"}) {
    ScramServer server(a, scram_random_nonce());
    auto client = ScramClient::from_password(password, scram_random_nonce());
    const auto error = run_exchange(server, client);
    ASSERT_TRUE(error);
    EXPECT_TRUE(error->bad_password);
  }
}

TEST(ScramServer, ClientFirstErrors) {
  struct Case {
    std::string_view message;
    std::string_view contains;
  };
  for (const auto& c : std::initializer_list<Case>{
           {"p=tls-server-end-point,,n=,r=abc", "channel binding is not supported"},
           {"n,a=admin,n=,r=abc", "authorization identity"},
           {"n,,m=ext,n=,r=abc", "unsupported SCRAM extension"},
           {"x,,n=,r=abc", "malformed"},
           {"", "malformed"},
           {"n", "malformed"},
           {"n,", "malformed"},
           {"n,x,n=,r=abc", "malformed"},
           {"n,,r=abc", "malformed"},
           {"n,,n=", "malformed"},
           {"n,,n=,r=", "malformed"},
           {"n,,n=,x=abc", "malformed"},
           {"n,,n=,r=ab\x01", "malformed"},
           {"n,,n=,r=abc,", "malformed"},
           {"n,,n=,r=abc,1=x", "malformed"},
       }) {
    ScramServer server(rfc_verifier(), "server");
    const auto e = expect_error(server.handle_client_first(c.message));
    EXPECT_FALSE(e.bad_password) << c.message;
    EXPECT_NE(e.message.find(c.contains), std::string::npos) << c.message << ": " << e.message;
  }
  ScramServer with_extension(rfc_verifier(), "server");
  EXPECT_EQ(expect_ok(with_extension.handle_client_first("y,,n=u,r=abc,x=ext")).substr(0, 11),
            "r=abcserver");
}

TEST(ScramServer, ClientFinalErrorsAreNotBadPassword) {
  const std::string nonce = "rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0";
  const std::string proof = "p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=";
  for (const std::string& bad : {
           "c=eSws,r=" + nonce + "," + proof,           // gs2 header was "n,,", not "y,,"
           "c=biws,r=" + nonce + "x," + proof,          // nonce changed
           "c=biws,r=" + nonce + ",x=ext," + proof,     // extension before the proof
           "c=biws,r=" + nonce + "," + proof + ",x=1",  // garbage after the proof
           "c=biws,r=" + nonce + ",p=dHzb",             // proof too short
           "c=biws,r=" + nonce + ",p=!!!!",             // not base64
           "r=" + nonce + "," + proof,                  // no channel binding
           "c=biws," + proof,                           // no nonce
           "c=biws,r=" + nonce,                         // no proof
           std::string(""),
       }) {
    ScramServer server(rfc_verifier(), std::string(k_server_nonce));
    expect_ok(server.handle_client_first(k_client_first));
    const auto e = expect_error(server.handle_client_final(bad));
    EXPECT_FALSE(e.bad_password) << bad;
  }
}

TEST(ScramServer, FlippedProofBitIsBadPassword) {
  ScramServer server(rfc_verifier(), std::string(k_server_nonce));
  expect_ok(server.handle_client_first(k_client_first));
  std::string tampered(k_client_final);
  tampered[tampered.size() - 3] = tampered[tampered.size() - 3] == 'A' ? 'B' : 'A';
  EXPECT_TRUE(expect_error(server.handle_client_final(tampered)).bad_password);
}

TEST(ScramServer, CallsOutOfOrderFail) {
  ScramServer server(rfc_verifier(), std::string(k_server_nonce));
  EXPECT_FALSE(expect_error(server.handle_client_final(k_client_final)).bad_password);
  ScramServer twice(rfc_verifier(), std::string(k_server_nonce));
  expect_ok(twice.handle_client_first(k_client_first));
  expect_error(twice.handle_client_first(k_client_first));
  // A failed step ends the exchange.
  ScramServer dead(rfc_verifier(), std::string(k_server_nonce));
  expect_error(dead.handle_client_first("garbage"));
  expect_error(dead.handle_client_first(k_client_first));
  ScramServer done(rfc_verifier(), std::string(k_server_nonce));
  expect_ok(done.handle_client_first(k_client_first));
  expect_ok(done.handle_client_final(k_client_final));
  expect_error(done.handle_client_final(k_client_final));
}

TEST(ScramClient, ServerFirstErrors) {
  for (std::string_view bad : {
           "r=rOprNGfwEbeRWgbNEkqO,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096",     // nonce not extended
           "r=XXprNGfwEbeRWgbNEkqOabc,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096",  // not our nonce
           "r=rOprNGfwEbeRWgbNEkqOabc,s=!!,i=4096",
           "r=rOprNGfwEbeRWgbNEkqOabc,s=,i=4096",
           "r=rOprNGfwEbeRWgbNEkqOabc,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=0",
           "r=rOprNGfwEbeRWgbNEkqOabc,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=-1",
           "r=rOprNGfwEbeRWgbNEkqOabc,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096x",
           "r=rOprNGfwEbeRWgbNEkqOabc,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=99999999999",
           "r=rOprNGfwEbeRWgbNEkqOabc,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096,x=1",
           "r=rOprNGfwEbeRWgbNEkqOabc,s=W22ZaJ0SNY7soEsUEjb6gQ==",
           "s=W22ZaJ0SNY7soEsUEjb6gQ==,r=rOprNGfwEbeRWgbNEkqOabc,i=4096",
           "e=other-error",
           "",
       }) {
    auto client = ScramClient::from_password("pencil", std::string(k_client_nonce));
    EXPECT_FALSE(expect_error(client.handle_server_first(bad)).bad_password) << bad;
  }
}

TEST(ScramClient, ServerFinalErrors) {
  const auto start = [] {
    auto client = ScramClient::from_password(std::string(k_password), std::string(k_client_nonce));
    expect_ok(client.handle_server_first(k_server_first));
    return client;
  };
  auto wrong_signature = start();
  EXPECT_TRUE(wrong_signature.handle_server_final(k_server_final));  // that was for n=user
  auto server_error = start();
  const auto e = server_error.handle_server_final("e=invalid-proof");
  ASSERT_TRUE(e);
  EXPECT_NE(e->message.find("invalid-proof"), std::string::npos);
  for (std::string_view bad :
       {"", "v=", "v=abc", "v=3HO6Qt1M4MKJrmlKaoOqLAI0/0TV0HZe7J9H3MBtSOg=,x",
        "x=3HO6Qt1M4MKJrmlKaoOqLAI0/0TV0HZe7J9H3MBtSOg="}) {
    auto client = start();
    EXPECT_TRUE(client.handle_server_final(bad)) << bad;
  }
  // Out of order: a final before the first, and twice.
  auto early = ScramClient::from_password("x", "nonce");
  EXPECT_TRUE(early.handle_server_final("v=3HO6Qt1M4MKJrmlKaoOqLAI0/0TV0HZe7J9H3MBtSOg="));
  auto twice = start();
  EXPECT_FALSE(twice.handle_server_final("v=3HO6Qt1M4MKJrmlKaoOqLAI0/0TV0HZe7J9H3MBtSOg="));
  EXPECT_TRUE(twice.handle_server_final("v=3HO6Qt1M4MKJrmlKaoOqLAI0/0TV0HZe7J9H3MBtSOg="));
}

TEST(ScramNonce, IsRandomPrintableBase64) {
  const auto a = scram_random_nonce();
  const auto b = scram_random_nonce();
  EXPECT_EQ(a.size(), 24u);
  EXPECT_NE(a, b);
  EXPECT_EQ(base64_decode(a)->size(), 18u);
  EXPECT_EQ(a.find(','), std::string::npos);
}

}  // namespace
}  // namespace pgr::protocol

namespace pgr::protocol {
namespace {

// Channel binding: each TLS leg binds to its own certificate hash, and pass-through still works.
TEST(ScramChannelBinding, EachLegBindsToItsOwnCertificate) {
  const auto verifier = scram_verifier_from_password("s3cret", "0123456789abcdef", 4096);
  const std::string front_cert_hash(32, '\x11');
  const std::string backend_cert_hash(32, '\x22');

  ScramServer front(verifier, scram_random_nonce());
  front.set_channel_binding(front_cert_hash, true);
  auto client = ScramClient::from_password("s3cret", scram_random_nonce());
  client.set_channel_binding(front_cert_hash);
  EXPECT_TRUE(client.client_first().starts_with("p=tls-server-end-point,,n=,r="));
  ASSERT_EQ(run_exchange(front, client), std::nullopt);

  ScramClientKeys keys{front.client_key(), verifier.server_key, verifier.salt, verifier.iterations};
  ScramServer backend(verifier, scram_random_nonce());
  backend.set_channel_binding(backend_cert_hash, true);
  auto proxy = ScramClient::from_keys(keys, scram_random_nonce());
  proxy.set_channel_binding(backend_cert_hash);
  ASSERT_EQ(run_exchange(backend, proxy), std::nullopt);
  EXPECT_EQ(backend.client_key(), front.client_key());
}

TEST(ScramChannelBinding, AnotherCertificateHashFails) {
  const auto verifier = scram_verifier_from_password("pw", "salt-salt-salt!!", 4096);
  ScramServer server(verifier, scram_random_nonce());
  server.set_channel_binding(std::string(32, 'a'), true);
  auto client = ScramClient::from_password("pw", scram_random_nonce());
  client.set_channel_binding(std::string(32, 'b'));  // a man in the middle's certificate
  const auto error = run_exchange(server, client);
  ASSERT_TRUE(error);
  EXPECT_FALSE(error->bad_password);
  EXPECT_EQ(error->message, "SCRAM channel binding check failed");
}

TEST(ScramChannelBinding, DowngradeAndMismatchedMechanismRefused) {
  const auto verifier = scram_verifier_from_password("pw", "salt-salt-salt!!", 4096);
  {
    // The client could bind but thinks the server cannot: over TLS that is a downgrade.
    ScramServer server(verifier, "n");
    server.set_channel_binding("hash", false);
    const auto r = server.handle_client_first("y,,n=,r=abc");
    ASSERT_TRUE(std::holds_alternative<ScramError>(r));
    EXPECT_NE(std::get<ScramError>(r).message.find("negotiation error"), std::string::npos);
  }
  {
    ScramServer server(verifier, "n");
    server.set_channel_binding("hash", true);  // PLUS selected, no binding in the message
    EXPECT_TRUE(std::holds_alternative<ScramError>(server.handle_client_first("n,,n=,r=abc")));
  }
  {
    ScramServer server(verifier, "n");
    server.set_channel_binding("hash", false);  // plain SCRAM selected, binding in the message
    EXPECT_TRUE(std::holds_alternative<ScramError>(server.handle_client_first("p=tls-server-end-point,,n=,r=abc")));
  }
  {
    ScramServer server(verifier, "n");  // no TLS: p= refused
    EXPECT_TRUE(std::holds_alternative<ScramError>(server.handle_client_first("p=tls-server-end-point,,n=,r=abc")));
  }
  {
    ScramServer server(verifier, "n");
    server.set_channel_binding("hash", true);
    const auto r = server.handle_client_first("p=tls-unique,,n=,r=abc");
    ASSERT_TRUE(std::holds_alternative<ScramError>(r));
    EXPECT_EQ(std::get<ScramError>(r).message, "unsupported SCRAM channel-binding type");
  }
  {
    // Without PLUS offered over TLS, our client says "y" and a server with no binding accepts.
    ScramServer server(verifier, scram_random_nonce());
    auto client = ScramClient::from_password("pw", scram_random_nonce());
    client.set_channel_binding(std::nullopt);
    EXPECT_TRUE(client.client_first().starts_with("y,,"));
    EXPECT_EQ(run_exchange(server, client), std::nullopt);
  }
}

}  // namespace
}  // namespace pgr::protocol
