// An event stream held open by a test while it sends other requests by hand — the client's stream
// of the MCP 2024-11-05 HTTP+SSE transport (GET /sse), or a Streamable HTTP POST answered with
// SSE whose server-to-client request the test must answer before the response comes: a real
// socket, the chunked body decoded as it arrives, its events handed out one at a time (the
// blocking read_sse of http_test_client.h reads to an end instead).
#pragma once

#include <chrono>
#include <cstddef>
#include <optional>
#include <string>

#include "tests/support/http_test_client.h"

namespace x402proxy::testing {

class SseSessionStream {
 public:
  // Connects and sends `GET path`; status() and the head are known once the constructor returns
  // (status 0 when nothing came within 5 s).
  SseSessionStream(unsigned short port, const std::string& path = "/sse");
  // Any request: `method target` with `headers` and `body` (Content-Length added when a body).
  SseSessionStream(unsigned short port, const std::string& method, const std::string& target,
                   const std::string& body, const Headers& headers);
  ~SseSessionStream();
  SseSessionStream(const SseSessionStream&) = delete;
  SseSessionStream& operator=(const SseSessionStream&) = delete;

  unsigned status() const { return status_; }
  const std::string& head() const { return head_; }
  // The next event, waiting up to `timeout`; nullopt when none came or the stream ended.
  std::optional<SseEvent> next_event(std::chrono::milliseconds timeout = std::chrono::seconds(10));
  // The next `message` event whose JSON-RPC id is `id` (other events are skipped).
  std::optional<SseEvent> answer_to(int id,
                                    std::chrono::milliseconds timeout = std::chrono::seconds(10));
  bool ended() const { return ended_; }
  void close();

 private:
  void open(unsigned short port, const std::string& request);
  bool read_more(std::chrono::steady_clock::time_point deadline);
  void decode_chunks();

  int fd_ = -1;
  unsigned status_ = 0;
  std::string head_;
  std::string raw_;           // body bytes as received (chunked)
  std::string decoded_;       // the body, chunks decoded
  std::size_t consumed_ = 0;  // of decoded_, events already handed out
  bool ended_ = false;
};

}  // namespace x402proxy::testing
