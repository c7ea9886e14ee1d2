// PostgreSQL's md5 password method (see md5_auth.hpp), on OpenSSL's EVP digests.
#include "protocol/md5_auth.hpp"

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include <algorithm>
#include <stdexcept>

namespace pgr::protocol {
namespace {

constexpr std::string_view k_prefix = "md5";
constexpr std::size_t k_hex_length = 32;

bool is_lower_hex(char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'); }

}  // namespace

std::string md5_hex(std::string_view data) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int digest_length = 0;
  if (EVP_Digest(data.data(), data.size(), digest, &digest_length, EVP_md5(), nullptr) != 1) {
    // Only a FIPS-restricted OpenSSL refuses MD5; nothing here can go on without it.
    throw std::runtime_error("OpenSSL refused to compute MD5");
  }
  static constexpr char k_digits[] = "0123456789abcdef";
  std::string hex;
  hex.reserve(2 * digest_length);
  for (unsigned int i = 0; i < digest_length; ++i) {
    hex += k_digits[digest[i] >> 4];
    hex += k_digits[digest[i] & 0x0f];
  }
  return hex;
}

std::string md5_stored_hash(std::string_view user, std::string_view password) {
  std::string input;
  input.reserve(password.size() + user.size());
  input.append(password).append(user);
  return std::string(k_prefix) + md5_hex(input);
}

bool is_md5_stored_hash(std::string_view secret) {
  if (secret.size() != k_prefix.size() + k_hex_length || !secret.starts_with(k_prefix)) {
    return false;
  }
  for (char c : secret.substr(k_prefix.size())) {
    if (!is_lower_hex(c)) return false;
  }
  return true;
}

std::string md5_response_from_hash(std::string_view stored_hash,
                                   const std::array<std::uint8_t, 4>& salt) {
  std::string input(stored_hash.substr(std::min(k_prefix.size(), stored_hash.size())));
  input.append(reinterpret_cast<const char*>(salt.data()), salt.size());
  return std::string(k_prefix) + md5_hex(input);
}

bool md5_check_response(std::string_view stored_hash, const std::array<std::uint8_t, 4>& salt,
                        std::string_view client_response) {
  const std::string expected = md5_response_from_hash(stored_hash, salt);
  // The expected length is public (always 35), so only the contents need constant time.
  if (client_response.size() != expected.size()) return false;
  return CRYPTO_memcmp(expected.data(), client_response.data(), expected.size()) == 0;
}

}  // namespace pgr::protocol
