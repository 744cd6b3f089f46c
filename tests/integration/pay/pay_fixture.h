// The whole buyer path with real binaries: a test MCP client drives `x402-mcp-proxy pay` over
// stdio; pay forwards to `x402-mcp-proxy serve` (the embedded facilitator inside, so payments are
// really verified and settled into a SQLite ledger) in front of the test MCP upstream. Solana
// chain data comes from a local JSON-RPC server answering as the embedded facilitator's simulated
// chain does.
#pragma once

#include <fstream>
#include <memory>
#include <string>

#include <sqlite3.h>

#include <thread>

#include "facilitator/embedded/ledger.h"
#include "facilitator/service/simulated_solana_rpc.h"
#include "pay/spending_limits.h"
#include "signers/key_material.h"
#include "signers/solana/base58.h"
#include "signers/solana/ed25519.h"
#include "tests/support/eventually.h"
#include "tests/support/serve_fixture.h"
#include "tests/support/stdio_mcp_client.h"

namespace x402proxy::testing {

inline constexpr const char* kSolanaFeePayer = "EwWqGE4ZFKLofuestmU4LDdK7XM1N4ALgdZccwYugwGd";
inline constexpr const char* kSolanaPayTo = "2wKupLR9q6wXYppw8Gr2NvWxKBUqm4PPJKkQfoxHDBg4";
// Anvil/Hardhat account #2: a second well-known test key.
inline constexpr const char* kSecondPayerKey =
    "0x5de4111afa1a4b94908f83103eb1f1706367c2e68ca870fc3fb9a804cdab365a";

// serve with the embedded facilitator, offering Base Sepolia and Solana devnet USDC.
inline ServeOptionsForTest embedded_serve_options(const std::string& dir,
                                                  const std::string& starting_balance = "$1",
                                                  bool solana_first = false) {
  ServeOptionsForTest options;
  options.facilitator_yaml = "facilitator: { embedded: true, ledger: " + dir +
                             "/ledger.sqlite, starting_balance: \"" + starting_balance +
                             "\", solana_fee_payer: " + kSolanaFeePayer + " }\n";
  const std::string evm = "{ network: base-sepolia, asset: USDC }";
  const std::string solana = "{ network: solana-devnet, asset: USDC }";
  options.payment_yaml = std::string("pay_to: { eip155: \"") + kPayTo +
                         "\", solana: " + kSolanaPayTo + " }\naccept: [ " +
                         (solana_first ? solana + ", " + evm : evm + ", " + solana) + " ]\n";
  return options;
}

inline TestHandler simulated_solana_rpc() {
  return [](const RecordedRequest& request) {
    return TestResponse{200,
                        {{"Content-Type", "application/json"}},
                        x402proxy::facilitator::answer_simulated_solana_rpc(request.body)};
  };
}

// Writes a key file and returns its path.
inline std::string write_key(const std::string& dir, const std::string& name,
                             const std::string& text) {
  const std::string path = dir + "/" + name;
  std::ofstream(path) << text << "\n";
  return path;
}

// A fresh Solana key file (the 32-byte seed as hex); `address` receives its public key.
inline std::string new_solana_key_file(const std::string& dir, std::string& address) {
  auto seed = x402proxy::signers::random_secret(32);
  REQUIRE(seed.ok());
  std::string hex;
  static constexpr char digits[] = "0123456789abcdef";
  for (std::size_t i = 0; i < seed->size(); ++i) {
    hex.push_back(digits[seed->data()[i] >> 4]);
    hex.push_back(digits[seed->data()[i] & 15]);
  }
  auto key = x402proxy::signers::solana::SolanaKey::from_seed(std::move(seed).value());
  REQUIRE(key.ok());
  address = x402proxy::signers::solana::base58_encode(key->public_key());
  return write_key(dir, "solana.key", hex);
}

// A running `pay` bridge over stdio, given the wallet's signers and limits as YAML.
struct PayBridge {
  PayBridge(const std::string& dir, const std::string& remote, const std::string& signers_yaml,
            const std::string& extra_yaml = "")
      : ledger(dir + "/spending.sqlite") {
    std::ofstream(dir + "/wallet.yaml")
        << "remote: " << remote << "\nsigners:\n"
        << signers_yaml << "ledger: " << ledger << "\nrequest_timeout: 20s\nlog_level: info\n"
        << extra_yaml;
    client = std::make_unique<StdioMcpClient>(
        std::vector<std::string>{proxy_binary(), "pay", "--config", dir + "/wallet.yaml"},
        dir + "/pay.log");
  }
  std::string log() { return client->process().stderr_text(); }
  std::string ledger;
  std::unique_ptr<StdioMcpClient> client;
};

inline std::vector<x402proxy::facilitator::LedgerTransfer> settled_transfers(
    const std::string& ledger_path) {
  auto ledger = x402proxy::facilitator::Ledger::open(ledger_path, 0);
  REQUIRE(ledger.ok());
  auto transfers = (*ledger)->transfers();
  REQUIRE(transfers.ok());
  return *transfers;
}

// Runs a command to its end and returns what it printed.
inline std::string run_and_capture(std::vector<std::string> argv, const std::string& log_path) {
  ChildProcess child(std::move(argv), log_path);
  REQUIRE(child.wait_for_exit(std::chrono::seconds(20)));
  return child.output();
}

inline std::string error_message(const boost::json::object& response) {
  if (!response.contains("error"))
    return "";
  return std::string(response.at("error").at("message").as_string());
}

inline std::int64_t error_code(const boost::json::object& response) {
  if (!response.contains("error"))
    return 0;
  return response.at("error").at("code").as_int64();
}

// What the wallet recorded: every row of pay's spending ledger (read beside a running pay).
inline std::vector<x402proxy::pay::SpendingLedger::Row> spending_rows(
    const std::string& ledger_path) {
  auto ledger = x402proxy::pay::SpendingLedger::open(ledger_path, {});
  REQUIRE(ledger.ok());
  auto rows = (*ledger)->rows();
  REQUIRE(rows.ok());
  return *rows;
}

// The states of serve's payment journal rows, oldest first.
inline std::vector<std::string> serve_journal_states(const ServeFixture& serve) {
  sqlite3* db = nullptr;
  std::vector<std::string> states;
  if (sqlite3_open_v2((serve.dir + "/payments.sqlite").c_str(), &db, SQLITE_OPEN_READONLY,
                      nullptr) != SQLITE_OK) {
    sqlite3_close(db);
    return states;
  }
  sqlite3_stmt* statement = nullptr;
  if (sqlite3_prepare_v2(db, "SELECT state FROM payments ORDER BY id", -1, &statement, nullptr) ==
      SQLITE_OK) {
    while (sqlite3_step(statement) == SQLITE_ROW)
      states.emplace_back(reinterpret_cast<const char*>(sqlite3_column_text(statement, 0)));
  }
  sqlite3_finalize(statement);
  sqlite3_close(db);
  return states;
}

}  // namespace x402proxy::testing
