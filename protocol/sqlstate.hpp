// SQLSTATE codes pgrouter itself sends (PostgreSQL Appendix A). Backend errors are relayed
// with their own codes; these are for errors pgrouter raises.
#pragma once

#include <string_view>

namespace pgr::protocol::sqlstate {

inline constexpr std::string_view connection_exception = "08000";
inline constexpr std::string_view connection_failure = "08006";
inline constexpr std::string_view sqlclient_unable_to_establish_sqlconnection = "08001";
inline constexpr std::string_view protocol_violation = "08P01";
inline constexpr std::string_view feature_not_supported = "0A000";
inline constexpr std::string_view invalid_authorization_specification = "28000";
inline constexpr std::string_view invalid_password = "28P01";
inline constexpr std::string_view too_many_connections = "53300";
inline constexpr std::string_view program_limit_exceeded = "54000";
inline constexpr std::string_view query_canceled = "57014";
inline constexpr std::string_view admin_shutdown = "57P01";
inline constexpr std::string_view cannot_connect_now = "57P03";
inline constexpr std::string_view read_only_sql_transaction = "25006";
inline constexpr std::string_view internal_error = "XX000";

}  // namespace pgr::protocol::sqlstate
