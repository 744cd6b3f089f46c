#include "proxy/operations/rate_limiter.h"

#include <catch2/catch.hpp>

using x402proxy::proxy::RateLimiter;
using namespace std::chrono_literals;

TEST_CASE("a client IP gets its burst at once, then the rate, others are not affected",
          "[rate_limit]") {
  RateLimiter limiter(10, 3);  // 10 per second, bursts of 3
  const auto start = RateLimiter::Clock::now();
  for (int i = 0; i < 3; ++i)
    CHECK(limiter.allow("10.0.0.1", start));
  CHECK_FALSE(limiter.allow("10.0.0.1", start));    // the bucket is empty: 429
  CHECK(limiter.allow("10.0.0.2", start));          // another address has its own bucket
  CHECK(limiter.allow("10.0.0.1", start + 100ms));  // one token back after 1/rate
  CHECK_FALSE(limiter.allow("10.0.0.1", start + 100ms));
  CHECK(limiter.allow("10.0.0.1", start + 10s));  // refilled, never beyond the burst
  CHECK(limiter.allow("10.0.0.1", start + 10s));
  CHECK(limiter.allow("10.0.0.1", start + 10s));
  CHECK_FALSE(limiter.allow("10.0.0.1", start + 10s));
}

TEST_CASE("under a spray of addresses, the buckets of those that went quiet are forgotten",
          "[rate_limit]") {
  RateLimiter limiter(100, 0);  // burst 0: twice the rate
  const auto start = RateLimiter::Clock::now();
  for (int i = 0; i < 10'001; ++i)  // past the size at which idle buckets are swept
    (void)limiter.allow("a" + std::to_string(i), start);
  CHECK(limiter.tracked_addresses() == 10'001);
  (void)limiter.allow("late", start + 10min);
  CHECK(limiter.tracked_addresses() < 10);
}
