// MD5 password authentication math (PostgreSQL's md5 method), on OpenSSL.
// Stored form: "md5" + hex(md5(password + user)). On the wire: "md5" + hex(md5(hex_part + salt)).
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>

namespace pgr::protocol {

std::string md5_hex(std::string_view data);
// "md5" + md5_hex(password + user): what pg_authid holds for an md5 password.
std::string md5_stored_hash(std::string_view user, std::string_view password);
bool is_md5_stored_hash(std::string_view secret);  // "md5" + 32 lowercase hex digits
// The PasswordMessage a client sends for the given salt, from the stored hash.
std::string md5_response_from_hash(std::string_view stored_hash,
                                   const std::array<std::uint8_t, 4>& salt);
// Constant-time comparison of what a client sent against what it should have sent.
bool md5_check_response(std::string_view stored_hash, const std::array<std::uint8_t, 4>& salt,
                        std::string_view client_response);

}  // namespace pgr::protocol
