#include "pay/stdio_endpoint.h"

#include <unistd.h>

#include <spdlog/spdlog.h>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/read_until.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/streambuf.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>

namespace x402proxy::pay {
namespace asio = boost::asio;

StdioEndpoint::StdioEndpoint(asio::io_context& context, std::size_t max_message_bytes, int in_fd,
                             int out_fd)
    : in_(context, ::dup(in_fd)),
      out_(context, ::dup(out_fd)),
      max_message_bytes_(max_message_bytes),
      drained_(context) {}

asio::awaitable<void> StdioEndpoint::read_lines(std::function<void(std::string)> on_line,
                                                std::function<void()> on_oversize) {
  asio::streambuf buffer(max_message_bytes_ + 1);
  bool skipping = false;  // inside an oversize line: drop bytes up to its newline
  for (;;) {
    boost::system::error_code ec;
    const std::size_t n = co_await asio::async_read_until(
        in_, buffer, '\n', asio::redirect_error(asio::use_awaitable, ec));
    if (ec == asio::error::not_found) {  // the buffer is full and holds no newline
      buffer.consume(buffer.size());
      if (!skipping)
        on_oversize();
      skipping = true;
      continue;
    }
    if (ec) {
      if (ec != asio::error::eof)
        spdlog::warn("stdin: {}", ec.message());
      co_return;
    }
    std::string line(asio::buffers_begin(buffer.data()), asio::buffers_begin(buffer.data()) + n);
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
    asio::co_spawn(out_.get_executor(), drain(), asio::detached);
  }
}

asio::awaitable<void> StdioEndpoint::drain() {
  while (!queue_.empty()) {
    std::string next = std::move(queue_.front());
    queue_.pop_front();
    boost::system::error_code ec;
    co_await asio::async_write(out_, asio::buffer(next),
                               asio::redirect_error(asio::use_awaitable, ec));
    if (ec) {
      spdlog::warn("stdout: {}; the client is gone", ec.message());
      output_broken_ = true;
      queue_.clear();
    }
  }
  writing_ = false;
  drained_.cancel();
}

asio::awaitable<void> StdioEndpoint::flush() {
  while (writing_ && !output_broken_) {
    drained_.expires_after(std::chrono::seconds(5));
    boost::system::error_code ec;
    co_await drained_.async_wait(asio::redirect_error(asio::use_awaitable, ec));
    if (!ec)
      co_return;  // five seconds without progress: give up
  }
}

}  // namespace x402proxy::pay
