// The operator's failover_command, follow_primary_command and rewind_command templates:
// pgpool-II 4.3's %-placeholders expanded into a command line for `/bin/sh -c`, every value
// quoted for the shell so that a host or data directory holding spaces, quotes, `$(...)` or
// newlines arrives as data, never as shell syntax. Pure: text in, text out.
//
// Placeholders (pgpool-II 4.3, src/main/pgpool_main.c trigger_failover_command):
//   %d %h %p %D  id, host, port, data directory of the failed node (failover_command) or of the
//                standby being repointed or rewound (follow_primary_command, rewind_command)
//   %m %H %r %R  id, host, port, data directory of the new main node (the node to promote, then
//                the new primary)
//   %M           old main node id: the lowest-numbered node that was up before the failure
//   %P %N %S     id, host, port of the old primary
//   %%           a literal %
// A node id is the backend's position in the configuration, from 0, as pgpool's node ids.
// As pgpool: a missing node id is -1, and a missing host or port is an empty argument (pgpool
// writes ""). Where we decide: a missing data directory is an empty argument too (pgpool
// inserts nothing, which shifts a script's positional parameters); pgpool's leading space
// before %d, %p and %m is not reproduced; an unknown placeholder or a lone % at the end
// expands to nothing, as in pgpool, but validate_command_template reports both so config
// load can reject a typo.
//
// What the caller gets: a string for `/bin/sh -c` in which the template's own text is
// unchanged (it is the operator's shell code) and each value is quoted for the context it lands
// in — outside quotes as one '...' word (or bare when it is only [A-Za-z0-9_./:@%+,-]), inside
// '...' by closing and reopening the quotes, inside "..." with \ before $ ` " \. The shell then
// sees exactly the value, as (part of) one word. Placeholders where no quoting can be
// guaranteed are refused rather than expanded: right after an unquoted backslash, inside
// $(...), `...`, ${...} or $((...)), in a # comment, or anywhere after a << here-document
// operator. The quoting protects this one shell parse only: a script that hands a value to
// ssh or eval has it parsed again and must quote it itself.
//
// Thread rules: free functions over values; callable from any thread.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace pgr::failover {

struct PlaceholderNode {
  std::size_t id = 0;
  std::string host;
  std::uint16_t port = 0;       // 0: unknown, expands to an empty argument
  std::string data_directory;  // "": not configured, expands to an empty argument
};

struct PlaceholderValues {
  std::optional<PlaceholderNode> node;         // %d %h %p %D
  std::optional<PlaceholderNode> new_main;     // %m %H %r %R
  std::optional<std::size_t> old_main_id;      // %M
  std::optional<PlaceholderNode> old_primary;  // %P %N %S
};

struct TemplateError {
  std::size_t offset = 0;  // byte offset of the offending placeholder or construct
  std::string problem;
  std::string to_string() const;  // "at byte 12: ..."
};

struct ExpandedCommand {
  std::optional<std::string> command;  // for /bin/sh -c; nullopt exactly when error is set
  std::optional<TemplateError> error;
};

// Expands `command_template` with `values`. Fails for the placements listed above and for a
// value holding a NUL byte (it cannot reach /bin/sh intact); never for unknown placeholders.
[[nodiscard]] ExpandedCommand expand_command(std::string_view command_template,
                                             const PlaceholderValues& values);

// For config load: the first problem expand_command would refuse, or an unknown placeholder
// or a trailing lone % (both of which expand_command drops, as pgpool does). nullopt: fine.
[[nodiscard]] std::optional<TemplateError> validate_command_template(
    std::string_view command_template);

// `value` as one shell word outside any quotes: bare when it is only safe characters,
// otherwise in single quotes with each ' written as '\''. "" becomes ''.
[[nodiscard]] std::string quote_for_shell(std::string_view value);

}  // namespace pgr::failover
