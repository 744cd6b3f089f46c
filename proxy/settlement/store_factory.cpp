#include "proxy/settlement/store_factory.h"

#include "config/store_config.h"

#include <cstdlib>
#include <fstream>
#include <sstream>

namespace x402proxy::proxy {

Result<store::StoreLocation> store_location(const config::ServeConfig& config) {
  store::StoreLocation location;
  if (!config.store.postgres()) {
    location.engine = store::Engine::sqlite;
    location.sqlite_path = config.journal;
    return location;
  }
  const auto& store = config.store;
  location.engine = store::Engine::postgresql;
  location.postgres.url = store.postgres_url;
  if (!store.url_env.empty()) {
    const char* value = std::getenv(store.url_env.c_str());
    if (value == nullptr || !config::is_postgres_url(value))
      return make_error("store.url", "store.url_env: the environment variable " + store.url_env +
                                         " does not hold a postgresql:// URL");
    location.postgres.url = value;
  }
  location.postgres.connect_timeout_seconds = static_cast<int>(std::max<std::int64_t>(
      1, std::chrono::duration_cast<std::chrono::seconds>(store.connect_timeout).count()));
  location.postgres.statement_timeout_ms = static_cast<int>(store.statement_timeout.count());
  location.pool_size = store.pool;
  location.replica = store.replica;
  location.lease = store.lease;
  if (!store.password_env.empty()) {
    const char* value = std::getenv(store.password_env.c_str());
    if (value == nullptr || *value == '\0')
      return make_error("store.password", "store.password_env: the environment variable " +
                                              store.password_env + " is not set");
    location.postgres.password = value;
  } else if (!store.password_file.empty()) {
    std::ifstream file(store.password_file);
    if (!file)
      return make_error("store.password",
                        "store.password_file: cannot read " + store.password_file);
    std::stringstream text;
    text << file.rdbuf();
    std::string password = text.str();
    while (!password.empty() && (password.back() == '\n' || password.back() == '\r'))
      password.pop_back();
    location.postgres.password = std::move(password);
  }
  return location;
}

Result<StoreSetup> make_store(const config::ServeConfig& config) {
  auto location = store_location(config);
  if (!location.ok())
    return location.error();
  auto opened = store::Store::open(std::move(location).value());
  if (!opened.ok())
    return opened.error();
  StoreSetup setup;
  setup.store = std::move(opened).value();
  auto journal = PaymentJournal::open(setup.store);
  if (!journal.ok())
    return journal.error();
  setup.journal = std::move(journal).value();
  if (setup.store->single_replica()) {
    setup.memory_guard = std::make_shared<ReplayGuard>();
    setup.replay_locks = std::make_shared<MemoryReplayLocks>(setup.memory_guard);
    setup.description = "SQLite journal " + config.journal;
    return setup;
  }
  auto locks = StoreReplayLocks::open(setup.store);
  if (!locks.ok())
    return locks.error();
  setup.replay_locks = *locks;
  setup.renew_claims = [locks = *locks] { locks->maintain(); };
  setup.ready = [store = setup.store]() -> boost::asio::awaitable<Status> {
    auto ping = [store]() -> Status {
      auto session = store->session();
      auto answered = session->execute("SELECT 1");
      if (!answered.ok())
        return Error(answered.error());
      return ok_status();
    };
    co_return co_await store->run(std::move(ping));
  };
  setup.description = "PostgreSQL store " +
                      store::redacted_url(setup.store->location().postgres.url) + " as replica " +
                      setup.store->replica();
  return setup;
}

}  // namespace x402proxy::proxy
