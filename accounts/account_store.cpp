// The account store's file, its store key and the API keys. Balances and billing are in
// billing_records.cpp.
#include "accounts/account_store.h"

#include <fcntl.h>
#include <sodium.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "accounts/ledger_sql.h"

namespace x402proxy::accounts {
namespace {

constexpr std::size_t kMaxAccountLength = 128;
constexpr int kKeyIdAttempts = 3;  // key ids are 48 random bits; a clash is already unlikely once

constexpr const char* kSchema[] = {
    // The store key lives with the hashes it keys, so that a hash copied into another ledger
    // matches nothing there. It does not make the hashes reversible: secrets are 256 random bits.
    "CREATE TABLE IF NOT EXISTS meta (name TEXT PRIMARY KEY, value BLOB NOT NULL)",
    "CREATE TABLE IF NOT EXISTS api_keys ("
    " key_id TEXT PRIMARY KEY, account TEXT NOT NULL, secret_hash BLOB NOT NULL,"
    " created_unix INTEGER NOT NULL, revoked_unix INTEGER NOT NULL DEFAULT 0)",
    "CREATE INDEX IF NOT EXISTS api_keys_by_account ON api_keys(account)",
    // Amounts are decimal TEXT: uint256 does not fit SQLite's 64-bit integers.
    "CREATE TABLE IF NOT EXISTS balances ("
    " account TEXT NOT NULL, asset TEXT NOT NULL, amount TEXT NOT NULL,"
    " PRIMARY KEY (account, asset))",
    "CREATE TABLE IF NOT EXISTS reservations ("
    " id INTEGER PRIMARY KEY AUTOINCREMENT, created_unix INTEGER NOT NULL,"
    " account TEXT NOT NULL, asset TEXT NOT NULL, amount TEXT NOT NULL,"
    " tool TEXT NOT NULL, request_id TEXT NOT NULL,"
    " state TEXT NOT NULL CHECK (state IN ('open', 'committed', 'released')))",
    "CREATE INDEX IF NOT EXISTS open_reservations ON reservations(account, asset)"
    " WHERE state = 'open'",
    "CREATE TABLE IF NOT EXISTS billing ("
    " id INTEGER PRIMARY KEY AUTOINCREMENT, time_unix INTEGER NOT NULL, account TEXT NOT NULL,"
    " kind TEXT NOT NULL CHECK (kind IN ('debit', 'credit', 'topup', 'reserve_released')),"
    " asset TEXT NOT NULL, amount TEXT NOT NULL, tool TEXT NOT NULL DEFAULT '',"
    " request_id TEXT NOT NULL DEFAULT '', outcome TEXT NOT NULL DEFAULT '',"
    " reference TEXT NOT NULL DEFAULT '')",
    "CREATE INDEX IF NOT EXISTS billing_by_account ON billing(account, id)",
    // A top-up payment is credited once even if two processes see it at the same moment.
    "CREATE UNIQUE INDEX IF NOT EXISTS topup_once ON billing(reference) WHERE kind = 'topup'",
};

bool account_character(char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' ||
         c == '_' || c == '@' || c == ':' || c == '-';
}

// The file holds balances and who owns which key: not for other users of the machine. Created here
// (rather than by SQLite, with the umask's mode) so it is never readable by others, even briefly;
// SQLite gives its -wal and -shm files the database file's mode.
Status create_private_file(const std::string& path) {
  if (path.empty() || path == ":memory:" || path.starts_with("file:"))
    return ok_status();
  const int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd >= 0) {
    ::close(fd);
    return ok_status();
  }
  if (errno == EEXIST)
    return ok_status();
  return make_error("ledger.open",
                    "cannot create accounts ledger " + path + ": " + std::strerror(errno));
}

// Reads the store key, or makes it when the file is new. Inside the schema's IMMEDIATE transaction,
// so two processes opening a new file at once agree on one key.
Result<StoreKey> load_or_create_store_key(sqlite3* db) {
  auto select = sql::prepare(db, "SELECT value FROM meta WHERE name = 'store_key'");
  if (!select)
    return select.error();
  const int rc = sqlite3_step(select->get());
  if (rc == SQLITE_ROW) {
    StoreKey key{};
    if (sqlite3_column_bytes(select->get(), 0) != static_cast<int>(key.size()))
      return make_error("ledger.corrupt", "accounts ledger: the store key is not 32 bytes");
    std::memcpy(key.data(), sqlite3_column_blob(select->get(), 0), key.size());
    return key;
  }
  if (rc != SQLITE_DONE)
    return sql::error(db);
  auto key = generate_store_key();
  if (!key)
    return key.error();
  auto insert = sql::prepare(db, "INSERT INTO meta (name, value) VALUES ('store_key', ?1)");
  if (!insert)
    return insert.error();
  sqlite3_bind_blob(insert->get(), 1, key->data(), static_cast<int>(key->size()), SQLITE_TRANSIENT);
  if (sqlite3_step(insert->get()) != SQLITE_DONE)
    return sql::error(db);
  return key;
}

Result<StoreKey> prepare_file(sqlite3* db) {
  // Another process holds the write lock for one short transaction at most.
  sqlite3_busy_timeout(db, 5000);
  // WAL lets readers go on while a reservation is written; NORMAL synchronous in WAL mode survives
  // a process crash (only a power loss can drop the last commits).
  for (const char* pragma : {"PRAGMA journal_mode=WAL", "PRAGMA synchronous=NORMAL"}) {
    if (auto status = sql::exec(db, pragma); !status)
      return status.error();
  }
  sql::Transaction transaction(db);
  if (auto status = transaction.begin_write(); !status)
    return status.error();
  for (const char* statement : kSchema) {
    if (auto status = sql::exec(db, statement); !status)
      return status.error();
  }
  // Ledgers from before reservations were marked forwarded gain the column (0: not forwarded).
  auto columns = sql::prepare(db,
                              "SELECT 1 FROM pragma_table_info('reservations')"
                              " WHERE name = 'forwarded_unix'");
  if (!columns)
    return columns.error();
  const int has_column = sqlite3_step(columns->get());
  if (has_column == SQLITE_DONE) {
    if (auto status = sql::exec(db,
                                "ALTER TABLE reservations ADD COLUMN forwarded_unix INTEGER"
                                " NOT NULL DEFAULT 0");
        !status)
      return status.error();
  } else if (has_column != SQLITE_ROW) {
    return sql::error(db);
  }
  columns->reset();
  auto key = load_or_create_store_key(db);
  if (!key)
    return key.error();
  if (auto status = transaction.commit(); !status)
    return status.error();
  return key;
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

AccountStore::AccountStore(sqlite3* db, const StoreKey& store_key)
    : db_(db), store_key_(store_key) {}

AccountStore::~AccountStore() {
  sodium_memzero(store_key_.data(), store_key_.size());
  sqlite3_close(db_);
}

Result<std::unique_ptr<AccountStore>> AccountStore::open(const std::string& path) {
  if (auto created = create_private_file(path); !created)
    return created.error();
  sqlite3* db = nullptr;
  const int rc =
      sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, nullptr);
  if (rc != SQLITE_OK) {
    std::string message = db ? sqlite3_errmsg(db) : sqlite3_errstr(rc);
    sqlite3_close(db);
    return make_error("ledger.open", "cannot open accounts ledger " + path + ": " + message);
  }
  auto key = prepare_file(db);
  if (!key) {
    sqlite3_close(db);
    return make_error(key.error().reason, "accounts ledger " + path + ": " + key.error().message);
  }
  std::unique_ptr<AccountStore> store(new AccountStore(db, *key));
  sodium_memzero(key->data(), key->size());
  return store;
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
    auto insert = sql::prepare(db_,
                               "INSERT INTO api_keys (key_id, account, secret_hash, created_unix)"
                               " VALUES (?1, ?2, ?3, ?4)");
    if (!insert)
      return insert.error();
    sql::bind_text(insert->get(), 1, key->key_id);
    sql::bind_text(insert->get(), 2, account);
    sqlite3_bind_blob(insert->get(), 3, hash->data(), static_cast<int>(hash->size()),
                      SQLITE_TRANSIENT);
    sqlite3_bind_int64(insert->get(), 4, sql::now_unix());
    const int rc = sqlite3_step(insert->get());
    if (rc == SQLITE_DONE)
      return IssuedKey{format_api_key(*key), key->key_id};
    if (rc != SQLITE_CONSTRAINT)
      return sql::error(db_);
    // The random key id is taken: draw another one.
  }
  return make_error("ledger.sql", "could not draw an unused key id in " +
                                      std::to_string(kKeyIdAttempts) + " attempts");
}

Result<std::string> AccountStore::account_for_key(std::string_view presented) {
  auto key = parse_api_key(presented);
  if (!key)
    return key.error();
  auto hash = hash_secret(*key, store_key_);
  if (!hash)
    return hash.error();
  std::lock_guard lock(mutex_);
  auto select = sql::prepare(
      db_, "SELECT account, secret_hash, revoked_unix FROM api_keys WHERE key_id = ?1");
  if (!select)
    return select.error();
  sql::bind_text(select->get(), 1, key->key_id);
  const int rc = sqlite3_step(select->get());
  if (rc != SQLITE_ROW && rc != SQLITE_DONE)
    return sql::error(db_);
  // A wrong secret for a real key id gets the same answer as a key id that does not exist.
  const std::string unknown = "no API key with id " + key->key_id + " and this secret";
  if (rc == SQLITE_DONE)
    return make_error("key.unknown", unknown);
  SecretHash stored{};
  if (sqlite3_column_bytes(select->get(), 1) != static_cast<int>(stored.size())) {
    return make_error("ledger.corrupt",
                      "accounts ledger: the hash of API key " + key->key_id + " is not 32 bytes");
  }
  std::memcpy(stored.data(), sqlite3_column_blob(select->get(), 1), stored.size());
  if (!same_hash(stored, *hash))
    return make_error("key.unknown", unknown);
  // Said only to a caller holding the right secret, so it reveals nothing to a guesser.
  if (sqlite3_column_int64(select->get(), 2) != 0)
    return make_error("key.revoked", "API key " + key->key_id + " was revoked");
  return sql::column_text(select->get(), 0);
}

Status AccountStore::revoke_key(const std::string& key_id) {
  std::lock_guard lock(mutex_);
  auto update = sql::prepare(
      db_, "UPDATE api_keys SET revoked_unix = ?1 WHERE key_id = ?2 AND revoked_unix = 0");
  if (!update)
    return update.error();
  sqlite3_bind_int64(update->get(), 1, sql::now_unix());
  sql::bind_text(update->get(), 2, key_id);
  if (sqlite3_step(update->get()) != SQLITE_DONE)
    return sql::error(db_);
  if (sqlite3_changes(db_) == 1)
    return ok_status();
  auto lookup = sql::prepare(db_, "SELECT 1 FROM api_keys WHERE key_id = ?1");
  if (!lookup)
    return lookup.error();
  sql::bind_text(lookup->get(), 1, key_id);
  const int rc = sqlite3_step(lookup->get());
  if (rc == SQLITE_ROW)
    return ok_status();  // already revoked
  if (rc != SQLITE_DONE)
    return sql::error(db_);
  return make_error("key.unknown", "no API key with id \"" + key_id.substr(0, 64) + "\"");
}

Result<std::vector<KeyInfo>> AccountStore::keys(const std::string& account) {
  std::lock_guard lock(mutex_);
  auto select = sql::prepare(db_,
                             "SELECT key_id, account, created_unix, revoked_unix FROM api_keys"
                             " WHERE account = ?1 ORDER BY created_unix, rowid");
  if (!select)
    return select.error();
  sql::bind_text(select->get(), 1, account);
  std::vector<KeyInfo> found;
  int rc = SQLITE_ROW;
  while ((rc = sqlite3_step(select->get())) == SQLITE_ROW) {
    found.push_back(KeyInfo{sql::column_text(select->get(), 0), sql::column_text(select->get(), 1),
                            sqlite3_column_int64(select->get(), 2),
                            sqlite3_column_int64(select->get(), 3)});
  }
  if (rc != SQLITE_DONE)
    return sql::error(db_);
  return found;
}

Result<std::vector<AccountSummary>> AccountStore::list() {
  std::lock_guard lock(mutex_);
  // std::map keeps accounts in name order.
  std::map<std::string, AccountSummary> accounts;
  auto balances = sql::prepare(db_, "SELECT account, asset, amount FROM balances");
  if (!balances)
    return balances.error();
  int rc = SQLITE_ROW;
  while ((rc = sqlite3_step(balances->get())) == SQLITE_ROW) {
    const std::string account = sql::column_text(balances->get(), 0);
    auto& summary = accounts[account];
    summary.account = account;
    summary.balances[sql::column_text(balances->get(), 1)] = sql::column_text(balances->get(), 2);
  }
  if (rc != SQLITE_DONE)
    return sql::error(db_);
  auto key_counts = sql::prepare(db_,
                                 "SELECT account, SUM(revoked_unix = 0) FROM api_keys"
                                 " GROUP BY account");
  if (!key_counts)
    return key_counts.error();
  while ((rc = sqlite3_step(key_counts->get())) == SQLITE_ROW) {
    const std::string account = sql::column_text(key_counts->get(), 0);
    auto& summary = accounts[account];
    summary.account = account;
    summary.active_keys = static_cast<std::size_t>(sqlite3_column_int64(key_counts->get(), 1));
  }
  if (rc != SQLITE_DONE)
    return sql::error(db_);
  std::vector<AccountSummary> listed;
  listed.reserve(accounts.size());
  for (auto& [name, summary] : accounts)
    listed.push_back(std::move(summary));
  return listed;
}

}  // namespace x402proxy::accounts
