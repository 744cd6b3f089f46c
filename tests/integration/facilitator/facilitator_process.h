// The real `x402-mcp-proxy facilitator` binary as a child process on an ephemeral port, with its
// ledger and log in a test's directory, and a look at that ledger.
#pragma once

#include <fstream>
#include <memory>
#include <string>

#include <sqlite3.h>

#include <catch2/catch.hpp>

#include "tests/support/child_process.h"

namespace x402proxy::testing {

struct FacilitatorProcess {
  // `extra_yaml`: more configuration lines (solana_fee_payer, solana_rpc, evm_signer, ...).
  explicit FacilitatorProcess(const std::string& dir, const std::string& starting_balance = "$1",
                              const std::string& extra_yaml = "",
                              const std::string& log_level = "warn")
      : ledger(dir + "/ledger.sqlite") {
    std::ofstream(dir + "/facilitator.yaml")
        << "listen: 127.0.0.1:0\nledger: " << ledger << "\nstarting_balance: \"" << starting_balance
        << "\"\nlog_level: " << log_level << "\n"
        << extra_yaml;
    process = std::make_unique<ChildProcess>(
        std::vector<std::string>{proxy_binary(), "facilitator", "--config",
                                 dir + "/facilitator.yaml"},
        dir + "/facilitator.log");
    auto line = process->wait_for_line("listening on", std::chrono::seconds(10));
    INFO(process->output());
    REQUIRE(line);
    port = port_from_listening_line(*line);
  }
  std::string url() const { return "http://127.0.0.1:" + std::to_string(port); }

  std::string ledger;
  std::unique_ptr<ChildProcess> process;
  unsigned short port = 0;
};

// What the ledger's balances table says `account` holds ("" when it has no row).
inline std::string balance_of(const std::string& ledger, const std::string& account) {
  sqlite3* db = nullptr;
  REQUIRE(sqlite3_open_v2(ledger.c_str(), &db, SQLITE_OPEN_READONLY, nullptr) == SQLITE_OK);
  sqlite3_stmt* statement = nullptr;
  sqlite3_prepare_v2(db, "SELECT amount FROM balances WHERE account = ?1", -1, &statement, nullptr);
  sqlite3_bind_text(statement, 1, account.c_str(), -1, SQLITE_TRANSIENT);
  std::string amount = sqlite3_step(statement) == SQLITE_ROW
                           ? reinterpret_cast<const char*>(sqlite3_column_text(statement, 0))
                           : "";
  sqlite3_finalize(statement);
  sqlite3_close(db);
  return amount;
}

}  // namespace x402proxy::testing
