// The account store's file, its store key and the API keys. Balances and billing are in
// billing_records.cpp.
#include "accounts/account_store.h"

#include <sodium.h>

#include <cstring>
#include <set>

namespace x402proxy::accounts {
namespace {

constexpr std::size_t kMaxAccountLength = 128;
constexpr int kKeyIdAttempts = 3;  // key ids are 48 random bits; a clash is already unlikely once

// Schema versions (PRAGMA user_version). 1: the first release; 2: reservations remember whether
// their call reached the tool (forwarded_unix; 0: not forwarded). Ledgers of the releases before
// schema versions carry user_version 0: adopt_unversioned gives them the version their columns
// show.
constexpr const char* kMigrations[] = {
    // The store key lives with the hashes it keys, so that a hash copied into another ledger
    // matches nothing there. It does not make the hashes reversible: secrets are 256 random bits.
    "CREATE TABLE IF NOT EXISTS meta (name TEXT PRIMARY KEY, value BLOB NOT NULL);"
    "CREATE TABLE IF NOT EXISTS api_keys ("
    " key_id TEXT PRIMARY KEY, account TEXT NOT NULL, secret_hash BLOB NOT NULL,"
    " created_unix INTEGER NOT NULL, revoked_unix INTEGER NOT NULL DEFAULT 0);"
    "CREATE INDEX IF NOT EXISTS api_keys_by_account ON api_keys(account);"
    // Amounts are decimal TEXT: uint256 does not fit SQLite's 64-bit integers.
    "CREATE TABLE IF NOT EXISTS balances ("
    " account TEXT NOT NULL, asset TEXT NOT NULL, amount TEXT NOT NULL,"
    " PRIMARY KEY (account, asset));"
    "CREATE TABLE IF NOT EXISTS reservations ("
    " id INTEGER PRIMARY KEY AUTOINCREMENT, created_unix INTEGER NOT NULL,"
    " account TEXT NOT NULL, asset TEXT NOT NULL, amount TEXT NOT NULL,"
    " tool TEXT NOT NULL, request_id TEXT NOT NULL,"
    " state TEXT NOT NULL CHECK (state IN ('open', 'committed', 'released')));"
    "CREATE INDEX IF NOT EXISTS open_reservations ON reservations(account, asset)"
    " WHERE state = 'open';"
    "CREATE TABLE IF NOT EXISTS billing ("
    " id INTEGER PRIMARY KEY AUTOINCREMENT, time_unix INTEGER NOT NULL, account TEXT NOT NULL,"
    " kind TEXT NOT NULL CHECK (kind IN ('debit', 'credit', 'topup', 'reserve_released')),"
    " asset TEXT NOT NULL, amount TEXT NOT NULL, tool TEXT NOT NULL DEFAULT '',"
    " request_id TEXT NOT NULL DEFAULT '', outcome TEXT NOT NULL DEFAULT '',"
    " reference TEXT NOT NULL DEFAULT '');"
    "CREATE INDEX IF NOT EXISTS billing_by_account ON billing(account, id);"
    // A top-up payment is credited once even if two processes see it at the same moment.
    "CREATE UNIQUE INDEX IF NOT EXISTS topup_once ON billing(reference) WHERE kind = 'topup'",
    "ALTER TABLE reservations ADD COLUMN forwarded_unix INTEGER NOT NULL DEFAULT 0",
};

bool account_character(char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' ||
         c == '_' || c == '@' || c == ':' || c == '-';
}

// Reads the store key, or makes it when the file is new: in one IMMEDIATE transaction, so two
// processes opening a new file at once agree on one key.
Result<StoreKey> load_or_create_store_key(sqlite::Database& db) {
  sqlite::Transaction transaction(db);
  if (auto status = transaction.begin_write(); !status)
    return status.error();
  auto select = db.prepare("SELECT value FROM meta WHERE name = 'store_key'");
  if (!select)
    return select.error();
  auto found = select->step();
  if (!found)
    return db.error("ledger.sql");
  if (*found) {
    StoreKey key{};
    const auto stored = select->blob(0);
    if (stored.size() != key.size())
      return make_error("ledger.corrupt", "accounts ledger: the store key is not 32 bytes");
    std::memcpy(key.data(), stored.data(), key.size());
    return key;
  }
  auto key = generate_store_key();
  if (!key)
    return key.error();
  auto insert = db.prepare("INSERT INTO meta (name, value) VALUES ('store_key', ?1)");
  if (!insert)
    return insert.error();
  insert->bind_blob(1, *key);
  if (!insert->run())
    return db.error("ledger.sql");
  if (auto status = transaction.commit(); !status)
    return status.error();
  return key;
}

// The file holds balances and who owns which key: created 0600 (sqlite/database.h), in WAL mode
// (readers go on while a reservation is written), brought to the current schema.
Result<StoreKey> prepare_file(sqlite::Database& db) {
  auto adopted = db.adopt_unversioned("reservations", [](const std::set<std::string>& columns) {
    return columns.count("forwarded_unix") != 0 ? 2 : 1;
  });
  if (!adopted)
    return adopted.error();
  if (auto status = db.migrate(kMigrations); !status)
    return status.error();
  return load_or_create_store_key(db);
}

}  // namespace

Status validate_account(const std::string& account) {
  if (account.empty() || account.size() > kMaxAccountLength) {
    return make_error("account.invalid", "an account name has 1 to 128 characters, this one has " +
                                             std::to_string(account.size()));
  }
  for (char c : account) {
    if (!account_character(c)) {
      return make_error("account.invalid", "account name \"" + account +
                                               "\" has a character outside A-Z a-z 0-9 . _ @ : -");
    }
  }
  return ok_status();
}

AccountStore::AccountStore(std::unique_ptr<sqlite::Database> db, const StoreKey& store_key)
    : db_(std::move(db)), store_key_(store_key) {}

AccountStore::~AccountStore() {
  sodium_memzero(store_key_.data(), store_key_.size());
}

Result<std::unique_ptr<AccountStore>> AccountStore::open(const std::string& path) {
  auto db = sqlite::Database::open(path, "accounts ledger");
  if (!db)
    return make_error("ledger.open", db.error().message);
  auto key = prepare_file(**db);
  if (!key)
    return make_error(key.error().reason, "accounts ledger " + path + ": " + key.error().message);
  std::unique_ptr<AccountStore> store(new AccountStore(std::move(db).value(), *key));
  sodium_memzero(key->data(), key->size());
  return store;
}

const char* to_string(AccountFailure failure) {
  switch (failure) {
    case AccountFailure::invalid:
      return "account.invalid";
    case AccountFailure::insufficient_credit:
      return "insufficient_credit";
    case AccountFailure::key_malformed:
      return "key.malformed";
    case AccountFailure::key_unknown:
      return "key.unknown";
    case AccountFailure::key_revoked:
      return "key.revoked";
    case AccountFailure::storage:
      return "ledger.sql";
  }
  return "ledger.sql";
}

AccountError account_error(const Error& error) {
  const std::string& reason = error.reason;
  AccountFailure kind = AccountFailure::storage;
  if (reason == "insufficient_credit")
    kind = AccountFailure::insufficient_credit;
  else if (reason == "key.malformed")
    kind = AccountFailure::key_malformed;
  else if (reason == "key.unknown")
    kind = AccountFailure::key_unknown;
  else if (reason == "key.revoked")
    kind = AccountFailure::key_revoked;
  else if (reason.starts_with("account.") || reason.starts_with("asset.") ||
           reason.starts_with("amount."))
    kind = AccountFailure::invalid;
  AccountError out(kind, error.message);
  out.reason = reason;
  return out;
}

Result<std::string, AccountError> AccountStore::account_for_key(std::string_view presented) {
  auto found = find_account_for_key(presented);
  if (!found)
    return account_error(found.error());
  return std::move(found).value();
}

Result<IssuedKey> AccountStore::add_key(const std::string& account) {
  if (auto valid = validate_account(account); !valid)
    return valid.error();
  std::lock_guard lock(mutex_);
  for (int attempt = 0; attempt < kKeyIdAttempts; ++attempt) {
    auto key = generate_api_key();
    if (!key)
      return key.error();
    auto hash = hash_secret(*key, store_key_);
    if (!hash)
      return hash.error();
    auto insert = db_->prepare(
        "INSERT INTO api_keys (key_id, account, secret_hash, created_unix)"
        " VALUES (?1, ?2, ?3, ?4)");
    if (!insert)
      return insert.error();
    insert->bind(1, key->key_id);
    insert->bind(2, account);
    insert->bind_blob(3, *hash);
    insert->bind(4, sqlite::unix_seconds());
    auto inserted = insert->try_insert();
    if (!inserted)
      return db_->error("ledger.sql");
    if (*inserted)
      return IssuedKey{format_api_key(*key), key->key_id};
    // The random key id is taken: draw another one.
  }
  return make_error("ledger.sql", "could not draw an unused key id in " +
                                      std::to_string(kKeyIdAttempts) + " attempts");
}

Result<std::string> AccountStore::find_account_for_key(std::string_view presented) {
  auto key = parse_api_key(presented);
  if (!key)
    return key.error();
  auto hash = hash_secret(*key, store_key_);
  if (!hash)
    return hash.error();
  std::lock_guard lock(mutex_);
  auto select =
      db_->prepare("SELECT account, secret_hash, revoked_unix FROM api_keys WHERE key_id = ?1");
  if (!select)
    return select.error();
  select->bind(1, key->key_id);
  auto found = select->step();
  if (!found)
    return db_->error("ledger.sql");
  // A wrong secret for a real key id gets the same answer as a key id that does not exist.
  const std::string unknown = "no API key with id " + key->key_id + " and this secret";
  if (!*found)
    return make_error("key.unknown", unknown);
  SecretHash stored{};
  const auto stored_hash = select->blob(1);
  if (stored_hash.size() != stored.size()) {
    return make_error("ledger.corrupt",
                      "accounts ledger: the hash of API key " + key->key_id + " is not 32 bytes");
  }
  std::memcpy(stored.data(), stored_hash.data(), stored.size());
  if (!same_hash(stored, *hash))
    return make_error("key.unknown", unknown);
  // Said only to a caller holding the right secret, so it reveals nothing to a guesser.
  if (select->integer(2) != 0)
    return make_error("key.revoked", "API key " + key->key_id + " was revoked");
  return select->text(0);
}

Status AccountStore::revoke_key(const std::string& key_id) {
  std::lock_guard lock(mutex_);
  auto update =
      db_->prepare("UPDATE api_keys SET revoked_unix = ?1 WHERE key_id = ?2 AND revoked_unix = 0");
  if (!update)
    return update.error();
  update->bind(1, sqlite::unix_seconds());
  update->bind(2, key_id);
  if (!update->run())
    return db_->error("ledger.sql");
  if (db_->changes() == 1)
    return ok_status();
  auto lookup = db_->prepare("SELECT 1 FROM api_keys WHERE key_id = ?1");
  if (!lookup)
    return lookup.error();
  lookup->bind(1, key_id);
  auto found = lookup->step();
  if (!found)
    return db_->error("ledger.sql");
  if (*found)
    return ok_status();  // already revoked
  return make_error("key.unknown", "no API key with id \"" + key_id.substr(0, 64) + "\"");
}

Result<std::vector<KeyInfo>> AccountStore::keys(const std::string& account) {
  std::lock_guard lock(mutex_);
  auto select = db_->prepare(
      "SELECT key_id, account, created_unix, revoked_unix FROM api_keys"
      " WHERE account = ?1 ORDER BY created_unix, rowid");
  if (!select)
    return select.error();
  select->bind(1, account);
  std::vector<KeyInfo> found;
  for (;;) {
    auto stepped = select->step();
    if (!stepped)
      return db_->error("ledger.sql");
    if (!*stepped)
      break;
    found.push_back(
        KeyInfo{select->text(0), select->text(1), select->integer(2), select->integer(3)});
  }
  return found;
}

Result<std::vector<AccountSummary>> AccountStore::list() {
  std::lock_guard lock(mutex_);
  // std::map keeps accounts in name order.
  std::map<std::string, AccountSummary> accounts;
  auto balances = db_->prepare("SELECT account, asset, amount FROM balances");
  if (!balances)
    return balances.error();
  for (;;) {
    auto stepped = balances->step();
    if (!stepped)
      return db_->error("ledger.sql");
    if (!*stepped)
      break;
    const std::string account = balances->text(0);
    auto& summary = accounts[account];
    summary.account = account;
    summary.balances[balances->text(1)] = balances->text(2);
  }
  auto key_counts = db_->prepare(
      "SELECT account, SUM(revoked_unix = 0) FROM api_keys"
      " GROUP BY account");
  if (!key_counts)
    return key_counts.error();
  for (;;) {
    auto stepped = key_counts->step();
    if (!stepped)
      return db_->error("ledger.sql");
    if (!*stepped)
      break;
    const std::string account = key_counts->text(0);
    auto& summary = accounts[account];
    summary.account = account;
    summary.active_keys = static_cast<std::size_t>(key_counts->integer(1));
  }
  std::vector<AccountSummary> listed;
  listed.reserve(accounts.size());
  for (auto& [name, summary] : accounts)
    listed.push_back(std::move(summary));
  return listed;
}

}  // namespace x402proxy::accounts
