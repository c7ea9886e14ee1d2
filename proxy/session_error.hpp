// The one place client-facing failures get their SQLSTATE and wording.
// Code that fails returns a SessionError; the session turns it into an ErrorResponse
// (FATAL: the connection closes afterwards) where the protocol state still allows one.
#pragma once

#include <string>
#include <string_view>

#include "protocol/byte_io.hpp"
#include "protocol/messages.hpp"
#include "protocol/sqlstate.hpp"

namespace pgr::proxy {

struct SessionError {
  std::string sqlstate;
  std::string message;
  std::string detail;
  // A backend's own ErrorResponse, relayed as it came (framed), instead of ours.
  protocol::byte_buffer relayed;

  static SessionError make(std::string_view sqlstate, std::string message,
                           std::string detail = {}) {
    return SessionError{std::string(sqlstate), std::move(message), std::move(detail), {}};
  }
};

// Appends the FATAL ErrorResponse for `error` (or the relayed backend message).
void write_fatal(protocol::byte_buffer& out, const SessionError& error);

}  // namespace pgr::proxy
