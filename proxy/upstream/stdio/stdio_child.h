// One stdio MCP server process (MCP basic/transports "stdio"): newline-delimited JSON-RPC on its
// stdin and stdout, anything on its stderr is a log line. The child runs in its own process group
// so that serve decides when it stops (a Ctrl-C on serve's terminal does not reach it first) and so
// that stopping it also stops whatever it started (npx → node). Every read is bounded (a stdout
// line over 16 MiB means a broken child) and every stop has a deadline (SIGTERM, SIGKILL after 2
// s).
#pragma once

#include <sys/types.h>

#include <chrono>
#include <cstddef>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>

#include "proxy/upstream/bridge/message_channel.h"
#include "x402/result.h"

namespace x402proxy::proxy {

// What to run: argv (argv[0] looked up in PATH), NAME=VALUE additions to serve's own environment,
// and the working directory (empty: serve's). A relative argv[0] path is taken from `cwd`.
struct StdioCommand {
  std::vector<std::string> argv;
  std::map<std::string, std::string> env;
  std::string cwd;
};

// "status 3" for an exit code, "signal 9" for a kill: how a wait status reads in a message.
std::string describe_exit(int wait_status);

class StdioChild : public MessageChannel, public std::enable_shared_from_this<StdioChild> {
 public:
  static constexpr std::size_t kMaxLineBytes = 16 * 1024 * 1024;
  static constexpr std::chrono::seconds kStopGrace{2};

  using MessageHandler = std::function<void(std::string line)>;
  using ExitHandler = std::function<void(int wait_status)>;

  // Starts the process and its readers; `on_message` gets each stdout line, `on_exit` is called
  // once, after the child is reaped. Both run on `executor` (serialise it: a strand). Reason
  // "upstream.spawn" when the program cannot be started.
  static Result<std::shared_ptr<StdioChild>> spawn(boost::asio::any_io_executor executor,
                                                   const StdioCommand& command,
                                                   MessageHandler on_message, ExitHandler on_exit);
  ~StdioChild();
  StdioChild(const StdioChild&) = delete;
  StdioChild& operator=(const StdioChild&) = delete;

  pid_t pid() const { return pid_; }
  bool reaped() const { return reaped_; }

  // Queues one message for stdin (a newline is added); messages are written in order.
  void send(std::string message) override;
  // Closes stdin and sends SIGTERM to the group, SIGKILL after kStopGrace; on_exit follows.
  void stop() override;
  std::string name() const override { return "upstream[" + std::to_string(pid_) + "]"; }

  // For shutdown, once the io_context has stopped (blocking is allowed then): SIGTERM to every
  // child's group, up to `grace` for them all to exit, SIGKILL to the rest, reap them all.
  static void stop_all_now(const std::vector<std::shared_ptr<StdioChild>>& children,
                           std::chrono::milliseconds grace = kStopGrace);

 private:
  StdioChild(boost::asio::any_io_executor executor, pid_t pid, int stdin_fd, int stdout_fd,
             int stderr_fd, MessageHandler on_message, ExitHandler on_exit);
  void start();
  boost::asio::awaitable<void> read_stdout();
  boost::asio::awaitable<void> read_stderr();
  boost::asio::awaitable<void> drain_stdin();
  boost::asio::awaitable<void> watch_exit();
  void signal_group(int signal);
  bool try_reap();
  void close_stdin();

  boost::asio::any_io_executor executor_;
  pid_t pid_;
  boost::asio::posix::stream_descriptor stdin_;
  boost::asio::posix::stream_descriptor stdout_;
  boost::asio::posix::stream_descriptor stderr_;
  MessageHandler on_message_;
  ExitHandler on_exit_;
  std::deque<std::string> stdin_queue_;
  bool writing_ = false;
  bool stdin_broken_ = false;
  bool stopping_ = false;
  bool reaped_ = false;
  int wait_status_ = 0;
};

// The session bridge's channels for a stdio server: one child running `command` per session, its
// exit reported as "the upstream MCP server process exited (status N)".
ChannelFactory stdio_channel_factory(StdioCommand command);
// SessionBridgeOptions::stop_now for those channels: StdioChild::stop_all_now.
void stop_stdio_channels_now(const std::vector<std::shared_ptr<MessageChannel>>& channels);

}  // namespace x402proxy::proxy
