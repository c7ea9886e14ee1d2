// Running the operator's commands (see command_runner.hpp).
#include "coordinator/command_runner.hpp"

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <cstring>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "support/log.hpp"

extern char** environ;

namespace pgr::coordinator {
namespace {

namespace asio = boost::asio;
using steady_clock = std::chrono::steady_clock;
constexpr auto poll_interval = std::chrono::milliseconds(20);
constexpr std::size_t max_logged_bytes = 64 * 1024;  // a chatty script cannot flood the log

// Reads what the command wrote so far; logs complete lines (and the rest once `final`).
class OutputLog {
 public:
  OutputLog(int fd, std::string label) : fd_(fd), label_(std::move(label)) {}
  void drain(bool final) {
    std::array<char, 4096> buffer{};
    while (true) {
      const ssize_t n = ::read(fd_, buffer.data(), buffer.size());
      if (n <= 0) break;
      pending_.append(buffer.data(), static_cast<std::size_t>(n));
    }
    std::size_t start = 0;
    for (std::size_t nl = pending_.find('\n'); nl != std::string::npos;
         nl = pending_.find('\n', start)) {
      emit(std::string_view(pending_).substr(start, nl - start));
      start = nl + 1;
    }
    pending_.erase(0, start);
    if (final && !pending_.empty()) emit(pending_);
  }

 private:
  void emit(std::string_view line) {
    if (logged_ >= max_logged_bytes) return;
    logged_ += line.size();
    pgr::log::info(label_, ": | ", line);
    if (logged_ >= max_logged_bytes) pgr::log::warn(label_, ": output truncated");
  }
  int fd_;
  std::string label_;
  std::string pending_;
  std::size_t logged_ = 0;
};

int exit_code_of(int status) {
  if (WIFEXITED(status)) return WEXITSTATUS(status);
  if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
  return 255;
}

}  // namespace

asio::awaitable<CommandOutcome> run_shell_command(asio::any_io_executor executor,
                                                  std::string label, std::string command,
                                                  steady_clock::time_point deadline) {
  CommandOutcome outcome;
  const auto started = steady_clock::now();
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) != 0) {
    outcome.error = std::string("pipe: ") + std::strerror(errno);
    co_return outcome;
  }
  posix_spawn_file_actions_t actions;
  posix_spawnattr_t attr;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_adddup2(&actions, fds[1], 1);
  posix_spawn_file_actions_adddup2(&actions, fds[1], 2);
  posix_spawnattr_init(&attr);
  // Own process group (killed whole at the deadline); default SIGPIPE (pgrouter ignores it,
  // and an ignored disposition would survive exec); nothing blocked.
  sigset_t defaults;
  sigset_t none;
  sigemptyset(&defaults);
  sigaddset(&defaults, SIGPIPE);
  sigemptyset(&none);
  posix_spawnattr_setsigdefault(&attr, &defaults);
  posix_spawnattr_setsigmask(&attr, &none);
  posix_spawnattr_setpgroup(&attr, 0);
  posix_spawnattr_setflags(&attr, static_cast<short>(POSIX_SPAWN_SETPGROUP |
                                                     POSIX_SPAWN_SETSIGDEF |
                                                     POSIX_SPAWN_SETSIGMASK));
  std::string sh = "sh";
  std::string dash_c = "-c";
  char* argv[] = {sh.data(), dash_c.data(), command.data(), nullptr};
  pid_t pid = 0;
  const int spawn_error = ::posix_spawn(&pid, "/bin/sh", &actions, &attr, argv, environ);
  posix_spawn_file_actions_destroy(&actions);
  posix_spawnattr_destroy(&attr);
  ::close(fds[1]);
  if (spawn_error != 0) {
    ::close(fds[0]);
    outcome.error = std::string("cannot run /bin/sh: ") + std::strerror(spawn_error);
    co_return outcome;
  }
  outcome.started = true;
  pgr::log::info(label, ": started (pid ", pid, "): ", command);
  (void)::fcntl(fds[0], F_SETFL, ::fcntl(fds[0], F_GETFL) | O_NONBLOCK);
  OutputLog output(fds[0], label);

  asio::steady_timer timer(executor);
  int status = 0;
  while (true) {
    output.drain(false);
    const pid_t done = ::waitpid(pid, &status, WNOHANG);
    if (done == pid) {
      outcome.exit_code = exit_code_of(status);
      break;
    }
    if (steady_clock::now() >= deadline) {
      ::kill(-pid, SIGKILL);
      ::kill(pid, SIGKILL);
      (void)::waitpid(pid, &status, 0);
      outcome.timed_out = true;
      break;
    }
    timer.expires_after(poll_interval);
    auto [ec] = co_await timer.async_wait(asio::as_tuple(asio::use_awaitable));
    if (ec) {  // cancelled: pgrouter is stopping; do not leave the command behind
      ::kill(-pid, SIGKILL);
      (void)::waitpid(pid, &status, 0);
      outcome.timed_out = true;
      break;
    }
  }
  output.drain(true);
  ::close(fds[0]);
  outcome.took = std::chrono::duration_cast<std::chrono::milliseconds>(steady_clock::now() -
                                                                       started);
  co_return outcome;
}

}  // namespace pgr::coordinator
