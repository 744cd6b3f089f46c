// A real PostgreSQL 15 server for a test process (tests/peers/postgres/start.sh: a throw-away
// cluster on 127.0.0.1 and an ephemeral port), and a fresh database per test case on it. It can
// be stopped (a fast shutdown: clients are cut off, as when the database fails) and started
// again on the same port and files, for the fail-closed tests.
#pragma once

#include <memory>
#include <string>

#include "tests/support/child_process.h"

namespace x402proxy::testing {

class PostgresServer {
 public:
  PostgresServer();  // starts it; REQUIREs that it came up
  ~PostgresServer();
  PostgresServer(const PostgresServer&) = delete;
  PostgresServer& operator=(const PostgresServer&) = delete;

  // postgresql://postgres@127.0.0.1:PORT/DATABASE
  std::string url(const std::string& database = "postgres") const;
  // Creates a new, empty database and returns its URL.
  std::string fresh_database();
  unsigned short port() const { return port_; }

  void stop();   // fast shutdown; returns once the server is gone
  void start();  // on the same port and data folder
  bool running() const { return process_ != nullptr; }

 private:
  std::string dir_;
  unsigned short port_ = 0;
  int databases_ = 0;
  std::unique_ptr<ChildProcess> process_;
};

// One server for the whole test process, started on first use.
PostgresServer& shared_postgres();

}  // namespace x402proxy::testing
