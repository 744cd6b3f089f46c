// Drives a program that speaks MCP over stdio (here: `x402-mcp-proxy pay`) the way a desktop
// client does: newline-delimited JSON-RPC written to its stdin, its stdout read message by message.
// stdout goes to a file that is read as it grows, so every message the program wrote stays
// available to the test, in order.
#pragma once

#include <chrono>
#include <cstddef>
#include <optional>
#include <string>
#include <vector>

#include <boost/json/object.hpp>
#include <boost/json/value.hpp>

#include "tests/support/child_process.h"

namespace x402proxy::testing {

class StdioMcpClient {
 public:
  // argv: the program; logs (stderr) go to `stderr_path`, stdout to `stderr_path + ".stdout"`.
  StdioMcpClient(std::vector<std::string> argv, const std::string& stderr_path);

  bool send(const boost::json::value& message);
  bool send_raw(const std::string& line);  // a newline is added
  // The response with this id (waits until it arrives); nullopt on timeout.
  std::optional<boost::json::object> response(
      const boost::json::value& id, std::chrono::milliseconds timeout = std::chrono::seconds(20));
  // initialize + notifications/initialized; returns the initialize result.
  std::optional<boost::json::object> initialize(const std::string& protocol_version = "2025-06-18");
  // tools/call with `arguments`; the whole JSON-RPC response.
  std::optional<boost::json::object> call_tool(int id, const std::string& tool,
                                               boost::json::object arguments = {});
  // Every message read so far, in order.
  std::vector<boost::json::object> messages();
  void close_input() { child_.close_stdin(); }
  ChildProcess& process() { return child_; }

 private:
  void read_new_lines();

  ChildProcess child_;
  std::string stdout_path_;
  std::size_t consumed_ = 0;
  std::string partial_;
  std::vector<boost::json::object> messages_;
};

}  // namespace x402proxy::testing
