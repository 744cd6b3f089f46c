// The shared store of one serve, made from the validated config (`store:`, or the older
// `journal:`): the store itself, the payment journal in it and the replay locks that go with it
// (in memory for a SQLite file, in the store for PostgreSQL), and the readiness check.
#pragma once

#include <functional>
#include <memory>

#include <boost/asio/awaitable.hpp>

#include "config/serve_config.h"
#include "proxy/paywall/replay_locks.h"
#include "proxy/settlement/payment_journal.h"
#include "store/store.h"
#include "x402/result.h"

namespace x402proxy::proxy {

struct StoreSetup {
  std::shared_ptr<store::Store> store;
  std::shared_ptr<PaymentJournal> journal;
  std::shared_ptr<ReplayLocks> replay_locks;
  std::shared_ptr<ReplayGuard> memory_guard;  // SQLite: to seed from the journal; else null
  // PostgreSQL: whether the database answers (for /readyz); null for SQLite.
  std::function<boost::asio::awaitable<Status>()> ready;
  std::function<void()> renew_claims;  // PostgreSQL: renews the replay locks; else null
  std::string description;             // for the start-up log line (no password)
};

// The store's location from the config; reads the password from its environment variable or
// file. Reasons "store.password".
Result<store::StoreLocation> store_location(const config::ServeConfig& config);

// Opens and migrates everything. A PostgreSQL server that cannot be reached at start is an error
// (serve does not start without its journal; an orchestrator restarts it).
Result<StoreSetup> make_store(const config::ServeConfig& config);

}  // namespace x402proxy::proxy
