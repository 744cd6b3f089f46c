// The one fake in the test suite: an x402 facilitator over HTTP (a real one needs a blockchain).
// It answers /verify, /settle and /supported as told, and records what it was asked.
// Modes: valid (isValid true; settle success with kTransaction and the payer), invalid (isValid
// false with the invalid reason), settle_fails (HTTP 200 with success false and an errorReason),
// http_500, malformed (not JSON), slow (each answer after the slow delay), slow_settle (only settle
// slow), hang_up (closes without answering), down (not listening: connects are refused; any other
// mode brings it back on the same port).
#pragma once

#include <atomic>
#include <chrono>
#include <deque>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "tests/support/test_http_server.h"

namespace x402proxy::testing {

class FakeFacilitator {
 public:
  enum class Mode {
    valid,
    invalid,
    settle_fails,
    http_500,
    malformed,
    slow,
    slow_settle,
    hang_up,
    down
  };
  // The transaction hash of every successful settlement: 0x and 64 hex digits.
  static constexpr const char* kTransaction =
      "0x1234567890abcdef1234567890abcdef1234567890abcdef1234567890abcdef";
  static constexpr const char* kSettleErrorReason = "insufficient_funds";

  // Scripted /settle answers, used before the mode applies: each settle call takes the next.
  enum class SettleAnswer {
    pending,            // HTTP 200, success:false, errorReason settlement_pending, kTransaction
    too_many_requests,  // HTTP 429 with no x402 body (the facilitator's RPC node throttled it)
    unavailable,        // HTTP 503
    hang_up,            // the request is read, the connection closed without an answer
    already_used,       // success:false, invalid_exact_evm_nonce_already_used (a repeated settle)
    success             // the normal answer
  };
  void script_settle(std::vector<SettleAnswer> answers);

  FakeFacilitator();
  void set_mode(Mode mode);
  Mode mode() const { return mode_; }
  void set_invalid_reason(std::string reason);
  // The invalidMessage / errorMessage of refusals; "{signature}" is replaced by the payment's
  // signature, as a facilitator that quotes the authorization in its errors would.
  void set_refusal_message(std::string message);
  void set_slow_delay(std::chrono::milliseconds delay) { slow_delay_ms_ = delay.count(); }
  std::string url() const { return server_->url(); }
  unsigned short port() const { return server_->port(); }
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
  std::deque<SettleAnswer> settle_script_;
  std::string refusal_message_;
  std::unique_ptr<TestHttpServer> server_;
};

}  // namespace x402proxy::testing
