// The replay guard: one payment buys one call. A facilitator's /verify reserves nothing (research
// §6.2), so the proxy itself locks a payment's identity — (network, asset, from, nonce) for EVM,
// the transaction for Solana — before forwarding, and keeps it until settlement ends; a settled
// payment stays locked until it can no longer be valid. Thread-safe: two copies arriving at once on
// two threads race for the same lock and exactly one wins.
#pragma once

#include <chrono>
#include <cstddef>
#include <mutex>
#include <string>
#include <unordered_map>

namespace x402proxy::proxy {

class ReplayGuard {
 public:
  using Clock = std::chrono::steady_clock;

  explicit ReplayGuard(std::size_t max_entries = 1'000'000) : max_entries_(max_entries) {}

  // Takes the lock for `key`. False when the key is held (in flight or already settled), or when
  // the guard is full of live entries (refusing is safe; forgetting is not).
  bool try_reserve(const std::string& key, Clock::time_point now);

  // Gives the key back: the call did not consume the payment (upstream transport failure,
  // input_required), so the client may retry with the same payment.
  void release(const std::string& key);

  // The payment was settled (or its settlement outcome is unknown): keep the key until `until`.
  void mark_consumed(const std::string& key, Clock::time_point until);

  std::size_t size() const;

 private:
  void evict_expired(Clock::time_point now);

  struct Entry {
    bool in_flight = true;
    Clock::time_point expires{};
  };
  const std::size_t max_entries_;
  mutable std::mutex mutex_;
  std::unordered_map<std::string, Entry> entries_;
  Clock::time_point next_sweep_{};
};

}  // namespace x402proxy::proxy
