// Replay locks in the shared store: two copies of one payment at two replicas, exactly one runs;
// a crashed holder's lock frees itself after its lease; a consumed payment stays locked while it
// can be valid.
#include <atomic>
#include <ctime>
#include <thread>
#include <vector>

#include "proxy/paywall/replay_locks.h"
#include "tests/integration/store/store_test_helpers.h"

using namespace x402proxy;
using namespace x402proxy::testing;

namespace {
std::shared_ptr<proxy::StoreReplayLocks> locks_on(std::shared_ptr<store::Store> store) {
  auto locks = proxy::StoreReplayLocks::open(std::move(store));
  INFO((locks.ok() ? std::string() : locks.error().message));
  REQUIRE(locks.ok());
  return *locks;
}
}  // namespace

TEST_CASE("a payment locked by one replica is refused by another until it is given back",
          "[store][postgres][replay]") {
  const std::string url = shared_postgres().fresh_database();
  auto a = locks_on(postgres_store(url, "a"));
  auto b = locks_on(postgres_store(url, "b"));
  CHECK(a->try_lock("k").value());
  CHECK_FALSE(b->try_lock("k").value());
  CHECK_FALSE(a->try_lock("k").value());  // a second call in the same replica too
  b->release("k");                        // not b's to give back
  CHECK_FALSE(b->try_lock("k").value());
  a->release("k");
  CHECK(b->try_lock("k").value());
  // Consumed: locked while it can still be valid, for everyone.
  b->keep_until("k", static_cast<std::int64_t>(std::time(nullptr)) + 3600);
  CHECK_FALSE(a->try_lock("k").value());
  b->release("k");  // a consumed lock is never given back
  CHECK_FALSE(a->try_lock("k").value());
  // Past its validity it is free again.
  b->keep_until("k", static_cast<std::int64_t>(std::time(nullptr)) - 5);
  CHECK(a->try_lock("k").value());
}

TEST_CASE("of many callers at two replicas presenting one payment at once exactly one wins",
          "[store][postgres][replay]") {
  const std::string url = shared_postgres().fresh_database();
  auto a = locks_on(postgres_store(url, "a"));
  auto b = locks_on(postgres_store(url, "b"));
  for (int round = 0; round < 20; ++round) {
    const std::string key = "payment-" + std::to_string(round);
    std::atomic<int> winners{0};
    std::vector<std::thread> threads;
    for (int i = 0; i < 8; ++i)
      threads.emplace_back([&, i] {
        auto& locks = i % 2 == 0 ? *a : *b;
        if (locks.try_lock(key).value())
          ++winners;
      });
    for (auto& t : threads)
      t.join();
    CHECK(winners == 1);
  }
}

TEST_CASE("a crashed holder's lock frees itself after its lease, a live holder's does not",
          "[store][postgres][replay]") {
  const std::string url = shared_postgres().fresh_database();
  const auto lease = std::chrono::seconds(3);
  auto live = locks_on(postgres_store(url, "live", lease));
  auto crashed = locks_on(postgres_store(url, "crashed", lease));
  auto other = locks_on(postgres_store(url, "other", lease));
  REQUIRE(live->try_lock("held").value());
  REQUIRE(crashed->try_lock("orphan").value());
  for (int i = 0; i < 4; ++i) {
    std::this_thread::sleep_for(std::chrono::seconds(1));
    live->maintain();  // renews "held"; nobody renews "orphan"
  }
  CHECK_FALSE(other->try_lock("held").value());
  CHECK(other->try_lock("orphan").value());
}

TEST_CASE("replay locks fail closed while the database is away", "[store][postgres][replay]") {
  PostgresServer server;
  const std::string url = server.fresh_database();
  auto locks = locks_on(postgres_store(url, "a"));
  REQUIRE(locks->try_lock("k").value());
  server.stop();
  auto refused = locks->try_lock("k2");
  REQUIRE_FALSE(refused.ok());
  CHECK(refused.error().reason == "store.unavailable");
  server.start();
  CHECK(locks->try_lock("k2").value());
  CHECK_FALSE(locks->try_lock("k").value());
}
