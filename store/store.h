// The shared store of one serve: where the payment journal and the replay locks live. Two
// engines behind one SQL session (sql_session.h):
//   - SQLite (the default): one local file, one connection under a mutex, each statement short;
//     run() calls the work inline, as the journal always did (one replica only).
//   - PostgreSQL (several replicas): a bounded pool of connections, each used by one of the
//     store's own threads; run() hands the work to one of them and resumes the caller on its own
//     executor, so no database call ever blocks an I/O thread. The issue asked for libpq's
//     asynchronous API or "a small dedicated pool if measured to be as good"; the pool keeps the
//     journal's code one synchronous SQL text for both engines.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <type_traits>
#include <vector>

#include <boost/asio/awaitable.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/thread_pool.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "store/postgres_session.h"
#include "store/sql_session.h"
#include "x402/result.h"

namespace x402proxy::store {

struct StoreLocation {
  Engine engine = Engine::sqlite;
  std::string sqlite_path = "payments.sqlite";
  PostgresTarget postgres;
  std::size_t pool_size = 4;  // PostgreSQL connections (and store threads) per replica
  // This replica's name in the rows it owns. Default: host name and process id, so that two
  // replicas on one host never take each other for themselves.
  std::string replica;
  // How long a replica's claim on an open row (and on an in-flight replay lock) lasts without
  // renewal; another replica takes over rows whose lease has run out.
  std::chrono::milliseconds lease{std::chrono::seconds(30)};
};

// The default replica name: host name and process id.
std::string default_replica_name();

class Store {
 public:
  static Result<std::shared_ptr<Store>> open(StoreLocation location);
  ~Store();
  Store(const Store&) = delete;
  Store& operator=(const Store&) = delete;

  Engine engine() const { return location_.engine; }
  const StoreLocation& location() const { return location_; }
  const std::string& replica() const { return location_.replica; }
  // One process owns every row: a SQLite file (locks of other processes notwithstanding, the
  // journal never had owners there).
  bool single_replica() const { return location_.engine == Engine::sqlite; }

  // A session held for one piece of work. SQLite: the one connection, under the store's mutex.
  // PostgreSQL: a free pooled connection (waits for one); only the store's threads, start-up code
  // and command-line tools take one.
  class Lease {
   public:
    Lease(Lease&& other) noexcept;
    ~Lease();
    SqlSession& operator*() const { return *session_; }
    SqlSession* operator->() const { return session_; }

   private:
    friend class Store;
    Lease(Store& store, SqlSession* session, std::unique_lock<std::mutex> sqlite_lock)
        : store_(&store), session_(session), sqlite_lock_(std::move(sqlite_lock)) {}
    Store* store_;
    SqlSession* session_;
    std::unique_lock<std::mutex> sqlite_lock_;
  };
  Lease session();

  // Runs `work()` (which takes sessions as it needs) where blocking is allowed, and gives its
  // result back on the caller's executor.
  template <class Work>
  boost::asio::awaitable<std::invoke_result_t<Work&>> run(Work work) {
    using R = std::invoke_result_t<Work&>;
    if (!pool_)
      co_return work();
    std::optional<R> result = co_await boost::asio::co_spawn(
        pool_->get_executor(), run_here(std::move(work)), boost::asio::use_awaitable);
    co_return std::move(*result);
  }
  // Fire and forget (a lock given back from a destructor): inline for SQLite.
  void post(std::function<void()> work);

 private:
  explicit Store(StoreLocation location) : location_(std::move(location)) {}
  template <class Work>
  static boost::asio::awaitable<std::optional<std::invoke_result_t<Work&>>> run_here(Work work) {
    co_return work();
  }
  void give_back(SqlSession* session);

  StoreLocation location_;
  std::mutex mutex_;  // SQLite: the connection; PostgreSQL: the free list
  std::condition_variable freed_;
  std::vector<std::unique_ptr<SqlSession>> sessions_;
  std::vector<SqlSession*> free_;
  std::unique_ptr<boost::asio::thread_pool> pool_;  // PostgreSQL only
};

}  // namespace x402proxy::store
