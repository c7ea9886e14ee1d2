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

// Pooled connections prepare statements under their own names (a client's "s1" is not
// another client's "s1"). These append `message` (a framed Parse, Bind, or Describe/Close of
// a statement) with the statement name replaced by `name`; false (nothing appended) when the
// message is malformed or names no statement.
bool write_parse_renamed(byte_buffer& out, bytes_view framed_parse, std::string_view name);
bool write_bind_renamed(byte_buffer& out, bytes_view framed_bind, std::string_view name);
bool write_target_renamed(byte_buffer& out, bytes_view framed_target, std::string_view name);
// What a Parse prepares, for telling equal statements apart: its query and parameter types
// (the body after the statement name). Empty when malformed.
bytes_view parse_definition(bytes_view parse_body);

// Appends a framed Close of statement or portal `name` (kind 'S' or 'P').
void write_close(byte_buffer& out, char kind, std::string_view name);
// Appends a framed Flush.
void write_flush(byte_buffer& out);

}  // namespace pgr::protocol
