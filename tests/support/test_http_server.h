// A real HTTP server for tests, on 127.0.0.1 and an ephemeral port, running on its own thread with
// its own io_context. Tests give it a handler; it records every request exactly as received
// (headers and raw body bytes) and can answer slowly, stream chunks over time (SSE), hold a stream
// open, hang up without answering, or stop listening altogether (a service that went down).
#pragma once

#include <atomic>
#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <utility>
#include <vector>

namespace x402proxy::testing {

struct RecordedRequest {
  std::string method;
  std::string target;
  std::map<std::string, std::string> headers;  // names lower-cased
  std::string body;                            // raw bytes as received
  std::string header(const std::string& lower_name) const {
    auto it = headers.find(lower_name);
    return it == headers.end() ? "" : it->second;
  }
};

struct TestResponse {
  unsigned status = 200;
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
  // When set, the body is sent chunked: each piece after its delay (an SSE stream, say). An empty
  // piece cuts the connection there, without the final chunk.
  std::vector<std::pair<std::chrono::milliseconds, std::string>> chunks;
  // After the chunks, keep the stream open (no final chunk) until the client closes it, the server
  // closes its connections, or kMaxHold passes: an SSE stream that stays up.
  bool hold_open = false;
  std::chrono::milliseconds delay{0};  // before anything is sent
  bool hang_up = false;                // close the connection without answering
};

using TestHandler = std::function<TestResponse(const RecordedRequest&)>;

class TestHttpServer {
 public:
  // Every I/O of the server has a deadline; a held stream ends after this at the latest.
  static constexpr std::chrono::seconds kMaxHold{60};
  static constexpr std::chrono::seconds kIoTimeout{30};
  static constexpr std::size_t kBodyLimit = 64 * 1024 * 1024;

  // port 0: an ephemeral port (read it with port()). `address`: "::1" for an IPv6 server.
  explicit TestHttpServer(TestHandler handler, unsigned short port = 0,
                          std::string address = "127.0.0.1");
  ~TestHttpServer();
  TestHttpServer(const TestHttpServer&) = delete;
  TestHttpServer& operator=(const TestHttpServer&) = delete;

  unsigned short port() const { return port_; }
  std::string url(const std::string& path = "") const {
    const std::string host =
        address_.find(':') == std::string::npos ? address_ : "[" + address_ + "]";
    return "http://" + host + ":" + std::to_string(port_) + path;
  }
  std::vector<RecordedRequest> requests() const;
  // A long-running server (the example upstream) stops keeping requests so memory stays flat.
  void set_recording(bool record) { recording_ = record; }
  std::size_t connections() const { return connections_; }  // accepted so far
  std::size_t open_connections() const { return open_connections_; }

  // Stops accepting (new connects are refused); open connections stay.
  void stop();
  // Closes every open connection (held streams included); returns once done.
  void close_connections();
  // Down: refuse new connections and drop open ones. Up again: listen on the same port.
  void stop_listening();
  bool resume_listening();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
  unsigned short port_ = 0;
  std::string address_;
  std::atomic<std::size_t> connections_{0};
  std::atomic<std::size_t> open_connections_{0};
  std::atomic<bool> recording_{true};
  mutable std::mutex mutex_;
  std::vector<RecordedRequest> requests_;
  TestHandler handler_;
  std::thread thread_;

  friend struct TestHttpServerAccess;
};

}  // namespace x402proxy::testing
