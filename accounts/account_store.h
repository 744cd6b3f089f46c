// The prepaid-credit ledger for known callers. An operator gives a developer an API key (or a user
// signs in with a JWT) and a prepaid balance; their priced MCP tool calls are charged from the
// balance instead of each carrying an x402 payment. The ledger is one SQLite file so balances hold
// across restarts and across several proxy processes sharing it.
//
// Amounts are atomic units of an asset the caller names ("USDC": 6 decimals), stored as decimal
// TEXT and added as 256-bit integers in C++ (uint256 does not fit SQLite's 64-bit integers).
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "accounts/api_key.h"
#include "sqlite/database.h"
#include "x402/amount.h"
#include "x402/result.h"

namespace x402proxy::accounts {

struct IssuedKey {
  std::string key;  // the whole key: shown once to the operator, never stored
  std::string key_id;
};

struct KeyInfo {
  std::string key_id;
  std::string account;
  std::int64_t created = 0;  // unix seconds
  std::int64_t revoked = 0;  // unix seconds; 0 while active
};

struct BillingEntry {
  std::int64_t id = 0;
  std::int64_t time = 0;  // unix seconds
  std::string account;
  std::string kind;  // debit | credit | topup | reserve_released
  std::string asset;
  std::string amount;  // atomic units, decimal
  std::string tool, request_id, outcome, reference;
};

struct AccountSummary {
  std::string account;
  std::map<std::string, std::string> balances;  // asset -> atomic units, decimal
  std::size_t active_keys = 0;
};

// Safe to share between threads (one mutex around the connection) and between processes (every
// change is one BEGIN IMMEDIATE transaction). Reasons for storage failures: "ledger.open",
// "ledger.sql", "ledger.corrupt"; for bad arguments: "account.invalid", "asset.invalid",
// "amount.invalid", "amount.overflow".
// What callers of the store branch on. `reason` keeps the exact name ("asset.invalid",
// "ledger.corrupt", ...); `kind` groups them.
enum class AccountFailure {
  invalid,              // a malformed account, asset or amount, or an overflow
  insufficient_credit,  // "insufficient_credit"
  key_malformed,        // "key.malformed"
  key_unknown,          // "key.unknown"
  key_revoked,          // "key.revoked"
  storage,              // the file could not be read or written, or holds what it should not
};
const char* to_string(AccountFailure failure);
using AccountError = Failure<AccountFailure>;
// The kind of one of the store's errors (the one place that reads its reason names).
AccountError account_error(const Error& error);

class AccountStore {
 public:
  // Opens or creates the file at `path` (":memory:" allowed) in WAL mode, creates the schema if
  // missing and, once per file, its random store key (meta table). A new file is made mode 0600.
  static Result<std::unique_ptr<AccountStore>> open(const std::string& path);
  ~AccountStore();
  AccountStore(const AccountStore&) = delete;
  AccountStore& operator=(const AccountStore&) = delete;

  // --- API keys (account_store.cpp) ---
  // A new key for `account` (1-128 characters of A-Z a-z 0-9 . _ @ : -). Only its hash is stored.
  Result<IssuedKey> add_key(const std::string& account);
  // The account a presented key belongs to. Reasons "key.malformed", "key.unknown" (no such key
  // id, or the secret does not match), "key.revoked" (only said to a caller holding the right
  // secret). Messages never contain the presented text.
  Result<std::string, AccountError> account_for_key(std::string_view presented);
  // Reason "key.unknown". Revoking a revoked key again succeeds and keeps the first time.
  Status revoke_key(const std::string& key_id);
  // Keys of one account, oldest first (for `accounts show`).
  Result<std::vector<KeyInfo>> keys(const std::string& account);
  // Every account with a key or a balance, by name.
  Result<std::vector<AccountSummary>> list();

  // --- Balances and billing (billing_records.cpp) ---
  Result<x402::Amount> balance(const std::string& account, const std::string& asset);  // 0 unknown
  // Balance minus the open reservations: what a new call may still spend.
  Result<x402::Amount> available(const std::string& account, const std::string& asset);
  // Operator adjustments; amount > 0. debit refuses ("insufficient_credit") to take more than is
  // available, so it never takes money an in-flight call has reserved.
  Result<Ok, AccountError> credit(const std::string& account, const std::string& asset,
                                  const x402::Amount& amount, const std::string& reference);
  Result<Ok, AccountError> debit(const std::string& account, const std::string& asset,
                                 const x402::Amount& amount, const std::string& reference);

  // Reserve before forwarding a priced call, then commit (debit and record it) or release (no
  // debit). Each is one IMMEDIATE transaction, so N concurrent calls against a balance for N-1
  // never overdraw, also across processes sharing the file. reserve refuses with
  // "insufficient_credit" and a message naming the balance, the reserved amount and the price.
  // commit and release fail with "reservation.unknown" or "reservation.closed" (already committed
  // or released). A reservation left open by a process that crashed mid-call is never charged, but
  // its amount stays unavailable until release() is called with its id (no sweep exists yet).
  Result<std::int64_t, AccountError> reserve(const std::string& account, const std::string& asset,
                                             const x402::Amount& amount, const std::string& tool,
                                             const std::string& request_id);
  Status commit(std::int64_t reservation, const std::string& outcome);
  Status release(std::int64_t reservation, const std::string& why);
  // Releases every open reservation (no debit). For start-up: a reservation left open by a run
  // that crashed belongs to a call that no longer exists, and would otherwise hold its amount
  // forever. Only for a ledger one serve process uses. Returns how many were released.
  Result<std::size_t> release_open_reservations(const std::string& why);
  // The reserved call is going onto an upstream connection: a crash from now on means the tool
  // may have run, and the reservation is committed, not released (the price covers the attempt).
  Status mark_forwarded(std::int64_t reservation);
  // At start-up: reservations a previous run left open are committed when their call had been
  // forwarded and released when it had not. Only for a ledger one serve process uses.
  struct OpenReservations {
    std::size_t committed = 0;
    std::size_t released = 0;
  };
  Result<OpenReservations> finish_open_reservations();

  // A top-up paid with x402, credited at most once per payment id (the payment's nonce or
  // transaction). false: that payment was already credited (to whichever account), nothing changed.
  Result<bool> credit_topup(const std::string& account, const std::string& asset,
                            const x402::Amount& amount, const std::string& payment_id);

  // The account's last `limit` billing entries, newest first.
  Result<std::vector<BillingEntry>> history(const std::string& account, std::size_t limit);

 private:
  AccountStore(std::unique_ptr<sqlite::Database> db, const StoreKey& store_key);
  Result<std::string> find_account_for_key(std::string_view presented);
  Status apply_credit(const std::string& account, const std::string& asset,
                      const x402::Amount& amount, const std::string& reference);
  Status apply_debit(const std::string& account, const std::string& asset,
                     const x402::Amount& amount, const std::string& reference);
  Result<std::int64_t> make_reservation(const std::string& account, const std::string& asset,
                                        const x402::Amount& amount, const std::string& tool,
                                        const std::string& request_id);

  std::mutex mutex_;  // guards db_: a transaction must not interleave with another thread's
  std::unique_ptr<sqlite::Database> db_;
  StoreKey store_key_;
};

// "account.invalid" unless 1-128 characters of A-Z a-z 0-9 . _ @ : -.
Status validate_account(const std::string& account);

}  // namespace x402proxy::accounts
