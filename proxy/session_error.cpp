// SessionError to ErrorResponse (see session_error.hpp).
#include "proxy/session_error.hpp"

namespace pgr::proxy {

void write_fatal(protocol::byte_buffer& out, const SessionError& error) {
  if (!error.relayed.empty()) {
    out.insert(out.end(), error.relayed.begin(), error.relayed.end());
    return;
  }
  protocol::ErrorFields fields;
  fields.severity = "FATAL";
  fields.sqlstate = error.sqlstate;
  fields.message = error.message;
  fields.detail = error.detail;
  protocol::write_error_response(out, fields);
}

}  // namespace pgr::proxy
