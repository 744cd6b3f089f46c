// The one fake in the test suite: an x402 facilitator over HTTP (a real one needs a blockchain).
// It answers /verify, /settle and /supported as told, and records what it was asked.
#pragma once

#include <atomic>
#include <chrono>
#include <memory>
#include <mutex>
#include <string>

#include "tests/support/test_http_server.h"

namespace x402proxy::testing {

class FakeFacilitator {
 public:
  enum class Mode { valid, invalid, settle_fails, http_500, malformed, slow, slow_settle, hang_up };

  FakeFacilitator();
  void set_mode(Mode mode) { mode_ = mode; }
  void set_invalid_reason(std::string reason);
  void set_slow_delay(std::chrono::milliseconds delay) { slow_delay_ms_ = delay.count(); }
  std::string url() const { return server_->url(); }
  std::size_t verify_calls() const;
  std::size_t settle_calls() const;
  std::size_t connections() const { return server_->connections(); }
  std::vector<RecordedRequest> requests() const { return server_->requests(); }
  void stop() { server_->stop(); }

 private:
  TestResponse answer(const RecordedRequest& request);

  std::atomic<Mode> mode_{Mode::valid};
  std::atomic<long> slow_delay_ms_{6000};
  std::mutex mutex_;
  std::string invalid_reason_ = "invalid_exact_evm_signature";
  std::unique_ptr<TestHttpServer> server_;
};

}  // namespace x402proxy::testing
