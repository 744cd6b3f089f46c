#include "proxy/paywall/replay_guard.h"

#include <atomic>
#include <thread>
#include <vector>

#include <catch2/catch.hpp>

using x402proxy::proxy::ReplayGuard;

TEST_CASE("a payment is locked while in flight and after it is consumed", "[replay]") {
  ReplayGuard guard;
  auto now = ReplayGuard::Clock::now();
  CHECK(guard.try_reserve("k", now));
  CHECK_FALSE(guard.try_reserve("k", now));
  guard.mark_consumed("k", now + std::chrono::seconds(60));
  CHECK_FALSE(guard.try_reserve("k", now + std::chrono::seconds(59)));
  CHECK(guard.try_reserve("k", now + std::chrono::seconds(61)));
}

TEST_CASE("a released payment can be used again", "[replay]") {
  ReplayGuard guard;
  auto now = ReplayGuard::Clock::now();
  REQUIRE(guard.try_reserve("k", now));
  guard.release("k");
  CHECK(guard.try_reserve("k", now));
}

TEST_CASE("of many threads presenting the same payment at once exactly one wins", "[replay]") {
  ReplayGuard guard;
  std::atomic<int> winners{0};
  std::vector<std::thread> threads;
  for (int i = 0; i < 8; ++i) {
    threads.emplace_back([&] {
      for (int n = 0; n < 1000; ++n) {
        if (guard.try_reserve("key-" + std::to_string(n), ReplayGuard::Clock::now()))
          ++winners;
      }
    });
  }
  for (auto& thread : threads)
    thread.join();
  CHECK(winners == 1000);
}

TEST_CASE("a full guard refuses new payments instead of forgetting old ones", "[replay]") {
  ReplayGuard guard(2);
  auto now = ReplayGuard::Clock::now();
  CHECK(guard.try_reserve("a", now));
  CHECK(guard.try_reserve("b", now));
  CHECK_FALSE(guard.try_reserve("c", now));
  guard.mark_consumed("a", now + std::chrono::seconds(1));
  CHECK(guard.try_reserve("c", now + std::chrono::seconds(2)));  // "a" expired and was swept
}
