// SCRAM-SHA-256 in both roles (see scram.hpp). Message syntax and checks follow RFC 5802 and
// PostgreSQL's auth-scram.c (server) and fe-auth-scram.c (client); the crypto is OpenSSL's.
#include "protocol/scram.hpp"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/core_names.h>
#include <openssl/params.h>

#include <algorithm>
#include <charconv>
#include <stdexcept>
#include <vector>

#include "protocol/base64.hpp"
#include "protocol/secure_random.hpp"

namespace pgr::protocol {
namespace {

constexpr std::string_view k_verifier_prefix = "SCRAM-SHA-256$";
constexpr int k_default_iterations = 4096;  // PostgreSQL's scram_iterations default
constexpr std::size_t k_salt_length = 16;   // PostgreSQL's SCRAM_DEFAULT_SALT_LEN
constexpr std::size_t k_nonce_bytes = 18;   // as libpq's SCRAM_RAW_NONCE_LEN

// ---- crypto ------------------------------------------------------------------------------

// OpenSSL 3's one-shot HMAC() and EVP_sha256() look the algorithm up by name in the provider
// tables on every call, which cost more than the hashing for SCRAM's short inputs (a login
// makes four or five of them). Each thread fetches once and keeps a reusable context.
struct ThreadCrypto {
  EVP_MAC* hmac_algorithm = nullptr;
  EVP_MAC_CTX* hmac = nullptr;  // digest set once; each use sets only the key
  EVP_MD* sha256 = nullptr;
  ThreadCrypto() {
    hmac_algorithm = EVP_MAC_fetch(nullptr, "HMAC", nullptr);
    sha256 = EVP_MD_fetch(nullptr, "SHA256", nullptr);
    if (hmac_algorithm != nullptr) hmac = EVP_MAC_CTX_new(hmac_algorithm);
    if (hmac != nullptr) {
      char digest[] = "SHA256";
      const OSSL_PARAM params[] = {OSSL_PARAM_construct_utf8_string("digest", digest, 0), OSSL_PARAM_construct_end()};
      if (EVP_MAC_CTX_set_params(hmac, params) != 1) {
        EVP_MAC_CTX_free(hmac);
        hmac = nullptr;
      }
    }
  }
  ThreadCrypto(const ThreadCrypto&) = delete;
  ThreadCrypto& operator=(const ThreadCrypto&) = delete;
  ~ThreadCrypto() {
    EVP_MAC_CTX_free(hmac);
    EVP_MAC_free(hmac_algorithm);
    EVP_MD_free(sha256);
  }
};

ThreadCrypto& thread_crypto() {
  thread_local ThreadCrypto crypto;
  if (crypto.hmac == nullptr || crypto.sha256 == nullptr) throw std::runtime_error("OpenSSL has no SHA-256 or HMAC");
  return crypto;
}

scram_key hmac(bytes_view key, std::string_view data) {
  EVP_MAC_CTX* context = thread_crypto().hmac;
  scram_key out{};
  std::size_t length = 0;
  if (EVP_MAC_init(context, key.data(), key.size(), nullptr) != 1 ||
      EVP_MAC_update(context, reinterpret_cast<const unsigned char*>(data.data()), data.size()) != 1 ||
      EVP_MAC_final(context, out.data(), &length, out.size()) != 1 || length != out.size()) {
    throw std::runtime_error("OpenSSL HMAC-SHA-256 failed");
  }
  return out;
}

scram_key sha256(bytes_view data) {
  scram_key out{};
  unsigned int length = 0;
  if (EVP_Digest(data.data(), data.size(), out.data(), &length, thread_crypto().sha256, nullptr) != 1 ||
      length != out.size()) {
    throw std::runtime_error("OpenSSL SHA-256 failed");
  }
  return out;
}

scram_key salted_password(std::string_view password, std::string_view salt, int iterations) {
  scram_key out{};
  if (PKCS5_PBKDF2_HMAC(password.data(), static_cast<int>(password.size()),
                        reinterpret_cast<const unsigned char*>(salt.data()),
                        static_cast<int>(salt.size()), iterations, thread_crypto().sha256,
                        static_cast<int>(out.size()), out.data()) != 1) {
    throw std::runtime_error("OpenSSL PBKDF2-HMAC-SHA-256 failed");
  }
  return out;
}

scram_key xor_keys(const scram_key& a, const scram_key& b) {
  scram_key out{};
  for (std::size_t i = 0; i < out.size(); ++i) out[i] = static_cast<std::uint8_t>(a[i] ^ b[i]);
  return out;
}

bool keys_equal(const scram_key& a, const scram_key& b) {
  return CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

std::optional<scram_key> decode_key(std::string_view text) {
  const auto raw = base64_decode(text);
  if (!raw || raw->size() != scram_key{}.size()) return std::nullopt;
  scram_key key{};
  std::copy(raw->begin(), raw->end(), key.begin());
  return key;
}

std::string encode(const scram_key& key) { return base64_encode(key); }

// ---- message syntax ----------------------------------------------------------------------

// RFC 5802 "printable": %x21-2B / %x2D-7E, i.e. visible ASCII except ','.
bool is_printable(std::string_view s) {
  for (char c : s) {
    if (c < 0x21 || c > 0x7e || c == ',') return false;
  }
  return true;
}

std::optional<int> parse_iterations(std::string_view text) {
  int value = 0;
  const auto* end = text.data() + text.size();
  const auto [ptr, ec] = std::from_chars(text.data(), end, value);
  if (text.empty() || ec != std::errc{} || ptr != end || value <= 0) return std::nullopt;
  return value;
}

std::vector<std::string_view> split_fields(std::string_view message) {
  std::vector<std::string_view> fields;
  for (;;) {
    const auto comma = message.find(',');
    fields.push_back(message.substr(0, comma));
    if (comma == std::string_view::npos) return fields;
    message.remove_prefix(comma + 1);
  }
}

// The value of "<name>=<value>", or nullopt if `field` is another attribute.
std::optional<std::string_view> attribute(std::string_view field, char name) {
  if (field.size() < 2 || field[0] != name || field[1] != '=') return std::nullopt;
  return field.substr(2);
}

bool is_extension(std::string_view field) {
  const bool letter = !field.empty() && ((field[0] >= 'a' && field[0] <= 'z') ||
                                         (field[0] >= 'A' && field[0] <= 'Z'));
  return letter && field.size() >= 2 && field[1] == '=';
}

ScramError malformed(std::string_view what) {
  return ScramError{"malformed SCRAM message (" + std::string(what) + ")", false};
}

ScramError out_of_order() { return ScramError{"SCRAM exchange message out of order", false}; }

}  // namespace

// ---- verifiers -----------------------------------------------------------------------------

std::optional<ScramVerifier> parse_scram_verifier(std::string_view secret) {
  if (!secret.starts_with(k_verifier_prefix)) return std::nullopt;
  secret.remove_prefix(k_verifier_prefix.size());
  const auto dollar = secret.find('$');
  if (dollar == std::string_view::npos) return std::nullopt;
  const auto params = secret.substr(0, dollar);
  const auto keys = secret.substr(dollar + 1);
  const auto colon1 = params.find(':');
  const auto colon2 = keys.find(':');
  if (colon1 == std::string_view::npos || colon2 == std::string_view::npos) return std::nullopt;

  const auto iterations = parse_iterations(params.substr(0, colon1));
  const auto salt = base64_decode(params.substr(colon1 + 1));
  const auto stored_key = decode_key(keys.substr(0, colon2));
  const auto server_key = decode_key(keys.substr(colon2 + 1));
  if (!iterations || !salt || salt->empty() || !stored_key || !server_key) return std::nullopt;
  return ScramVerifier{*iterations, *salt, *stored_key, *server_key};
}

std::string format_scram_verifier(const ScramVerifier& verifier) {
  return std::string(k_verifier_prefix) + std::to_string(verifier.iterations) + ":" +
         base64_encode(as_bytes(verifier.salt)) + "$" + encode(verifier.stored_key) + ":" +
         encode(verifier.server_key);
}

ScramVerifier scram_verifier_from_password(std::string_view password, std::string_view salt,
                                           int iterations) {
  const auto salted = salted_password(password, salt, iterations);
  ScramVerifier v;
  v.iterations = iterations;
  v.salt = std::string(salt);
  v.stored_key = sha256(hmac(salted, "Client Key"));
  v.server_key = hmac(salted, "Server Key");
  return v;
}

ScramVerifier scram_mock_verifier(std::string_view user, std::string_view secret) {
  // Same derivation as the server's scram_mock_salt: stable per user, unguessable without the
  // process secret. The keys come from the same digest, so no password matches them short
  // of a SHA-256 preimage.
  std::string input(user);
  input.append(secret);
  const auto digest = sha256(as_bytes(input));
  ScramVerifier v;
  v.iterations = k_default_iterations;
  v.salt.assign(reinterpret_cast<const char*>(digest.data()), k_salt_length);
  v.stored_key = hmac(digest, "Mock Stored Key");
  v.server_key = hmac(digest, "Mock Server Key");
  return v;
}

std::string scram_random_nonce() {
  std::array<std::uint8_t, k_nonce_bytes> raw{};
  secure_random(raw);
  return base64_encode(raw);
}

// ---- server role ---------------------------------------------------------------------------

ScramServer::ScramServer(ScramVerifier verifier, std::string server_nonce)
    : verifier_(std::move(verifier)), server_nonce_(std::move(server_nonce)) {}

std::variant<std::string, ScramError> ScramServer::handle_client_first(std::string_view message) {
  if (step_ != 0) return out_of_order();
  step_ = -1;  // any failure below ends the exchange

  // gs2-header: cbind-flag "," [authzid] ","
  std::size_t flag_end = 1;
  if (message.starts_with("p=")) {
    flag_end = message.find(',');
    if (flag_end == std::string_view::npos) return malformed("expected ',' after gs2 flag");
    if (message.substr(2, flag_end - 2) != k_tls_server_end_point) {
      return ScramError{"unsupported SCRAM channel-binding type", false};
    }
    if (!binding_data_) return ScramError{"channel binding is not supported on this connection", false};
  } else if (message.empty() || (message[0] != 'n' && message[0] != 'y')) {
    return malformed("unexpected channel-binding flag");
  } else if (message[0] == 'y' && binding_data_) {
    return ScramError{"SCRAM channel binding negotiation error: the client supports channel binding "
                      "but thinks the server does not, and this server does",
                      false};
  }
  const bool binds = message[0] == 'p';
  if (binds != plus_selected_) {
    return ScramError{binds ? "the client selected SCRAM-SHA-256 without channel binding, but the SCRAM "
                              "message includes channel binding data"
                            : "the client selected SCRAM-SHA-256-PLUS, but the SCRAM message does not "
                              "include channel binding data",
                      false};
  }
  if (message.size() <= flag_end || message[flag_end] != ',') return malformed("expected ',' after gs2 flag");
  if (message.size() > flag_end + 1 && message[flag_end + 1] == 'a') {
    return ScramError{"client uses authorization identity, but it is not supported", false};
  }
  if (message.size() < flag_end + 2 || message[flag_end + 1] != ',') return malformed("expected ',' after gs2 flag");
  gs2_header_ = std::string(message.substr(0, flag_end + 2));
  const auto bare = message.substr(flag_end + 2);

  // client-first-message-bare: [m=...,] n=user, r=nonce [,extensions]
  if (bare.starts_with("m=")) {
    return ScramError{"client requires an unsupported SCRAM extension", false};
  }
  const auto fields = split_fields(bare);
  // The user name is ignored: the startup packet's `user` is the one authenticated.
  if (fields.size() < 2 || !attribute(fields[0], 'n')) return malformed("expected user name");
  const auto nonce = attribute(fields[1], 'r');
  if (!nonce || nonce->empty()) return malformed("expected nonce");
  if (!is_printable(*nonce)) return malformed("non-printable characters in nonce");
  for (std::size_t i = 2; i < fields.size(); ++i) {
    if (!is_extension(fields[i])) return malformed("unexpected attribute in client-first");
  }

  client_first_bare_ = std::string(bare);
  combined_nonce_ = std::string(*nonce) + server_nonce_;
  server_first_ = "r=" + combined_nonce_ + ",s=" + base64_encode(as_bytes(verifier_.salt)) +
                  ",i=" + std::to_string(verifier_.iterations);
  step_ = 1;
  return server_first_;
}

std::variant<std::string, ScramError> ScramServer::handle_client_final(std::string_view message) {
  if (step_ != 1) return out_of_order();
  step_ = -1;

  // client-final-message: c=<gs2 header b64>,r=<nonce>,p=<proof>
  const auto fields = split_fields(message);
  if (fields.size() != 3) return malformed("expected c=, r= and p= only");
  const auto binding = attribute(fields[0], 'c');
  const auto nonce = attribute(fields[1], 'r');
  const auto proof_text = attribute(fields[2], 'p');
  if (!binding || !nonce || !proof_text) return malformed("expected c=, r= and p=");
  const auto binding_raw = base64_decode(*binding);
  const std::string expected = gs2_header_[0] == 'p' ? gs2_header_ + *binding_data_ : gs2_header_;
  if (!binding_raw || *binding_raw != expected) {
    return ScramError{"SCRAM channel binding check failed", false};
  }
  if (*nonce != combined_nonce_) return malformed("nonce does not match");
  const auto proof = decode_key(*proof_text);
  if (!proof) return malformed("invalid proof");

  const auto without_proof = message.substr(0, message.size() - fields[2].size() - 1);
  std::string auth_message = client_first_bare_;
  auth_message.append(",").append(server_first_).append(",").append(without_proof);

  const auto client_key = xor_keys(*proof, hmac(verifier_.stored_key, auth_message));
  if (!keys_equal(sha256(client_key), verifier_.stored_key)) {
    return ScramError{"password authentication failed (SCRAM proof does not match)", true};
  }
  client_key_ = client_key;
  step_ = 2;
  return "v=" + encode(hmac(verifier_.server_key, auth_message));
}

// ---- client role ---------------------------------------------------------------------------

ScramClient ScramClient::from_password(std::string password, std::string client_nonce) {
  ScramClient c;
  c.password_ = std::move(password);
  c.client_nonce_ = std::move(client_nonce);
  return c;
}

ScramClient ScramClient::from_keys(ScramClientKeys keys, std::string client_nonce) {
  ScramClient c;
  c.keys_ = std::move(keys);
  c.client_nonce_ = std::move(client_nonce);
  return c;
}

std::string ScramClient::gs2_header() const {
  if (binding_data_) return "p=" + std::string(k_tls_server_end_point) + ",,";
  return tls_ ? "y,," : "n,,";
}

std::string ScramClient::client_first() const { return gs2_header() + "n=,r=" + client_nonce_; }

std::variant<std::string, ScramError> ScramClient::handle_server_first(std::string_view message) {
  if (step_ != 0) return out_of_order();
  step_ = -1;

  // server-first-message: r=<combined nonce>,s=<salt b64>,i=<iterations>
  const auto fields = split_fields(message);
  if (fields.size() != 3) return malformed("expected r=, s= and i= only");
  const auto nonce = attribute(fields[0], 'r');
  const auto salt_text = attribute(fields[1], 's');
  const auto iterations_text = attribute(fields[2], 'i');
  if (!nonce || !salt_text || !iterations_text) return malformed("expected r=, s= and i=");
  if (nonce->size() <= client_nonce_.size() || !nonce->starts_with(client_nonce_) ||
      !is_printable(*nonce)) {
    return malformed("nonce mismatch");
  }
  const auto salt = base64_decode(*salt_text);
  if (!salt || salt->empty()) return malformed("invalid salt");
  const auto iterations = parse_iterations(*iterations_text);
  if (!iterations) return malformed("invalid iteration count");

  scram_key client_key{};
  if (keys_) {
    if (keys_->salt != *salt || keys_->iterations != *iterations) {
      return ScramError{
          "the backend's SCRAM salt or iteration count differs from pgrouter's secret for "
          "this user",
          false};
    }
    client_key = keys_->client_key;
    server_key_ = keys_->server_key;
  } else {
    const auto salted = salted_password(password_.value_or(""), *salt, *iterations);
    client_key = hmac(salted, "Client Key");
    server_key_ = hmac(salted, "Server Key");
  }

  std::string binding = gs2_header();
  if (binding_data_) binding += *binding_data_;
  const std::string without_proof = "c=" + base64_encode(as_bytes(binding)) + ",r=" + std::string(*nonce);
  auth_message_ = "n=,r=" + client_nonce_;
  auth_message_.append(",").append(message).append(",").append(without_proof);
  const auto proof = xor_keys(client_key, hmac(sha256(client_key), auth_message_));
  step_ = 1;
  return without_proof + ",p=" + encode(proof);
}

std::optional<ScramError> ScramClient::handle_server_final(std::string_view message) {
  if (step_ != 1) return out_of_order();
  step_ = -1;
  if (const auto error = attribute(message, 'e')) {
    return ScramError{"error received from server in SCRAM exchange: " + std::string(*error),
                      false};
  }
  const auto signature_text = attribute(message, 'v');
  if (!signature_text) return malformed("expected v=");
  const auto signature = decode_key(*signature_text);
  if (!signature) return malformed("invalid server signature");
  if (!keys_equal(*signature, hmac(server_key_, auth_message_))) {
    return ScramError{"incorrect server signature", false};
  }
  step_ = 2;
  return std::nullopt;
}

}  // namespace pgr::protocol
