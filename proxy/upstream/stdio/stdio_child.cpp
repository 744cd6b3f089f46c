#include "proxy/upstream/stdio/stdio_child.h"

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <thread>

#include <spdlog/spdlog.h>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/read_until.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/streambuf.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>

extern char** environ;

namespace x402proxy::proxy {
namespace asio = boost::asio;
using std::chrono::steady_clock;

namespace {

constexpr std::size_t kMaxStderrLine = 64 * 1024;
constexpr auto kReapPoll = std::chrono::milliseconds(20);

// The environment the child gets: serve's own, with `overrides` set over it.
std::vector<std::string> child_environment(const std::map<std::string, std::string>& overrides) {
  std::vector<std::string> entries;
  for (char** entry = environ; entry && *entry; ++entry) {
    std::string_view text(*entry);
    auto name = text.substr(0, text.find('='));
    if (overrides.find(std::string(name)) == overrides.end())
      entries.emplace_back(text);
  }
  for (const auto& [name, value] : overrides)
    entries.push_back(name + "=" + value);
  return entries;
}

std::vector<char*> c_strings(std::vector<std::string>& strings) {
  std::vector<char*> pointers;
  for (auto& s : strings)
    pointers.push_back(s.data());
  pointers.push_back(nullptr);
  return pointers;
}

void close_pipe(int (&fds)[2]) {
  for (int& fd : fds) {
    if (fd >= 0)
      ::close(fd);
    fd = -1;
  }
}

std::string trim_line_end(std::string line) {
  while (!line.empty() && (line.back() == '\n' || line.back() == '\r'))
    line.pop_back();
  return line;
}

}  // namespace

std::string describe_exit(int wait_status) {
  if (WIFSIGNALED(wait_status))
    return "signal " + std::to_string(WTERMSIG(wait_status));
  if (WIFEXITED(wait_status))
    return "status " + std::to_string(WEXITSTATUS(wait_status));
  return "wait status " + std::to_string(wait_status);
}

Result<std::shared_ptr<StdioChild>> StdioChild::spawn(asio::any_io_executor executor,
                                                      const StdioCommand& command,
                                                      MessageHandler on_message,
                                                      ExitHandler on_exit) {
  if (command.argv.empty())
    return make_error("upstream.spawn", "no command to run");
  int in[2] = {-1, -1}, out[2] = {-1, -1}, err[2] = {-1, -1};
  if (::pipe2(in, O_CLOEXEC) != 0 || ::pipe2(out, O_CLOEXEC) != 0 || ::pipe2(err, O_CLOEXEC) != 0) {
    const int error = errno;
    close_pipe(in);
    close_pipe(out);
    close_pipe(err);
    return make_error("upstream.spawn", std::string("cannot create pipes: ") + strerror(error));
  }
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, in[0], 0);
  posix_spawn_file_actions_adddup2(&actions, out[1], 1);
  posix_spawn_file_actions_adddup2(&actions, err[1], 2);
  if (!command.cwd.empty())
    posix_spawn_file_actions_addchdir_np(&actions, command.cwd.c_str());
  // Asio's sockets are not close-on-exec: without this the child would keep serve's listening
  // port open after serve is gone.
  posix_spawn_file_actions_addclosefrom_np(&actions, 3);

  posix_spawnattr_t attributes;
  posix_spawnattr_init(&attributes);
  posix_spawnattr_setflags(&attributes,
                           POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
  posix_spawnattr_setpgroup(&attributes, 0);
  sigset_t signals;
  sigemptyset(&signals);
  posix_spawnattr_setsigmask(&attributes, &signals);
  // serve ignores SIGPIPE (it writes to pipes); an ignored signal would stay ignored in the child.
  for (int signal : {SIGPIPE, SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGCHLD})
    sigaddset(&signals, signal);
  posix_spawnattr_setsigdefault(&attributes, &signals);

  std::vector<std::string> argv_strings = command.argv;
  std::vector<std::string> env_strings = child_environment(command.env);
  auto argv = c_strings(argv_strings);
  auto envp = c_strings(env_strings);
  pid_t pid = -1;
  const int rc = posix_spawnp(&pid, argv[0], &actions, &attributes, argv.data(), envp.data());
  posix_spawn_file_actions_destroy(&actions);
  posix_spawnattr_destroy(&attributes);
  ::close(in[0]);
  ::close(out[1]);
  ::close(err[1]);
  if (rc != 0) {
    ::close(in[1]);
    ::close(out[0]);
    ::close(err[0]);
    return make_error("upstream.spawn",
                      "cannot start upstream command \"" + command.argv[0] + "\": " + strerror(rc));
  }
  std::shared_ptr<StdioChild> child(new StdioChild(std::move(executor), pid, in[1], out[0], err[0],
                                                   std::move(on_message), std::move(on_exit)));
  child->start();
  return child;
}

StdioChild::StdioChild(asio::any_io_executor executor, pid_t pid, int stdin_fd, int stdout_fd,
                       int stderr_fd, MessageHandler on_message, ExitHandler on_exit)
    : executor_(executor),
      pid_(pid),
      stdin_(executor, stdin_fd),
      stdout_(executor, stdout_fd),
      stderr_(executor, stderr_fd),
      on_message_(std::move(on_message)),
      on_exit_(std::move(on_exit)) {}

StdioChild::~StdioChild() {
  if (reaped_)
    return;
  // Only at shutdown (the readers keep a running child alive): stop it before forgetting it.
  close_stdin();
  signal_group(SIGTERM);
  const auto deadline = steady_clock::now() + kStopGrace;
  while (!try_reap() && steady_clock::now() < deadline)
    std::this_thread::sleep_for(kReapPoll);
  if (!reaped_) {
    signal_group(SIGKILL);
    ::waitpid(pid_, &wait_status_, 0);
    reaped_ = true;
  }
}

void StdioChild::start() {
  auto self = shared_from_this();
  asio::co_spawn(
      executor_, [self]() { return self->read_stdout(); }, asio::detached);
  asio::co_spawn(
      executor_, [self]() { return self->read_stderr(); }, asio::detached);
}

void StdioChild::send(std::string message) {
  if (stdin_broken_ || stopping_)
    return;
  message.push_back('\n');
  stdin_queue_.push_back(std::move(message));
  if (!writing_) {
    writing_ = true;
    auto self = shared_from_this();
    asio::co_spawn(
        executor_, [self]() { return self->drain_stdin(); }, asio::detached);
  }
}

asio::awaitable<void> StdioChild::drain_stdin() {
  while (!stdin_queue_.empty() && !stdin_broken_) {
    std::string next = std::move(stdin_queue_.front());
    stdin_queue_.pop_front();
    boost::system::error_code ec;
    co_await asio::async_write(stdin_, asio::buffer(next),
                               asio::redirect_error(asio::use_awaitable, ec));
    if (ec) {
      // The child closed its stdin or died: its stdout ends too, and watch_exit reports it.
      if (!stopping_)
        spdlog::warn("upstream[{}] stdin: {}", pid_, ec.message());
      stdin_broken_ = true;
      stdin_queue_.clear();
    }
  }
  writing_ = false;
}

asio::awaitable<void> StdioChild::read_stdout() {
  auto self = shared_from_this();
  asio::streambuf buffer(kMaxLineBytes + 1);
  for (;;) {
    boost::system::error_code ec;
    const std::size_t n = co_await asio::async_read_until(
        stdout_, buffer, '\n', asio::redirect_error(asio::use_awaitable, ec));
    if (ec == asio::error::not_found) {
      spdlog::error("upstream[{}] wrote a stdout line longer than {} bytes; stopping it as broken",
                    pid_, kMaxLineBytes);
      stop();
      break;
    }
    if (ec) {
      if (ec != asio::error::eof && ec != asio::error::operation_aborted)
        spdlog::warn("upstream[{}] stdout: {}", pid_, ec.message());
      break;
    }
    std::string line = trim_line_end(
        std::string(asio::buffers_begin(buffer.data()), asio::buffers_begin(buffer.data()) + n));
    buffer.consume(n);
    if (line.find_first_not_of(" \t") == std::string::npos)
      continue;
    on_message_(std::move(line));
  }
  co_await watch_exit();
}

asio::awaitable<void> StdioChild::read_stderr() {
  auto self = shared_from_this();
  asio::streambuf buffer(kMaxStderrLine);
  for (;;) {
    boost::system::error_code ec;
    const std::size_t n = co_await asio::async_read_until(
        stderr_, buffer, '\n', asio::redirect_error(asio::use_awaitable, ec));
    std::size_t take = n;
    if (ec == asio::error::not_found || (ec == asio::error::eof && buffer.size() > 0)) {
      take = buffer.size();  // a line too long to keep whole, or the last one without newline
    } else if (ec) {
      co_return;
    }
    std::string line = trim_line_end(
        std::string(asio::buffers_begin(buffer.data()), asio::buffers_begin(buffer.data()) + take));
    buffer.consume(take);
    if (!line.empty())
      spdlog::info("upstream[{}] stderr: {}", pid_, line);
    if (ec == asio::error::eof)
      co_return;
  }
}

// After stdout ends: the child has exited or is about to. Waits for it without blocking the
// thread (polling waitpid; SIGCHLD belongs to no one in particular in a library), and stops a
// child that closed its stdout but lingers.
asio::awaitable<void> StdioChild::watch_exit() {
  auto self = shared_from_this();
  asio::steady_timer timer(executor_);
  auto since = steady_clock::now();
  bool terminated = false, killed = false;
  while (!try_reap()) {
    if (steady_clock::now() - since >= kStopGrace) {
      if (!terminated) {
        if (!stopping_)
          spdlog::warn("upstream[{}] closed its stdout but did not exit; stopping it", pid_);
        signal_group(SIGTERM);
        terminated = true;
        since = steady_clock::now();
      } else if (!killed) {
        spdlog::warn("upstream[{}] did not exit within {} s of SIGTERM; killing it", pid_,
                     kStopGrace.count());
        signal_group(SIGKILL);
        killed = true;
      }
    }
    timer.expires_after(kReapPoll);
    boost::system::error_code ec;
    co_await timer.async_wait(asio::redirect_error(asio::use_awaitable, ec));
  }
  close_stdin();
  if (on_exit_) {
    auto on_exit = std::move(on_exit_);
    on_exit_ = nullptr;
    on_exit(wait_status_);
  }
}

void StdioChild::stop() {
  if (stopping_ || reaped_)
    return;
  stopping_ = true;
  close_stdin();
  signal_group(SIGTERM);
  auto self = shared_from_this();
  asio::co_spawn(
      executor_,
      [self]() -> asio::awaitable<void> {
        asio::steady_timer timer(self->executor_, kStopGrace);
        boost::system::error_code ec;
        co_await timer.async_wait(asio::redirect_error(asio::use_awaitable, ec));
        if (!self->reaped_) {
          spdlog::warn("upstream[{}] did not exit within {} s of SIGTERM; killing it", self->pid_,
                       kStopGrace.count());
          self->signal_group(SIGKILL);
        }
      },
      asio::detached);
}

void StdioChild::stop_all_now(const std::vector<std::shared_ptr<StdioChild>>& children,
                              std::chrono::milliseconds grace) {
  for (const auto& child : children) {
    if (child->reaped_)
      continue;
    child->stopping_ = true;
    child->close_stdin();
    child->signal_group(SIGTERM);
  }
  const auto deadline = steady_clock::now() + grace;
  for (;;) {
    bool all_reaped = true;
    for (const auto& child : children)
      all_reaped = child->try_reap() && all_reaped;
    if (all_reaped || steady_clock::now() >= deadline)
      break;
    std::this_thread::sleep_for(kReapPoll);
  }
  for (const auto& child : children) {
    if (child->reaped_)
      continue;
    spdlog::warn("upstream[{}] did not exit within {} ms of SIGTERM; killing it", child->pid_,
                 grace.count());
    child->signal_group(SIGKILL);
    ::waitpid(child->pid_, &child->wait_status_, 0);
    child->reaped_ = true;
  }
}

void StdioChild::signal_group(int signal) {
  // Until the leader is reaped its pid cannot be reused, so the group id is still ours.
  if (!reaped_)
    ::kill(-pid_, signal);
}

bool StdioChild::try_reap() {
  if (reaped_)
    return true;
  int status = 0;
  const pid_t result = ::waitpid(pid_, &status, WNOHANG);
  if (result == pid_ || (result < 0 && errno == ECHILD)) {
    reaped_ = true;
    wait_status_ = result == pid_ ? status : 0;
  }
  return reaped_;
}

void StdioChild::close_stdin() {
  boost::system::error_code ec;
  stdin_.close(ec);
  stdin_broken_ = true;
}

ChannelFactory stdio_channel_factory(StdioCommand command) {
  return [command = std::move(command)](
             boost::asio::any_io_executor executor, ChannelMessageHandler on_message,
             ChannelClosedHandler on_closed) -> Result<std::shared_ptr<MessageChannel>> {
    auto spawned = StdioChild::spawn(
        std::move(executor), command, std::move(on_message),
        [on_closed = std::move(on_closed)](int wait_status) {
          on_closed("the upstream MCP server process exited (" + describe_exit(wait_status) + ")");
        });
    if (!spawned.ok())
      return spawned.error();
    return std::shared_ptr<MessageChannel>(*spawned);
  };
}

void stop_stdio_channels_now(const std::vector<std::shared_ptr<MessageChannel>>& channels) {
  std::vector<std::shared_ptr<StdioChild>> children;
  for (const auto& channel : channels) {
    if (auto child = std::dynamic_pointer_cast<StdioChild>(channel))
      children.push_back(std::move(child));
  }
  StdioChild::stop_all_now(children);
}

}  // namespace x402proxy::proxy
