#include "store/store.h"

#include <unistd.h>

#include <algorithm>

#include "store/sqlite_session.h"

namespace x402proxy::store {

std::string default_replica_name() {
  char host[256] = {};
  if (::gethostname(host, sizeof host - 1) != 0)
    host[0] = '\0';
  return std::string(host[0] != '\0' ? host : "replica") + "-" + std::to_string(::getpid());
}

Result<std::shared_ptr<Store>> Store::open(StoreLocation location) {
  if (location.replica.empty())
    location.replica = default_replica_name();
  std::shared_ptr<Store> store(new Store(std::move(location)));
  if (store->location_.engine == Engine::sqlite) {
    auto db = sqlite::Database::open(store->location_.sqlite_path, "payment journal");
    if (!db.ok())
      return make_error("store.open", db.error().message);
    store->sessions_.push_back(std::make_unique<SqliteSession>(std::move(db).value()));
    return store;
  }
  const std::size_t size = std::max<std::size_t>(store->location_.pool_size, 1);
  for (std::size_t i = 0; i < size; ++i) {
    store->sessions_.push_back(std::make_unique<PostgresSession>(store->location_.postgres));
    store->free_.push_back(store->sessions_.back().get());
  }
  store->pool_ = std::make_unique<boost::asio::thread_pool>(size);
  return store;
}

Store::~Store() {
  if (pool_)
    pool_->join();
}

Store::Lease::Lease(Lease&& other) noexcept
    : store_(other.store_), session_(other.session_), sqlite_lock_(std::move(other.sqlite_lock_)) {
  other.session_ = nullptr;
}

Store::Lease::~Lease() {
  if (session_ != nullptr && !sqlite_lock_.owns_lock())
    store_->give_back(session_);
}

Store::Lease Store::session() {
  if (location_.engine == Engine::sqlite)
    return Lease(*this, sessions_.front().get(), std::unique_lock(mutex_));
  std::unique_lock lock(mutex_);
  freed_.wait(lock, [&] { return !free_.empty(); });
  SqlSession* session = free_.back();
  free_.pop_back();
  return Lease(*this, session, std::unique_lock<std::mutex>());
}

void Store::give_back(SqlSession* session) {
  {
    std::lock_guard lock(mutex_);
    free_.push_back(session);
  }
  freed_.notify_one();
}

void Store::post(std::function<void()> work) {
  if (!pool_) {
    work();
    return;
  }
  boost::asio::post(*pool_, std::move(work));
}

}  // namespace x402proxy::store
