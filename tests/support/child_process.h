// Starts a program for a test (the real x402-mcp-proxy binary, a node peer), captures its output to
// a file, and stops it (SIGTERM, then SIGKILL) when the test ends. No zombies are left behind.
#pragma once

#include <sys/types.h>
#include <chrono>
#include <optional>
#include <string>
#include <vector>

namespace x402proxy::testing {

class ChildProcess {
 public:
  ChildProcess(std::vector<std::string> argv, std::string log_path);
  ~ChildProcess();
  ChildProcess(const ChildProcess&) = delete;
  ChildProcess& operator=(const ChildProcess&) = delete;

  bool running();
  // Waits until the output contains `text`; returns the whole line, or nullopt on timeout/exit.
  std::optional<std::string> wait_for_line(const std::string& text,
                                           std::chrono::milliseconds timeout);
  std::string output() const;
  // Sends SIGTERM, waits up to `grace`, then SIGKILL; returns the exit status (or -signal).
  int stop(std::chrono::milliseconds grace = std::chrono::seconds(5));

 private:
  pid_t pid_ = -1;
  std::string log_path_;
  std::optional<int> exit_status_;
};

// The port in a "listening on HOST:PORT" line.
unsigned short port_from_listening_line(const std::string& line);

// Path of the built x402-mcp-proxy binary (set by CMake).
std::string proxy_binary();
// A fresh temporary directory for one test.
std::string make_temp_dir(const std::string& prefix);

}  // namespace x402proxy::testing
