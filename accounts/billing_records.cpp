// Balances, reservations and the billing record. Every change is one IMMEDIATE transaction that
// reads the balance, checks it and writes, so concurrent calls (threads or processes sharing the
// file) can never together spend more than the balance. One file of about 530 lines on purpose:
// every change runs the same few private steps (read_funds, write_balance, record) that a split
// would have to expose to the whole store.
#include "accounts/account_store.h"

#include <algorithm>
#include <limits>

namespace x402proxy::accounts {
namespace {

using x402::Amount;

// A stored amount; "ledger.corrupt" naming `where` when it is not a canonical decimal, because an
// unreadable balance could hide any value and refusing is the safe failure.
Result<Amount> column_amount(const sqlite::Statement& row, int column, const std::string& where) {
  auto amount = row.amount(column);
  if (!amount) {
    return make_error("ledger.corrupt", "accounts ledger: unreadable amount in " + where + ": \"" +
                                            row.text(column) + "\"");
  }
  return *amount;
}

constexpr std::size_t kMaxAssetLength = 128;

// Assets are names the caller picks: a symbol ("USDC") or a CAIP-19-like id with a contract
// address; anything else is more likely a mistake than an asset.
Status validate_asset(const std::string& asset) {
  bool valid = !asset.empty() && asset.size() <= kMaxAssetLength;
  for (char c : asset) {
    valid = valid && ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
                      c == '.' || c == '_' || c == ':' || c == '-' || c == '/');
  }
  if (!valid) {
    return make_error("asset.invalid",
                      "an asset name has 1 to 128 characters of A-Z a-z 0-9 . _ "
                      ": - /, got \"" +
                          asset.substr(0, kMaxAssetLength) + "\"");
  }
  return ok_status();
}

Status validate_change(const std::string& account, const std::string& asset, const Amount& amount) {
  if (auto valid = validate_account(account); !valid)
    return valid;
  if (auto valid = validate_asset(asset); !valid)
    return valid;
  if (amount == 0)
    return make_error("amount.invalid", "the amount must be more than 0");
  return ok_status();
}

Result<Amount> read_balance(sqlite::Database& db, const std::string& account,
                            const std::string& asset) {
  auto select = db.prepare("SELECT amount FROM balances WHERE account = ?1 AND asset = ?2");
  if (!select)
    return select.error();
  select->bind(1, account);
  select->bind(2, asset);
  auto found = select->step();
  if (!found)
    return db.error("ledger.sql");
  if (!*found)
    return Amount{0};
  return column_amount(*select, 0, "the " + asset + " balance of " + account);
}

// The sum of open reservations. Each was at most what was available when it was made, so the sum
// never exceeds the balance and cannot overflow.
Result<Amount> read_reserved(sqlite::Database& db, const std::string& account,
                             const std::string& asset) {
  auto select = db.prepare(
      "SELECT amount FROM reservations"
      " WHERE account = ?1 AND asset = ?2 AND state = 'open'");
  if (!select)
    return select.error();
  select->bind(1, account);
  select->bind(2, asset);
  Amount reserved = 0;
  for (;;) {
    auto stepped = select->step();
    if (!stepped)
      return db.error("ledger.sql");
    if (!*stepped)
      break;
    auto amount = column_amount(*select, 0, "a reservation of " + account);
    if (!amount)
      return amount.error();
    reserved += *amount;
  }
  return reserved;
}

struct Funds {
  Amount balance;
  Amount reserved;
  Amount available() const { return reserved > balance ? Amount{0} : balance - reserved; }
};

Result<Funds> read_funds(sqlite::Database& db, const std::string& account,
                         const std::string& asset) {
  auto balance = read_balance(db, account, asset);
  if (!balance)
    return balance.error();
  auto reserved = read_reserved(db, account, asset);
  if (!reserved)
    return reserved.error();
  return Funds{*balance, *reserved};
}

Status write_balance(sqlite::Database& db, const std::string& account, const std::string& asset,
                     const Amount& amount) {
  auto upsert = db.prepare(
      "INSERT INTO balances (account, asset, amount) VALUES (?1, ?2, ?3)"
      " ON CONFLICT (account, asset) DO UPDATE SET amount = excluded.amount");
  if (!upsert)
    return upsert.error();
  upsert->bind(1, account);
  upsert->bind(2, asset);
  upsert->bind(3, x402::to_string(amount));
  if (!upsert->run())
    return db.error("ledger.sql");
  return ok_status();
}

// uint256 wraps on overflow; a wrapped balance would silently lose the account's money.
Status add_to_balance(sqlite::Database& db, const std::string& account, const std::string& asset,
                      const Amount& amount) {
  auto balance = read_balance(db, account, asset);
  if (!balance)
    return balance.error();
  const Amount sum = *balance + amount;
  if (sum < *balance) {
    return make_error("amount.overflow", "crediting " + x402::to_string(amount) + " to the " +
                                             asset + " balance of " + account +
                                             " would pass 2^256 - 1");
  }
  return write_balance(db, account, asset, sum);
}

Status record(sqlite::Database& db, const BillingEntry& entry) {
  auto insert = db.prepare(
      "INSERT INTO billing (time_unix, account, kind, asset, amount, tool,"
      " request_id, outcome, reference)"
      " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)");
  if (!insert)
    return insert.error();
  insert->bind(1, entry.time);
  const std::string* texts[] = {&entry.account, &entry.kind,     &entry.asset,
                                &entry.amount,  &entry.tool,     &entry.request_id,
                                &entry.outcome, &entry.reference};
  for (int i = 0; i < 8; ++i)
    insert->bind(i + 2, *texts[i]);
  if (!insert->run())
    return db.error("ledger.sql");
  return ok_status();
}

BillingEntry entry(const std::string& account, const char* kind, const std::string& asset,
                   const Amount& amount) {
  BillingEntry made;
  made.time = sqlite::unix_seconds();
  made.account = account;
  made.kind = kind;
  made.asset = asset;
  made.amount = x402::to_string(amount);
  return made;
}

struct Reservation {
  std::string account, asset, tool, request_id;
  Amount amount;
};

// The reservation if it is still open; "reservation.unknown" or "reservation.closed" otherwise.
Result<Reservation> open_reservation(sqlite::Database& db, std::int64_t id) {
  auto select = db.prepare(
      "SELECT account, asset, amount, tool, request_id, state"
      " FROM reservations WHERE id = ?1");
  if (!select)
    return select.error();
  select->bind(1, id);
  auto found = select->step();
  if (!found)
    return db.error("ledger.sql");
  if (!*found)
    return make_error("reservation.unknown", "no reservation " + std::to_string(id));
  const std::string state = select->text(5);
  if (state != "open") {
    return make_error("reservation.closed",
                      "reservation " + std::to_string(id) + " is already " + state);
  }
  auto amount = column_amount(*select, 2, "reservation " + std::to_string(id));
  if (!amount)
    return amount.error();
  return Reservation{select->text(0), select->text(1), select->text(3), select->text(4), *amount};
}

Status close_reservation(sqlite::Database& db, std::int64_t id, const char* state) {
  auto update = db.prepare("UPDATE reservations SET state = ?1 WHERE id = ?2");
  if (!update)
    return update.error();
  update->bind(1, state);
  update->bind(2, id);
  if (!update->run())
    return db.error("ledger.sql");
  return ok_status();
}

Error insufficient(const std::string& account, const std::string& asset, const Funds& funds,
                   const std::string& what, const Amount& amount) {
  return make_error("insufficient_credit",
                    "account " + account + " has a balance of " + x402::to_string(funds.balance) +
                        " " + asset + " (atomic units), " + x402::to_string(funds.reserved) +
                        " of it reserved by calls in progress; " + what + " " +
                        x402::to_string(amount));
}

}  // namespace

Result<Ok, AccountError> AccountStore::credit(const std::string& account, const std::string& asset,
                                              const Amount& amount, const std::string& reference) {
  if (auto changed = apply_credit(account, asset, amount, reference); !changed)
    return account_error(changed.error());
  return Ok{};
}

Result<Ok, AccountError> AccountStore::debit(const std::string& account, const std::string& asset,
                                             const Amount& amount, const std::string& reference) {
  if (auto changed = apply_debit(account, asset, amount, reference); !changed)
    return account_error(changed.error());
  return Ok{};
}

Result<std::int64_t, AccountError> AccountStore::reserve(const std::string& account,
                                                         const std::string& asset,
                                                         const Amount& amount,
                                                         const std::string& tool,
                                                         const std::string& request_id) {
  auto made = make_reservation(account, asset, amount, tool, request_id);
  if (!made)
    return account_error(made.error());
  return *made;
}

Result<Amount> AccountStore::balance(const std::string& account, const std::string& asset) {
  std::lock_guard lock(mutex_);
  return read_balance(*db_, account, asset);
}

Result<Amount> AccountStore::available(const std::string& account, const std::string& asset) {
  std::lock_guard lock(mutex_);
  sqlite::Transaction transaction(*db_);
  if (auto status = transaction.begin_read(); !status)
    return status.error();
  auto funds = read_funds(*db_, account, asset);
  if (!funds)
    return funds.error();
  if (auto status = transaction.commit(); !status)
    return status.error();
  return funds->available();
}

Status AccountStore::apply_credit(const std::string& account, const std::string& asset,
                                  const Amount& amount, const std::string& reference) {
  if (auto valid = validate_change(account, asset, amount); !valid)
    return valid;
  std::lock_guard lock(mutex_);
  sqlite::Transaction transaction(*db_);
  if (auto status = transaction.begin_write(); !status)
    return status;
  if (auto status = add_to_balance(*db_, account, asset, amount); !status)
    return status;
  auto credited = entry(account, "credit", asset, amount);
  credited.reference = reference;
  if (auto status = record(*db_, credited); !status)
    return status;
  return transaction.commit();
}

Status AccountStore::apply_debit(const std::string& account, const std::string& asset,
                                 const Amount& amount, const std::string& reference) {
  if (auto valid = validate_change(account, asset, amount); !valid)
    return valid;
  std::lock_guard lock(mutex_);
  sqlite::Transaction transaction(*db_);
  if (auto status = transaction.begin_write(); !status)
    return status;
  auto funds = read_funds(*db_, account, asset);
  if (!funds)
    return funds.error();
  // Money reserved by a call in progress is already promised to it.
  if (funds->available() < amount)
    return insufficient(account, asset, *funds, "the debit is", amount);
  if (auto status = write_balance(*db_, account, asset, funds->balance - amount); !status)
    return status;
  auto debited = entry(account, "debit", asset, amount);
  debited.reference = reference;
  if (auto status = record(*db_, debited); !status)
    return status;
  return transaction.commit();
}

Result<std::int64_t> AccountStore::make_reservation(const std::string& account,
                                                    const std::string& asset, const Amount& amount,
                                                    const std::string& tool,
                                                    const std::string& request_id) {
  if (auto valid = validate_account(account); !valid)
    return valid.error();
  if (auto valid = validate_asset(asset); !valid)
    return valid.error();
  std::lock_guard lock(mutex_);
  sqlite::Transaction transaction(*db_);
  if (auto status = transaction.begin_write(); !status)
    return status.error();
  auto funds = read_funds(*db_, account, asset);
  if (!funds)
    return funds.error();
  if (funds->available() < amount)
    return insufficient(account, asset, *funds, "the call to " + tool + " costs", amount);
  auto insert = db_->prepare(
      "INSERT INTO reservations (created_unix, account, asset, amount, tool,"
      " request_id, state) VALUES (?1, ?2, ?3, ?4, ?5, ?6, 'open')");
  if (!insert)
    return insert.error();
  insert->bind(1, sqlite::unix_seconds());
  insert->bind(2, account);
  insert->bind(3, asset);
  insert->bind(4, x402::to_string(amount));
  insert->bind(5, tool);
  insert->bind(6, request_id);
  if (!insert->run())
    return db_->error("ledger.sql");
  const std::int64_t id = db_->last_insert_id();
  if (auto status = transaction.commit(); !status)
    return status.error();
  return id;
}

Status AccountStore::commit(std::int64_t reservation, const std::string& outcome) {
  std::lock_guard lock(mutex_);
  sqlite::Transaction transaction(*db_);
  if (auto status = transaction.begin_write(); !status)
    return status;
  auto reserved = open_reservation(*db_, reservation);
  if (!reserved)
    return reserved.error();
  auto balance = read_balance(*db_, reserved->account, reserved->asset);
  if (!balance)
    return balance.error();
  // debit never takes reserved money, so this means the file was changed behind the store's back.
  if (*balance < reserved->amount) {
    return make_error("ledger.corrupt", "reservation " + std::to_string(reservation) + " of " +
                                            x402::to_string(reserved->amount) +
                                            " exceeds the balance " + x402::to_string(*balance));
  }
  if (auto status =
          write_balance(*db_, reserved->account, reserved->asset, *balance - reserved->amount);
      !status)
    return status;
  if (auto status = close_reservation(*db_, reservation, "committed"); !status)
    return status;
  auto charged = entry(reserved->account, "debit", reserved->asset, reserved->amount);
  charged.tool = reserved->tool;
  charged.request_id = reserved->request_id;
  charged.outcome = outcome;
  charged.reference = "reservation " + std::to_string(reservation);
  if (auto status = record(*db_, charged); !status)
    return status;
  return transaction.commit();
}

Status AccountStore::release(std::int64_t reservation, const std::string& why) {
  std::lock_guard lock(mutex_);
  sqlite::Transaction transaction(*db_);
  if (auto status = transaction.begin_write(); !status)
    return status;
  auto reserved = open_reservation(*db_, reservation);
  if (!reserved)
    return reserved.error();
  if (auto status = close_reservation(*db_, reservation, "released"); !status)
    return status;
  // Recorded so a caller asking "was I charged for request X?" finds the answer, though nothing
  // moved.
  auto released = entry(reserved->account, "reserve_released", reserved->asset, reserved->amount);
  released.tool = reserved->tool;
  released.request_id = reserved->request_id;
  released.outcome = why;
  released.reference = "reservation " + std::to_string(reservation);
  if (auto status = record(*db_, released); !status)
    return status;
  return transaction.commit();
}

Result<std::size_t> AccountStore::release_open_reservations(const std::string& why) {
  std::vector<std::int64_t> open;
  {
    std::lock_guard lock(mutex_);
    auto select = db_->prepare("SELECT id FROM reservations WHERE state = 'open'");
    if (!select)
      return select.error();
    for (;;) {
      auto stepped = select->step();
      if (!stepped)
        return db_->error("ledger.sql");
      if (!*stepped)
        break;
      open.push_back(select->integer(0));
    }
  }
  for (std::int64_t id : open) {
    if (auto status = release(id, why); !status)
      return status.error();
  }
  return open.size();
}

Status AccountStore::mark_forwarded(std::int64_t reservation) {
  std::lock_guard lock(mutex_);
  auto update = db_->prepare(
      "UPDATE reservations SET forwarded_unix = ?1 WHERE id = ?2"
      " AND state = 'open'");
  if (!update)
    return update.error();
  update->bind(1, sqlite::unix_seconds());
  update->bind(2, reservation);
  if (!update->run())
    return db_->error("ledger.sql");
  if (db_->changes() != 1) {
    return make_error("reservation.unknown", "no open reservation " + std::to_string(reservation));
  }
  return ok_status();
}

Result<AccountStore::OpenReservations> AccountStore::finish_open_reservations() {
  std::vector<std::pair<std::int64_t, bool>> open;
  {
    std::lock_guard lock(mutex_);
    auto select =
        db_->prepare("SELECT id, forwarded_unix != 0 FROM reservations WHERE state = 'open'");
    if (!select)
      return select.error();
    for (;;) {
      auto stepped = select->step();
      if (!stepped)
        return db_->error("ledger.sql");
      if (!*stepped)
        break;
      open.emplace_back(select->integer(0), select->integer(1) != 0);
    }
  }
  OpenReservations finished;
  for (const auto& [id, forwarded] : open) {
    if (forwarded) {
      if (auto status = commit(id,
                               "charged at start-up: the call reached the tool before the "
                               "previous run stopped");
          !status)
        return status.error();
      ++finished.committed;
    } else {
      if (auto status = release(id, "released at start-up: the call never reached the tool");
          !status)
        return status.error();
      ++finished.released;
    }
  }
  return finished;
}

Result<bool> AccountStore::credit_topup(const std::string& account, const std::string& asset,
                                        const Amount& amount, const std::string& payment_id) {
  if (auto valid = validate_change(account, asset, amount); !valid)
    return valid.error();
  if (payment_id.empty())
    return make_error("topup.invalid", "a top-up needs the id of the payment that funded it");
  std::lock_guard lock(mutex_);
  sqlite::Transaction transaction(*db_);
  if (auto status = transaction.begin_write(); !status)
    return status.error();
  auto seen = db_->prepare("SELECT 1 FROM billing WHERE kind = 'topup' AND reference = ?1");
  if (!seen)
    return seen.error();
  seen->bind(1, payment_id);
  auto found = seen->step();
  if (!found)
    return db_->error("ledger.sql");
  if (*found)
    return false;  // a retried or replayed top-up: the payment already bought its credit
  if (auto status = add_to_balance(*db_, account, asset, amount); !status)
    return status.error();
  auto topped_up = entry(account, "topup", asset, amount);
  topped_up.reference = payment_id;
  if (auto status = record(*db_, topped_up); !status)
    return status.error();
  if (auto status = transaction.commit(); !status)
    return status.error();
  return true;
}

Result<std::vector<BillingEntry>> AccountStore::history(const std::string& account,
                                                        std::size_t limit) {
  std::lock_guard lock(mutex_);
  auto select = db_->prepare(
      "SELECT id, time_unix, account, kind, asset, amount, tool, request_id,"
      " outcome, reference FROM billing WHERE account = ?1"
      " ORDER BY id DESC LIMIT ?2");
  if (!select)
    return select.error();
  select->bind(1, account);
  select->bind(2, static_cast<std::int64_t>(std::min<std::size_t>(
                      limit, static_cast<std::size_t>(std::numeric_limits<std::int64_t>::max()))));
  std::vector<BillingEntry> entries;
  for (;;) {
    auto stepped = select->step();
    if (!stepped)
      return db_->error("ledger.sql");
    if (!*stepped)
      break;
    BillingEntry row;
    row.id = select->integer(0);
    row.time = select->integer(1);
    std::string* texts[] = {&row.account, &row.kind,       &row.asset,   &row.amount,
                            &row.tool,    &row.request_id, &row.outcome, &row.reference};
    for (int i = 0; i < 8; ++i)
      *texts[i] = select->text(i + 2);
    entries.push_back(std::move(row));
  }
  return entries;
}

}  // namespace x402proxy::accounts
