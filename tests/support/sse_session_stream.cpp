#include "tests/support/sse_session_stream.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <boost/json.hpp>

namespace x402proxy::testing {
using Clock = std::chrono::steady_clock;

SseSessionStream::SseSessionStream(unsigned short port, const std::string& path) {
  open(port, "GET " + path + " HTTP/1.1\r\nHost: 127.0.0.1:" + std::to_string(port) +
                 "\r\nAccept: text/event-stream\r\nCache-Control: no-cache\r\n\r\n");
}

SseSessionStream::SseSessionStream(unsigned short port, const std::string& method,
                                   const std::string& target, const std::string& body,
                                   const Headers& headers) {
  std::string request =
      method + " " + target + " HTTP/1.1\r\nHost: 127.0.0.1:" + std::to_string(port) + "\r\n";
  for (const auto& [name, value] : headers)
    request += name + ": " + value + "\r\n";
  if (!body.empty())
    request += "Content-Length: " + std::to_string(body.size()) + "\r\n";
  open(port, request + "\r\n" + body);
}

void SseSessionStream::open(unsigned short port, const std::string& request) {
  fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(port);
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd_, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0) {
    close();
    return;
  }
  if (::send(fd_, request.data(), request.size(), MSG_NOSIGNAL) !=
      static_cast<ssize_t>(request.size())) {
    close();
    return;
  }
  const auto deadline = Clock::now() + std::chrono::seconds(5);
  while (head_.find("\r\n\r\n") == std::string::npos) {
    if (!read_more(deadline))
      return;
  }
  const auto end = head_.find("\r\n\r\n");
  raw_ = head_.substr(end + 4);
  head_.resize(end + 4);
  if (head_.size() > 12)
    status_ = static_cast<unsigned>(std::stoul(head_.substr(9, 3)));
  decode_chunks();
}

SseSessionStream::~SseSessionStream() {
  close();
}

void SseSessionStream::close() {
  if (fd_ >= 0)
    ::close(fd_);
  fd_ = -1;
}

// Appends what arrives before `deadline` to the head while it is incomplete, else to the body.
bool SseSessionStream::read_more(Clock::time_point deadline) {
  if (fd_ < 0)
    return false;
  const auto left =
      std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count();
  if (left <= 0)
    return false;
  pollfd polled{fd_, POLLIN, 0};
  if (::poll(&polled, 1, static_cast<int>(left)) <= 0)
    return false;
  char buffer[16384];
  const ssize_t got = ::recv(fd_, buffer, sizeof buffer, 0);
  if (got <= 0) {
    ended_ = true;
    close();
    return false;
  }
  if (status_ == 0 && head_.find("\r\n\r\n") == std::string::npos)
    head_.append(buffer, static_cast<std::size_t>(got));
  else
    raw_.append(buffer, static_cast<std::size_t>(got));
  return true;
}

void SseSessionStream::decode_chunks() {
  while (true) {
    const auto line_end = raw_.find("\r\n");
    if (line_end == std::string::npos)
      return;
    const std::size_t size = std::stoul(raw_.substr(0, line_end), nullptr, 16);
    if (size == 0) {
      ended_ = true;
      return;
    }
    if (raw_.size() < line_end + 2 + size + 2)
      return;
    decoded_ += raw_.substr(line_end + 2, size);
    raw_.erase(0, line_end + 2 + size + 2);
  }
}

std::optional<SseEvent> SseSessionStream::next_event(std::chrono::milliseconds timeout) {
  const auto deadline = Clock::now() + timeout;
  while (true) {
    // One block (up to a blank line) at a time: a comment block holds no event.
    for (auto end = decoded_.find("\n\n", consumed_); end != std::string::npos;
         end = decoded_.find("\n\n", consumed_)) {
      HttpReply block;
      block.body = decoded_.substr(consumed_, end + 2 - consumed_);
      consumed_ = end + 2;
      auto events = sse_events(block);
      if (!events.empty())
        return events.front();
    }
    if (ended_ || !read_more(deadline))
      return std::nullopt;
    decode_chunks();
  }
}

std::optional<SseEvent> SseSessionStream::answer_to(int id, std::chrono::milliseconds timeout) {
  const auto deadline = Clock::now() + timeout;
  while (Clock::now() < deadline) {
    auto event =
        next_event(std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()));
    if (!event)
      return std::nullopt;
    if (event->event != "message")
      continue;
    boost::system::error_code ec;
    auto value = boost::json::parse(event->data, ec);
    if (ec || !value.is_object())
      continue;
    const auto* message_id = value.as_object().if_contains("id");
    if (message_id != nullptr && message_id->is_int64() && message_id->as_int64() == id &&
        !value.as_object().contains("method"))
      return event;
  }
  return std::nullopt;
}

}  // namespace x402proxy::testing
