// Where a payment's replay lock lives (replay_guard.h says why the proxy locks payments at all):
// in this process's memory when one replica serves (a SQLite store), or in the shared store when
// several do (PostgreSQL), so that two copies of one payment sent to two replicas at once run
// exactly once. The store's locks block on the database: call them inside Store::run.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>

#include "proxy/paywall/replay_guard.h"
#include "store/store.h"
#include "x402/result.h"

namespace x402proxy::proxy {

class ReplayLocks {
 public:
  virtual ~ReplayLocks() = default;
  // Takes the lock on `key`: true when taken; false when another call holds it (in flight, or
  // already consumed); an error when the store cannot say (refuse the call: fail closed).
  virtual Result<bool> try_lock(const std::string& key) = 0;
  // The call did not consume the payment: the buyer may use it again.
  virtual void release(const std::string& key) = 0;
  // Consumed (settled, or its outcome unknown): locked until `until_unix` (seconds).
  virtual void keep_until(const std::string& key, std::int64_t until_unix) = 0;
  // Renews this replica's in-flight locks and forgets expired ones (called periodically).
  virtual void maintain() {}
};

// One process: the in-memory guard, seeded from the journal at start.
class MemoryReplayLocks final : public ReplayLocks {
 public:
  explicit MemoryReplayLocks(std::shared_ptr<ReplayGuard> guard) : guard_(std::move(guard)) {}
  Result<bool> try_lock(const std::string& key) override;
  void release(const std::string& key) override;
  void keep_until(const std::string& key, std::int64_t until_unix) override;
  ReplayGuard& guard() { return *guard_; }

 private:
  std::shared_ptr<ReplayGuard> guard_;
};

// Several replicas: a row per lock in the store's table replay_locks, unique on the key. An
// in-flight lock names its holder and expires unless the holder renews it (a crashed holder's
// locks free themselves after the store's lease); a consumed one expires when the payment can no
// longer be valid.
class StoreReplayLocks final : public ReplayLocks {
 public:
  // Creates (migrates) the table.
  static Result<std::shared_ptr<StoreReplayLocks>> open(std::shared_ptr<store::Store> store);
  static int latest_schema_version();
  Result<bool> try_lock(const std::string& key) override;
  void release(const std::string& key) override;
  void keep_until(const std::string& key, std::int64_t until_unix) override;
  void maintain() override;

 private:
  explicit StoreReplayLocks(std::shared_ptr<store::Store> store) : store_(std::move(store)) {}
  std::shared_ptr<store::Store> store_;
};

}  // namespace x402proxy::proxy
