#include "proxy/pay/stdio_endpoint.h"

#include <unistd.h>

#include <spdlog/spdlog.h>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/read_until.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/streambuf.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>

namespace x402proxy::proxy {
namespace net = boost::asio;

StdioEndpoint::StdioEndpoint(net::io_context& context, std::size_t max_message_bytes, int in_fd,
                             int out_fd)
    : in_(context, ::dup(in_fd)),
      out_(context, ::dup(out_fd)),
      max_message_bytes_(max_message_bytes),
      drained_(context) {}

net::awaitable<void> StdioEndpoint::read_lines(std::function<void(std::string)> on_line,
                                               std::function<void()> on_oversize) {
  net::streambuf buffer(max_message_bytes_ + 1);
  bool skipping = false;  // inside an oversize line: drop bytes up to its newline
  for (;;) {
    boost::system::error_code ec;
    const std::size_t n = co_await net::async_read_until(
        in_, buffer, '\n', net::redirect_error(net::use_awaitable, ec));
    if (ec == net::error::not_found) {  // the buffer is full and holds no newline
      buffer.consume(buffer.size());
      if (!skipping)
        on_oversize();
      skipping = true;
      continue;
    }
    if (ec) {
      if (ec != net::error::eof)
        spdlog::warn("stdin: {}", ec.message());
      co_return;
    }
    std::string line(net::buffers_begin(buffer.data()), net::buffers_begin(buffer.data()) + n);
    buffer.consume(n);
    if (skipping) {
      skipping = false;
      continue;
    }
    while (!line.empty() && (line.back() == '\n' || line.back() == '\r'))
      line.pop_back();
    if (line.find_first_not_of(" \t") == std::string::npos)
      continue;
    on_line(std::move(line));
  }
}

void StdioEndpoint::write(std::string message) {
  if (output_broken_)
    return;
  message.push_back('\n');
  queue_.push_back(std::move(message));
  if (!writing_) {
    writing_ = true;
    net::co_spawn(out_.get_executor(), drain(), net::detached);
  }
}

net::awaitable<void> StdioEndpoint::drain() {
  while (!queue_.empty()) {
    std::string next = std::move(queue_.front());
    queue_.pop_front();
    boost::system::error_code ec;
    co_await net::async_write(out_, net::buffer(next), net::redirect_error(net::use_awaitable, ec));
    if (ec) {
      spdlog::warn("stdout: {}; the client is gone", ec.message());
      output_broken_ = true;
      queue_.clear();
    }
  }
  writing_ = false;
  drained_.cancel();
}

net::awaitable<void> StdioEndpoint::flush() {
  while (writing_ && !output_broken_) {
    drained_.expires_after(std::chrono::seconds(5));
    boost::system::error_code ec;
    co_await drained_.async_wait(net::redirect_error(net::use_awaitable, ec));
    if (!ec)
      co_return;  // five seconds without progress: give up
  }
}

}  // namespace x402proxy::proxy
