#include "facilitator/embedded/ledger.h"

#include <filesystem>

namespace x402proxy::facilitator {
namespace {

// Schema versions (PRAGMA user_version). 1: the first release. Ledgers of the releases before
// schema versions carry user_version 0 and exactly this schema; step 1 creates only what is
// missing, so such a file is adopted by running it.
constexpr const char* kMigrations[] = {
    "CREATE TABLE IF NOT EXISTS balances (network TEXT NOT NULL, asset TEXT NOT NULL,"
    " account TEXT NOT NULL, amount TEXT NOT NULL, PRIMARY KEY (network, asset, account));"
    "CREATE TABLE IF NOT EXISTS transfers (id INTEGER PRIMARY KEY AUTOINCREMENT,"
    " settled_ms INTEGER NOT NULL, network TEXT NOT NULL, asset TEXT NOT NULL,"
    " payer TEXT NOT NULL, payee TEXT NOT NULL, amount TEXT NOT NULL,"
    " payment_id TEXT NOT NULL UNIQUE, resource TEXT NOT NULL, transaction_id TEXT NOT NULL)",
};

Error corrupt(const std::string& account) {
  return make_error("ledger.corrupt", "balance of " + account + " is not an amount");
}

}  // namespace

const char* to_string(LedgerFailure failure) {
  switch (failure) {
    case LedgerFailure::duplicate_settlement:
      return "duplicate_settlement";
    case LedgerFailure::insufficient_funds:
      return "insufficient_funds";
    case LedgerFailure::storage:
      return "ledger.sql";
  }
  return "ledger.sql";
}

Result<std::unique_ptr<Ledger>> Ledger::open(const std::string& path,
                                             x402::Amount starting_balance) {
  auto db = sqlite::Database::open(path, "ledger");
  if (!db.ok())
    return make_error("ledger.open", db.error().message);
  if (auto s = (*db)->migrate(kMigrations); !s.ok())
    return make_error("ledger.open", s.error().message);
  return std::unique_ptr<Ledger>(new Ledger(std::move(db).value(), starting_balance));
}

Result<std::unique_ptr<Ledger>> Ledger::open_existing_read_only(const std::string& path) {
  std::error_code ec;
  if (!std::filesystem::is_regular_file(path, ec))
    return make_error("ledger.missing", "no ledger at " + path);
  auto db = sqlite::Database::open_read_only(path, "ledger");
  if (!db.ok())
    return make_error("ledger.open", db.error().message);
  return std::unique_ptr<Ledger>(new Ledger(std::move(db).value(), 0));
}

Ledger::Ledger(std::unique_ptr<sqlite::Database> db, x402::Amount starting_balance)
    : db_(std::move(db)), starting_balance_(starting_balance) {}

Ledger::~Ledger() = default;

Result<x402::Amount> Ledger::balance_locked(const std::string& network, const std::string& asset,
                                            const std::string& account,
                                            const x402::Amount& if_unseen) {
  auto statement = db_->prepare(
      "SELECT amount FROM balances WHERE network = ?1 AND asset = ?2 AND account = ?3");
  if (!statement.ok())
    return statement.error();
  statement->bind(1, network).bind(2, asset).bind(3, account);
  auto row = statement->step();
  if (!row.ok())
    return row.error();
  if (!*row)
    return if_unseen;
  auto amount = statement->amount(0);
  if (!amount)
    return corrupt(account);
  return *amount;
}

Status Ledger::set_balance_locked(const std::string& network, const std::string& asset,
                                  const std::string& account, const x402::Amount& value) {
  auto statement = db_->prepare(
      "INSERT INTO balances (network, asset, account, amount) VALUES (?1, ?2, ?3, ?4)"
      " ON CONFLICT (network, asset, account) DO UPDATE SET amount = ?4");
  if (!statement.ok())
    return statement.error();
  statement->bind(1, network).bind(2, asset).bind(3, account).bind_amount(4, value);
  return statement->run();
}

Result<Ok, LedgerError> Ledger::record(const LedgerTransfer& transfer) {
  auto storage = [](const Error& error) {
    return LedgerError(LedgerFailure::storage, error.message);
  };
  std::lock_guard lock(mutex_);
  sqlite::Transaction transaction(*db_);
  if (auto s = transaction.begin_write(); !s.ok())
    return storage(s.error());
  auto insert = db_->prepare(
      "INSERT INTO transfers (settled_ms, network, asset, payer, payee, amount,"
      " payment_id, resource, transaction_id) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)");
  if (!insert.ok())
    return storage(insert.error());
  insert->bind(1, sqlite::unix_millis())
      .bind(2, transfer.network)
      .bind(3, transfer.asset)
      .bind(4, transfer.payer)
      .bind(5, transfer.payee)
      .bind_amount(6, transfer.amount)
      .bind(7, transfer.payment_id)
      .bind(8, transfer.resource)
      .bind(9, transfer.transaction);
  auto inserted = insert->try_insert();
  if (!inserted.ok())
    return storage(inserted.error());
  if (!*inserted)
    return LedgerError(LedgerFailure::duplicate_settlement,
                       "this payment has already been settled");

  // The starting balance is a gift to new payers (so demos can pay); a payee the ledger has
  // never seen starts from nothing, so its balance is exactly what it was paid.
  auto payer_balance =
      balance_locked(transfer.network, transfer.asset, transfer.payer, starting_balance_);
  if (!payer_balance.ok())
    return storage(payer_balance.error());
  if (*payer_balance < transfer.amount) {
    return LedgerError(LedgerFailure::insufficient_funds,
                       "payer " + transfer.payer + " holds " + x402::to_string(*payer_balance) +
                           ", needs " + x402::to_string(transfer.amount));
  }
  auto payee_balance = balance_locked(transfer.network, transfer.asset, transfer.payee, 0);
  if (!payee_balance.ok())
    return storage(payee_balance.error());
  if (auto s = set_balance_locked(transfer.network, transfer.asset, transfer.payer,
                                  *payer_balance - transfer.amount);
      !s.ok()) {
    return storage(s.error());
  }
  if (auto s = set_balance_locked(transfer.network, transfer.asset, transfer.payee,
                                  *payee_balance + transfer.amount);
      !s.ok()) {
    return storage(s.error());
  }
  if (auto s = transaction.commit(); !s.ok())
    return storage(s.error());
  return Ok{};
}

Result<bool> Ledger::was_settled(const std::string& payment_id) {
  auto transaction = settled_transaction(payment_id);
  if (!transaction.ok())
    return transaction.error();
  return transaction->has_value();
}

Result<std::optional<std::string>> Ledger::settled_transaction(const std::string& payment_id) {
  std::lock_guard lock(mutex_);
  auto statement = db_->prepare("SELECT transaction_id FROM transfers WHERE payment_id = ?1");
  if (!statement.ok())
    return statement.error();
  statement->bind(1, payment_id);
  auto row = statement->step();
  if (!row.ok())
    return row.error();
  if (!*row)
    return std::optional<std::string>();
  return std::optional<std::string>(statement->text(0));
}

Result<x402::Amount> Ledger::balance(const std::string& network, const std::string& asset,
                                     const std::string& account) {
  std::lock_guard lock(mutex_);
  return balance_locked(network, asset, account, starting_balance_);
}

Result<std::vector<LedgerTransfer>> Ledger::transfers() {
  std::lock_guard lock(mutex_);
  auto statement = db_->prepare(
      "SELECT network, asset, payer, payee, amount, payment_id, resource,"
      " transaction_id FROM transfers ORDER BY id");
  if (!statement.ok())
    return statement.error();
  std::vector<LedgerTransfer> out;
  for (;;) {
    auto row = statement->step();
    if (!row.ok())
      return row.error();
    if (!*row)
      break;
    LedgerTransfer transfer;
    transfer.network = statement->text(0);
    transfer.asset = statement->text(1);
    transfer.payer = statement->text(2);
    transfer.payee = statement->text(3);
    transfer.amount = statement->amount(4).value_or(x402::Amount(0));
    transfer.payment_id = statement->text(5);
    transfer.resource = statement->text(6);
    transfer.transaction = statement->text(7);
    out.push_back(std::move(transfer));
  }
  return out;
}

Result<std::vector<LedgerBalance>> Ledger::balances() {
  std::lock_guard lock(mutex_);
  auto statement = db_->prepare(
      "SELECT network, asset, account, amount FROM balances ORDER BY network, asset, account");
  if (!statement.ok())
    return statement.error();
  std::vector<LedgerBalance> out;
  for (;;) {
    auto row = statement->step();
    if (!row.ok())
      return row.error();
    if (!*row)
      break;
    LedgerBalance balance;
    balance.network = statement->text(0);
    balance.asset = statement->text(1);
    balance.account = statement->text(2);
    auto amount = statement->amount(3);
    if (!amount)
      return corrupt(balance.account);
    balance.amount = *amount;
    out.push_back(std::move(balance));
  }
  return out;
}

}  // namespace x402proxy::facilitator
