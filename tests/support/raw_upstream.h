// An upstream that answers with raw bytes a test scripts: interim 1xx answers before the final
// one, two answers in one write, whatever a misbehaving server sends. A thread of its own on
// 127.0.0.1 and an ephemeral port, blocking sockets (a test peer, not product code); every
// request is recorded as raw bytes (header and Content-Length body).
#pragma once

#include <atomic>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace x402proxy::testing {

class RawUpstream {
 public:
  // Gets a request's raw bytes, returns the bytes to write back (the connection stays open).
  using Script = std::function<std::string(const std::string& request)>;
  explicit RawUpstream(Script script);
  ~RawUpstream();
  RawUpstream(const RawUpstream&) = delete;
  RawUpstream& operator=(const RawUpstream&) = delete;

  unsigned short port() const { return port_; }
  std::string url(const std::string& path) const {
    return "http://127.0.0.1:" + std::to_string(port_) + path;
  }
  std::vector<std::string> requests() const;

  // A complete HTTP/1.1 JSON response with Content-Length.
  static std::string json_response(const std::string& body, unsigned status = 200);
  // The JSON-RPC id of a recorded request's body, as text ("" when none is found).
  static std::string id_of(const std::string& request);

 private:
  void accept_loop();
  void serve(int fd);

  Script script_;
  int listener_ = -1;
  unsigned short port_ = 0;
  std::atomic<bool> stopping_{false};
  mutable std::mutex mutex_;
  std::vector<std::string> requests_;
  std::vector<int> connections_;
  std::vector<std::thread> threads_;
  std::thread acceptor_;
};

}  // namespace x402proxy::testing
