#include "proxy/paywall/replay_locks.h"

#include <ctime>

#include <spdlog/spdlog.h>

#include "sqlite/database.h"
#include "store/schema_migrations.h"

namespace x402proxy::proxy {
namespace {

using store::SqlValue;

constexpr const char* kMigrations[] = {
    "CREATE TABLE IF NOT EXISTS replay_locks (replay_key TEXT PRIMARY KEY, holder TEXT NOT NULL,"
    " in_flight INTEGER NOT NULL, expires_ms BIGINT NOT NULL);"
    "CREATE INDEX IF NOT EXISTS replay_locks_expires ON replay_locks(expires_ms);",
};

}  // namespace

Result<bool> MemoryReplayLocks::try_lock(const std::string& key) {
  return guard_->try_reserve(key, ReplayGuard::Clock::now());
}

void MemoryReplayLocks::release(const std::string& key) {
  guard_->release(key);
}

void MemoryReplayLocks::keep_until(const std::string& key, std::int64_t until_unix) {
  const auto left = std::chrono::seconds(
      std::max<std::int64_t>(until_unix - static_cast<std::int64_t>(std::time(nullptr)), 0) + 1);
  guard_->mark_consumed(key, ReplayGuard::Clock::now() + left);
}

Result<std::shared_ptr<StoreReplayLocks>> StoreReplayLocks::open(
    std::shared_ptr<store::Store> store) {
  std::shared_ptr<StoreReplayLocks> locks(new StoreReplayLocks(std::move(store)));
  auto session = locks->store_->session();
  if (auto s = store::migrate_postgres(*session, "replay_locks", kMigrations); !s.ok())
    return make_error("replay_locks.open", s.error().message);
  return locks;
}

int StoreReplayLocks::latest_schema_version() {
  return static_cast<int>(std::size(kMigrations));
}

Result<bool> StoreReplayLocks::try_lock(const std::string& key) {
  const std::int64_t now = sqlite::unix_millis();
  // One statement: a new key is inserted; an existing one is taken over only when it expired
  // (its holder crashed, or its validity is over). Two replicas inserting the same key at once:
  // the unique key makes one wait for the other and then see its row, not expired.
  const SqlValue parameters[] = {key, store_->replica(), now + store_->location().lease.count(),
                                 now};
  auto session = store_->session();
  auto rows = session->execute(
      "INSERT INTO replay_locks (replay_key, holder, in_flight, expires_ms)"
      " VALUES ($1, $2, 1, $3) ON CONFLICT (replay_key) DO UPDATE SET holder = excluded.holder,"
      " in_flight = 1, expires_ms = excluded.expires_ms WHERE replay_locks.expires_ms < $4"
      " RETURNING replay_key",
      parameters);
  if (!rows.ok())
    return Error(rows.error());
  return !rows->rows.empty();
}

void StoreReplayLocks::release(const std::string& key) {
  const SqlValue parameters[] = {key, store_->replica()};
  auto session = store_->session();
  auto rows = session->execute(
      "DELETE FROM replay_locks WHERE replay_key = $1 AND holder = $2 AND in_flight = 1",
      parameters);
  // Not released: the lock stays until its lease runs out (refusing is safe; forgetting is not).
  if (!rows.ok())
    spdlog::warn("replay lock: cannot release a lock: {}", rows.error().message);
}

void StoreReplayLocks::keep_until(const std::string& key, std::int64_t until_unix) {
  const SqlValue parameters[] = {key, (until_unix + 1) * 1000};
  auto session = store_->session();
  auto rows = session->execute(
      "UPDATE replay_locks SET in_flight = 0, expires_ms = $2 WHERE replay_key = $1", parameters);
  // Not written: the lock stays in flight, renewed while this replica lives (still locked).
  if (!rows.ok())
    spdlog::warn("replay lock: cannot mark a payment consumed: {}", rows.error().message);
}

void StoreReplayLocks::maintain() {
  const std::int64_t now = sqlite::unix_millis();
  const SqlValue renew[] = {now + store_->location().lease.count(), store_->replica()};
  auto session = store_->session();
  if (auto rows = session->execute(
          "UPDATE replay_locks SET expires_ms = $1 WHERE holder = $2 AND in_flight = 1", renew);
      !rows.ok()) {
    spdlog::warn("replay lock: cannot renew this replica's locks: {}", rows.error().message);
    return;
  }
  const SqlValue expired[] = {now};
  (void)session->execute("DELETE FROM replay_locks WHERE expires_ms < $1", expired);
}

}  // namespace x402proxy::proxy
