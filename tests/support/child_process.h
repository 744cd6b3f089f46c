// Starts a program for a test (the real x402-mcp-proxy binary, a node peer) with its own argv and
// environment, its stdout and stderr written to files, and stops it (SIGTERM to its process group,
// then SIGKILL after a grace period) when the test ends. Every child is reaped: no zombies.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <optional>
#include <regex>
#include <string>
#include <vector>

namespace x402proxy::testing {

struct ChildOptions {
  std::vector<std::string> argv;  // argv[0] is looked up in PATH
  std::vector<std::string> env;   // NAME=VALUE, set over this process's environment
  std::string stdout_path;        // where stdout goes (created or truncated)
  std::string stderr_path;        // where stderr goes; empty: the stdout file
  bool stdin_pipe = false;        // stdin from a pipe the test writes (write_stdin), else /dev/null
};

class ChildProcess {
 public:
  // stdout and stderr both to `log_path`; the environment is this process's.
  ChildProcess(std::vector<std::string> argv, std::string log_path);
  explicit ChildProcess(ChildOptions options);
  ~ChildProcess();  // terminate(2 s)
  ChildProcess(const ChildProcess&) = delete;
  ChildProcess& operator=(const ChildProcess&) = delete;

  bool started() const { return pid_ > 0; }  // false: the program could not be started
  pid_t pid() const { return pid_; }
  bool running();

  // Waits until a line of the output (stdout or stderr) contains `text` / matches `pattern`;
  // returns that whole line, or nullopt on timeout or when the child exits first.
  std::optional<std::string> wait_for_line(const std::string& text,
                                           std::chrono::milliseconds timeout);
  std::optional<std::string> wait_for_line(const std::regex& pattern,
                                           std::chrono::milliseconds timeout);

  std::string output() const;  // stdout, then stderr when it has its own file
  std::string stdout_text() const;
  std::string stderr_text() const;
  // With ChildOptions::stdin_pipe: writes to the child's stdin (false when it is gone); closing it
  // is the child's end of input.
  bool write_stdin(const std::string& bytes);
  void close_stdin();

  // Waits for the child to exit by itself; its exit status (or -signal), nullopt on timeout.
  std::optional<int> wait_for_exit(std::chrono::milliseconds timeout);
  // SIGTERM, up to `grace` to exit, then SIGKILL; returns the exit status (or -signal).
  int terminate(std::chrono::milliseconds grace = std::chrono::seconds(5));
  int stop(std::chrono::milliseconds grace = std::chrono::seconds(5)) { return terminate(grace); }

 private:
  void spawn(ChildOptions options);
  std::optional<std::string> wait_for(const std::regex* pattern, const std::string* text,
                                      std::chrono::milliseconds timeout);

  pid_t pid_ = -1;
  int stdin_fd_ = -1;  // our end of the stdin pipe
  std::string stdout_path_;
  std::string stderr_path_;  // empty: shared with stdout
  std::optional<int> exit_status_;
};

// The port in a "listening on HOST:PORT" line (0 when there is none).
unsigned short port_from_listening_line(const std::string& line);

// Path of the built x402-mcp-proxy binary (set by CMake).
std::string proxy_binary();
// A fresh temporary directory for one test.
std::string make_temp_dir(const std::string& prefix);

}  // namespace x402proxy::testing
