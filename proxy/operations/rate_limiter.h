// A token bucket per client IP address: `rate` requests per second on average, bursts up to
// `burst`. Shared by all I/O threads (one mutex; each decision is a map lookup and a little
// arithmetic). Buckets of addresses that went quiet are dropped so the map cannot grow without
// bound under a spray of source addresses.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <mutex>
#include <string>
#include <unordered_map>

namespace x402proxy::proxy {

class RateLimiter {
 public:
  using Clock = std::chrono::steady_clock;
  RateLimiter(std::uint64_t rate_per_second, std::uint64_t burst);

  // Takes one token for `address`; false when its bucket is empty (answer 429).
  bool allow(const std::string& address, Clock::time_point now = Clock::now());
  std::size_t tracked_addresses() const;

 private:
  struct Bucket {
    double tokens = 0;
    Clock::time_point updated{};
  };
  void forget_idle(Clock::time_point now);

  double rate_;
  double burst_;
  mutable std::mutex mutex_;
  std::unordered_map<std::string, Bucket> buckets_;
  Clock::time_point last_sweep_{};
};

}  // namespace x402proxy::proxy
