// The heads of the extended-query messages a router must look into: which statement a Parse
// creates and with what SQL, which statement a Bind uses and which portal it fills, what a
// Describe, Close or Execute targets. Only the heads are decoded; parameter values and format
// codes are never looked at (they are relayed as bytes).
//
// Thread rules: none; pure functions over message bodies (the bytes after the 5-byte header).
#pragma once

#include <optional>
#include <string_view>

#include "protocol/byte_io.hpp"

namespace pgr::protocol {

struct ParseHead {
  std::string_view statement;  // "" is the unnamed statement
  std::string_view sql;
};
// Parse ('P'): statement name, query string (parameter type OIDs follow and are not read).
std::optional<ParseHead> parse_parse_head(bytes_view body);

struct BindHead {
  std::string_view portal;     // "" is the unnamed portal
  std::string_view statement;  // "" is the unnamed statement
};
// Bind ('B'): portal name then statement name; the rest is not read.
std::optional<BindHead> parse_bind_head(bytes_view body);

// What a Describe ('D') or Close ('C') names: a prepared statement ('S') or a portal ('P').
struct TargetRef {
  char kind = 'S';
  std::string_view name;
};
std::optional<TargetRef> parse_target_ref(bytes_view body);

// Execute ('E'): the portal (the row limit that follows is not read).
std::optional<std::string_view> parse_execute_portal(bytes_view body);

// Appends a framed Close of statement or portal `name` (kind 'S' or 'P').
void write_close(byte_buffer& out, char kind, std::string_view name);
// Appends a framed Flush.
void write_flush(byte_buffer& out);

}  // namespace pgr::protocol
