// The MCP stdio transport as the server end (MCP basic/transports "stdio"): newline-delimited
// JSON-RPC messages on stdin, answers on stdout, nothing else on stdout (logs go to stderr).
// Reading and writing are asynchronous on the one io_context, so a client that reads slowly never
// blocks the bridge, and every message is handled in its own coroutine so calls run concurrently.
#pragma once

#include <cstddef>
#include <deque>
#include <functional>
#include <string>

#include <boost/asio/awaitable.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>
#include <boost/asio/steady_timer.hpp>

namespace x402proxy::pay {

class StdioEndpoint {
 public:
  // Takes over the descriptors (stdin/stdout by default).
  StdioEndpoint(boost::asio::io_context& context, std::size_t max_message_bytes, int in_fd = 0,
                int out_fd = 1);

  // Reads lines until end of input, calling `on_line` for each non-empty one. A line longer than
  // the limit is skipped and reported through `on_oversize`.
  boost::asio::awaitable<void> read_lines(std::function<void(std::string)> on_line,
                                          std::function<void()> on_oversize);

  // Queues one message (a newline is added); writes keep their order.
  void write(std::string message);
  // Waits until every queued message is written (or the output is gone).
  boost::asio::awaitable<void> flush();

 private:
  boost::asio::awaitable<void> drain();

  boost::asio::posix::stream_descriptor in_;
  boost::asio::posix::stream_descriptor out_;
  std::size_t max_message_bytes_;
  std::deque<std::string> queue_;
  bool writing_ = false;
  bool output_broken_ = false;
  boost::asio::steady_timer drained_;
};

}  // namespace x402proxy::pay
