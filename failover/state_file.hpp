// The failover state that must survive a restart ([failover] state_file): the cluster's
// identity, the current primary and timeline, and each node's attach state with why and since
// when, so a restarted pgrouter keeps diverged and fenced nodes out. A line-based text format,
// written and parsed here, plus the small bit of file I/O that replaces it atomically.
//
// Format (version 1), one item per line; blank lines and lines starting with # are ignored:
//   format 1                                  first item, always
//   system_identifier 7310815242871858913     optional
//   primary "node2"                           optional: no line while there is no primary
//   timeline 3                                optional
//   node name="node0" host="10.0.0.1" port=5432 state=fenced since=1732240000 reason="..."
// Strings are in double quotes with \" \\ \n \r \t and \xHH escapes (any byte < 0x20 or 0x7f
// is written as \xHH); bare words are accepted where a value has no blank, quote or #.
// `since` is seconds since the Unix epoch. Unknown keys and fields are errors: a change of
// meaning gets a new format version.
//
// Thread rules: free functions over values. The file functions block on disk I/O: call them
// from the main thread, which owns failover, never from a worker.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "failover/attach_state.hpp"

namespace pgr::failover {

inline constexpr int k_state_format_version = 1;

struct PersistedNode {
  std::string name;
  std::string host;
  std::uint16_t port = 0;
  AttachState state = AttachState::attached;
  std::string reason;      // free text: why it is in this state ("" allowed)
  std::int64_t since = 0;  // seconds since the epoch when it entered this state

  friend bool operator==(const PersistedNode&, const PersistedNode&) = default;
};

struct PersistedState {
  std::optional<std::uint64_t> system_identifier;
  std::optional<std::string> primary;  // a node name; must be one of `nodes`, attached
  std::optional<std::uint32_t> timeline;
  std::vector<PersistedNode> nodes;  // names unique

  const PersistedNode* find(std::string_view name) const;
  friend bool operator==(const PersistedState&, const PersistedState&) = default;
};

struct StateError {
  int line = 0;  // 1-based; 0 when the problem is the file as a whole
  std::string problem;
  std::string to_string() const;  // "line 3: ..." or the problem alone
};

struct StateParseResult {
  std::optional<PersistedState> state;  // nullopt exactly when error is set
  std::optional<StateError> error;
};

// Always the current format version; parse_state(serialize_state(s)) gives s back for any s
// whose names are unique and whose primary is one of its attached nodes.
[[nodiscard]] std::string serialize_state(const PersistedState& state);
[[nodiscard]] StateParseResult parse_state(std::string_view text);

struct FileError {
  std::string path;
  std::string problem;  // "rename to /var/lib/pgrouter/state: Permission denied"
  std::string to_string() const;
};

// Writes `text` to path + ".tmp" (mode 0600), fsyncs it, renames it over `path` and fsyncs
// the directory, so a crash leaves either the old file or the new one, whole. nullopt: done.
[[nodiscard]] std::optional<FileError> write_state_file_atomically(const std::string& path,
                                                                   std::string_view text);

struct ReadFileResult {
  std::optional<std::string> text;  // the content; nullopt when missing or on error
  bool missing = false;             // no such file: a first start, not an error
  std::optional<FileError> error;
};

[[nodiscard]] ReadFileResult read_state_file(const std::string& path);

struct LoadStateResult {
  std::optional<PersistedState> state;  // nullopt when missing or on error
  bool missing = false;
  std::optional<std::string> error;  // "PATH: line 4: ..." or the file error
};

// read_state_file, then parse_state, errors naming the file.
[[nodiscard]] LoadStateResult load_state_file(const std::string& path);

}  // namespace pgr::failover
