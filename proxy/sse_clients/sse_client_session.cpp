#include "proxy/sse_clients/sse_client_session.h"

#include <spdlog/spdlog.h>
#include <boost/asio/post.hpp>

namespace x402proxy::proxy {

SseClientSession::SseClientSession(std::string id, boost::asio::any_io_executor stream_executor,
                                   std::size_t max_queued)
    : id_(std::move(id)),
      stream_executor_(stream_executor),
      wake_(stream_executor),
      max_queued_(max_queued) {}

bool SseClientSession::push(std::string message) {
  {
    std::lock_guard lock(mutex_);
    if (closed_)
      return false;
    if (queue_.size() >= max_queued_) {
      spdlog::warn(
          "SSE client session {}: {} messages wait for a client that does not read; "
          "closing its stream",
          id_, queue_.size());
      closed_ = true;
    } else {
      queue_.push_back(std::move(message));
    }
  }
  wake_writer();
  return true;
}

void SseClientSession::close() {
  {
    std::lock_guard lock(mutex_);
    closed_ = true;
  }
  wake_writer();
}

bool SseClientSession::closed() const {
  std::lock_guard lock(mutex_);
  return closed_;
}

std::optional<std::string> SseClientSession::pop() {
  std::lock_guard lock(mutex_);
  if (queue_.empty())
    return std::nullopt;
  std::string message = std::move(queue_.front());
  queue_.pop_front();
  return message;
}

std::string SseClientSession::mcp_session() const {
  std::lock_guard lock(mutex_);
  return mcp_session_;
}

void SseClientSession::set_mcp_session(std::string id) {
  std::lock_guard lock(mutex_);
  mcp_session_ = std::move(id);
}

std::string SseClientSession::protocol_version() const {
  std::lock_guard lock(mutex_);
  return protocol_version_;
}

void SseClientSession::set_protocol_version(std::string version) {
  std::lock_guard lock(mutex_);
  protocol_version_ = std::move(version);
}

bool SseClientSession::claim_listener() {
  std::lock_guard lock(mutex_);
  const bool first = !listener_claimed_;
  listener_claimed_ = true;
  return first;
}

void SseClientSession::wake_writer() {
  // The writer checks the queue and starts its wait in one turn of its executor; a cancel
  // posted there runs after that wait began, so no wake-up is lost.
  boost::asio::post(stream_executor_, [self = shared_from_this()] { self->wake_.cancel(); });
}

}  // namespace x402proxy::proxy
