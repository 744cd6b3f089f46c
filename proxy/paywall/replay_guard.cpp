#include "proxy/paywall/replay_guard.h"

namespace x402proxy::proxy {

bool ReplayGuard::try_reserve(const std::string& key, Clock::time_point now) {
  std::lock_guard lock(mutex_);
  if (now >= next_sweep_ || entries_.size() >= max_entries_) {
    evict_expired(now);
    next_sweep_ = now + std::chrono::seconds(10);
  }
  auto it = entries_.find(key);
  if (it != entries_.end()) {
    if (it->second.in_flight || it->second.expires > now)
      return false;
    it->second = Entry{};
    return true;
  }
  if (entries_.size() >= max_entries_)
    return false;
  entries_.emplace(key, Entry{});
  return true;
}

void ReplayGuard::release(const std::string& key) {
  std::lock_guard lock(mutex_);
  entries_.erase(key);
}

void ReplayGuard::mark_consumed(const std::string& key, Clock::time_point until) {
  std::lock_guard lock(mutex_);
  entries_[key] = Entry{false, until};
}

std::size_t ReplayGuard::size() const {
  std::lock_guard lock(mutex_);
  return entries_.size();
}

void ReplayGuard::evict_expired(Clock::time_point now) {
  std::erase_if(entries_, [now](const auto& item) {
    return !item.second.in_flight && item.second.expires <= now;
  });
}

}  // namespace x402proxy::proxy
