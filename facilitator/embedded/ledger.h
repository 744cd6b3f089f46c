// The embedded facilitator's ledger: a SQLite file that records every settled transfer and keeps a
// balance per (network, asset, account). It moves no money on any chain; it is the book-keeping of
// a closed deployment, a demo or a test. A settlement is one atomic SQLite transaction: the payment
// identity (EVM from+nonce, Solana transaction) is unique, so a payment settles at most once, and a
// payer's balance never goes below zero. The file is created 0600 (sqlite/database.h).
#pragma once

#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "sqlite/database.h"
#include "x402/amount.h"
#include "x402/result.h"

namespace x402proxy::facilitator {

struct LedgerTransfer {
  std::string network;  // CAIP-2
  std::string asset;    // contract address or mint, as in the requirements
  std::string payer;
  std::string payee;
  x402::Amount amount = 0;
  std::string payment_id;   // replay identity: unique forever in this ledger
  std::string resource;     // what was paid for (the payment's resource URL), for the records
  std::string transaction;  // the id the settle response reports
};

// What one account holds of one asset on one network, as the balances table records it.
struct LedgerBalance {
  std::string network;  // CAIP-2
  std::string asset;
  std::string account;
  x402::Amount amount = 0;
};

// Why a transfer was not recorded. The first two are the x402 reason names the embedded
// facilitator answers with.
enum class LedgerFailure {
  duplicate_settlement,  // "duplicate_settlement": the payment id is already settled
  insufficient_funds,    // "insufficient_funds": the payer holds less than the amount
  storage,               // "ledger.sql": the file could not be read or written
};
const char* to_string(LedgerFailure failure);
using LedgerError = Failure<LedgerFailure>;

class Ledger {
 public:
  // `starting_balance` is what an account the ledger has never seen holds (0 for strict books; a
  // demo gives each payer some so that insufficient_funds is real but not immediate).
  static Result<std::unique_ptr<Ledger>> open(const std::string& path,
                                              x402::Amount starting_balance);
  // An existing ledger, for reports while a facilitator may be running on it: read-only, and never
  // creates a file (reason "ledger.missing": "no ledger at PATH").
  static Result<std::unique_ptr<Ledger>> open_existing_read_only(const std::string& path);
  ~Ledger();
  Ledger(const Ledger&) = delete;
  Ledger& operator=(const Ledger&) = delete;

  Result<Ok, LedgerError> record(const LedgerTransfer& transfer);

  Result<bool> was_settled(const std::string& payment_id);
  // The transaction id of the payment's settlement, if it was settled here.
  Result<std::optional<std::string>> settled_transaction(const std::string& payment_id);
  Result<x402::Amount> balance(const std::string& network, const std::string& asset,
                               const std::string& account);
  Result<std::vector<LedgerTransfer>> transfers();
  // Every account the ledger has recorded, by network, asset and account (accounts it has never
  // seen hold the starting balance and are not listed).
  Result<std::vector<LedgerBalance>> balances();

 private:
  Ledger(std::unique_ptr<sqlite::Database> db, x402::Amount starting_balance);
  Result<x402::Amount> balance_locked(const std::string& network, const std::string& asset,
                                      const std::string& account, const x402::Amount& if_unseen);
  Status set_balance_locked(const std::string& network, const std::string& asset,
                            const std::string& account, const x402::Amount& value);

  std::unique_ptr<sqlite::Database> db_;
  x402::Amount starting_balance_;
  std::mutex mutex_;
};

}  // namespace x402proxy::facilitator
