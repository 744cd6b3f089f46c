#include "tests/support/raw_upstream.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cctype>
#include <cstdlib>
#include <stdexcept>

namespace x402proxy::testing {

RawUpstream::RawUpstream(Script script) : script_(std::move(script)) {
  listener_ = ::socket(AF_INET, SOCK_STREAM, 0);
  int one = 1;
  ::setsockopt(listener_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::bind(listener_, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0 ||
      ::listen(listener_, 64) != 0)
    throw std::runtime_error("raw upstream: cannot listen");
  socklen_t length = sizeof address;
  ::getsockname(listener_, reinterpret_cast<sockaddr*>(&address), &length);
  port_ = ntohs(address.sin_port);
  acceptor_ = std::thread([this] { accept_loop(); });
}

RawUpstream::~RawUpstream() {
  stopping_ = true;
  ::shutdown(listener_, SHUT_RDWR);
  ::close(listener_);
  acceptor_.join();
  {
    std::lock_guard lock(mutex_);
    for (int fd : connections_)
      ::shutdown(fd, SHUT_RDWR);
  }
  for (auto& thread : threads_)
    thread.join();
}

std::vector<std::string> RawUpstream::requests() const {
  std::lock_guard lock(mutex_);
  return requests_;
}

void RawUpstream::accept_loop() {
  while (!stopping_) {
    const int fd = ::accept(listener_, nullptr, nullptr);
    if (fd < 0)
      return;
    std::lock_guard lock(mutex_);
    connections_.push_back(fd);
    threads_.emplace_back([this, fd] { serve(fd); });
  }
}

namespace {

std::size_t content_length(const std::string& header) {
  std::string lower;
  for (char c : header)
    lower.push_back(static_cast<char>(std::tolower(static_cast<unsigned char>(c))));
  const auto at = lower.find("\r\ncontent-length:");
  if (at == std::string::npos)
    return 0;
  return std::strtoul(lower.c_str() + at + 17, nullptr, 10);
}

}  // namespace

void RawUpstream::serve(int fd) {
  std::string pending;
  char chunk[16 * 1024];
  for (;;) {
    const auto end = pending.find("\r\n\r\n");
    if (end != std::string::npos) {
      const std::size_t total = end + 4 + content_length(pending.substr(0, end + 2));
      if (pending.size() >= total) {
        const std::string request = pending.substr(0, total);
        pending.erase(0, total);
        {
          std::lock_guard lock(mutex_);
          requests_.push_back(request);
        }
        const std::string answer = script_(request);
        for (std::size_t sent = 0; sent < answer.size();) {
          const ssize_t n = ::send(fd, answer.data() + sent, answer.size() - sent, MSG_NOSIGNAL);
          if (n <= 0)
            break;
          sent += static_cast<std::size_t>(n);
        }
        continue;
      }
    }
    const ssize_t got = ::recv(fd, chunk, sizeof chunk, 0);
    if (got <= 0)
      break;
    pending.append(chunk, static_cast<std::size_t>(got));
  }
  ::close(fd);
}

std::string RawUpstream::json_response(const std::string& body, unsigned status) {
  return "HTTP/1.1 " + std::to_string(status) +
         " OK\r\nContent-Type: application/json\r\nContent-Length: " + std::to_string(body.size()) +
         "\r\n\r\n" + body;
}

std::string RawUpstream::id_of(const std::string& request) {
  const auto at = request.find("\"id\":");
  if (at == std::string::npos)
    return "";
  const auto end = request.find_first_of(",}", at + 5);
  return request.substr(at + 5, end - at - 5);
}

}  // namespace x402proxy::testing
