#include "tests/support/postgres_server.h"

#include <signal.h>

#include <regex>

#include <catch2/catch.hpp>

#include "store/postgres_session.h"

namespace x402proxy::testing {

namespace {

std::string start_script() {
  return std::string(X402PROXY_SOURCE_DIR) + "/tests/peers/postgres/start.sh";
}

}  // namespace

PostgresServer::PostgresServer() : dir_(make_temp_dir("postgres")) {
  start();
}

PostgresServer::~PostgresServer() {
  if (running())
    stop();
}

void PostgresServer::start() {
  std::vector<std::string> argv{start_script(), dir_ + "/cluster", std::to_string(port_)};
  process_ = std::make_unique<ChildProcess>(std::move(argv), dir_ + "/server.log");
  auto line = process_->wait_for_line("postgres ready", std::chrono::seconds(60));
  INFO(process_->output());
  REQUIRE(line);
  std::smatch match;
  REQUIRE(std::regex_search(*line, match, std::regex(":([0-9]+)/postgres")));
  port_ = static_cast<unsigned short>(std::stoi(match[1]));
}

void PostgresServer::stop() {
  if (!process_)
    return;
  // SIGINT to the group: PostgreSQL's fast shutdown (connections are cut, as in an outage).
  ::kill(-process_->pid(), SIGINT);
  if (!process_->wait_for_exit(std::chrono::seconds(20)))
    process_->terminate();
  process_.reset();
}

std::string PostgresServer::url(const std::string& database) const {
  return "postgresql://postgres@127.0.0.1:" + std::to_string(port_) + "/" + database;
}

std::string PostgresServer::fresh_database() {
  const std::string name = "test_" + std::to_string(++databases_);
  store::PostgresTarget target;
  target.url = url();
  store::PostgresSession session(target);
  auto made = session.execute("CREATE DATABASE " + name);
  INFO((made.ok() ? std::string() : made.error().message));
  REQUIRE(made.ok());
  return url(name);
}

PostgresServer& shared_postgres() {
  static PostgresServer server;
  return server;
}

}  // namespace x402proxy::testing
