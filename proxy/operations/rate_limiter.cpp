#include "proxy/operations/rate_limiter.h"

#include <algorithm>

namespace x402proxy::proxy {

namespace {
constexpr std::size_t kSweepAbove = 10000;  // sweep only when the map is this large
}

RateLimiter::RateLimiter(std::uint64_t rate_per_second, std::uint64_t burst)
    : rate_(static_cast<double>(rate_per_second)),
      burst_(static_cast<double>(burst != 0 ? burst : 2 * rate_per_second)) {}

bool RateLimiter::allow(const std::string& address, Clock::time_point now) {
  std::lock_guard lock(mutex_);
  if (buckets_.size() > kSweepAbove && now - last_sweep_ > std::chrono::seconds(1))
    forget_idle(now);
  auto [it, fresh] = buckets_.try_emplace(address);
  Bucket& bucket = it->second;
  if (fresh) {
    bucket.tokens = burst_;
  } else {
    const double elapsed = std::chrono::duration<double>(now - bucket.updated).count();
    bucket.tokens = std::min(burst_, bucket.tokens + elapsed * rate_);
  }
  bucket.updated = now;
  if (bucket.tokens < 1.0)
    return false;
  bucket.tokens -= 1.0;
  return true;
}

std::size_t RateLimiter::tracked_addresses() const {
  std::lock_guard lock(mutex_);
  return buckets_.size();
}

void RateLimiter::forget_idle(Clock::time_point now) {
  // A bucket idle long enough to have refilled completely carries no information.
  const auto refill = std::chrono::duration<double>(burst_ / std::max(rate_, 1e-9));
  for (auto it = buckets_.begin(); it != buckets_.end();) {
    if (now - it->second.updated > refill)
      it = buckets_.erase(it);
    else
      ++it;
  }
  last_sweep_ = now;
}

}  // namespace x402proxy::proxy
