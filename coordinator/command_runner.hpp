// The operator's commands (failover_command, follow_primary_command, rewind_command): run with
// /bin/sh -c in a process group of their own, stdin from /dev/null, stdout and stderr logged
// line by line, killed (the whole group, SIGKILL) at the deadline. The exit code is honoured:
// pgpool ignores it, pgrouter does not.
//
// Thread rules: main thread only (waitpid is polled on a timer, so no SIGCHLD handler is
// installed and nothing else in the process may reap children).
#pragma once

#include <chrono>
#include <string>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>

namespace pgr::coordinator {

struct CommandOutcome {
  bool started = false;    // false: it could not be spawned (error says why)
  bool timed_out = false;  // killed at the deadline
  int exit_code = 0;       // a signal counts as 128 + its number
  std::string error;
  std::chrono::milliseconds took{0};
};

// `label` prefixes every log line ("failover_command"). The command line is logged as is
// (templates hold no secrets; a password belongs in ~/.pgpass, not on a command line).
[[nodiscard]] boost::asio::awaitable<CommandOutcome> run_shell_command(
    boost::asio::any_io_executor executor, std::string label, std::string command,
    std::chrono::steady_clock::time_point deadline);

}  // namespace pgr::coordinator
