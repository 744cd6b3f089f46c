#include "pay/spending_limits.h"

#include <fcntl.h>
#include <sqlite3.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <limits>
#include <optional>
#include <string_view>
#include <utility>

#include "x402/networks.h"
#include "x402/price.h"

namespace x402proxy::pay {
namespace {

using x402::Amount;

constexpr unsigned kUsdMicrosDecimals = 6;
constexpr std::int64_t kWindowSeconds = 24 * 60 * 60;
// PRAGMA user_version of the schema this code writes. 0: the first ledgers (no held payments);
// 1: rows keep the payment sent and the call's fingerprint, so that it can be redeemed.
constexpr int kSchemaVersion = 1;
const Amount kMaxAmount = std::numeric_limits<Amount>::max();

// uint256_t wraps on overflow; a wrapped sum would look small and let a payment through, so sums
// stop at the maximum instead.
Amount saturating_add(const Amount& a, const Amount& b) {
  const Amount sum = a + b;
  return sum < a ? kMaxAmount : sum;
}

Amount power_of_ten(unsigned exponent) {
  Amount result = 1;
  for (unsigned i = 0; i < exponent; ++i)
    result *= 10;
  return result;
}

std::string dollars(const Amount& usd_micros) {
  return x402::format_usd(usd_micros, kUsdMicrosDecimals);
}

// --- SQLite plumbing -------------------------------------------------------------------------

struct StatementDeleter {
  void operator()(sqlite3_stmt* statement) const { sqlite3_finalize(statement); }
};
using Statement = std::unique_ptr<sqlite3_stmt, StatementDeleter>;

Error sql_error(sqlite3* db) {
  return make_error("ledger.sql", sqlite3_errmsg(db));
}

Result<Statement> prepare(sqlite3* db, const char* sql) {
  sqlite3_stmt* raw = nullptr;
  if (sqlite3_prepare_v2(db, sql, -1, &raw, nullptr) != SQLITE_OK)
    return sql_error(db);
  return Statement(raw);
}

void bind_text(sqlite3_stmt* statement, int index, const std::string& text) {
  sqlite3_bind_text(statement, index, text.c_str(), static_cast<int>(text.size()),
                    SQLITE_TRANSIENT);
}

// NULL means "keep the column as it is" to the COALESCE in the state update.
void bind_optional_text(sqlite3_stmt* statement, int index,
                        const std::optional<std::string>& text) {
  if (text)
    bind_text(statement, index, *text);
  else
    sqlite3_bind_null(statement, index);
}

std::string column_text(sqlite3_stmt* statement, int column) {
  const unsigned char* text = sqlite3_column_text(statement, column);
  return text ? reinterpret_cast<const char*>(text) : "";
}

// An unreadable amount could hide any sum; refusing every payment is the safe failure.
Result<Amount> read_usd_micros(sqlite3_stmt* statement, int id_column, int amount_column) {
  auto usd_micros = x402::parse_amount(column_text(statement, amount_column));
  if (!usd_micros) {
    return make_error("ledger.corrupt",
                      "spending ledger row " +
                          std::to_string(sqlite3_column_int64(statement, id_column)) +
                          " has an unreadable amount: " + usd_micros.error().message);
  }
  return usd_micros;
}

Status exec(sqlite3* db, const char* sql) {
  char* message = nullptr;
  if (sqlite3_exec(db, sql, nullptr, nullptr, &message) != SQLITE_OK) {
    std::string text = message ? message : sqlite3_errmsg(db);
    sqlite3_free(message);
    return make_error("ledger.sql", std::move(text));
  }
  return ok_status();
}

// BEGIN IMMEDIATE takes the file's write lock before the limits are read, so a second process
// waits its turn (busy timeout) and then sums a total that includes the first one's reservation.
// Without a transaction both could read the same old total and both insert; a deferred one would
// fail with SQLITE_BUSY instead of waiting, because a WAL reader whose snapshot went stale cannot
// become the writer. Rolls back unless committed, so every early return releases the lock.
class WriteTransaction {
 public:
  explicit WriteTransaction(sqlite3* db) : db_(db) {}
  ~WriteTransaction() {
    if (open_)
      sqlite3_exec(db_, "ROLLBACK", nullptr, nullptr, nullptr);
  }
  WriteTransaction(const WriteTransaction&) = delete;
  WriteTransaction& operator=(const WriteTransaction&) = delete;

  Status begin() {
    auto status = exec(db_, "BEGIN IMMEDIATE");
    open_ = status.ok();
    return status;
  }
  Status commit() {
    auto status = exec(db_, "COMMIT");
    open_ = !status.ok();
    return status;
  }

 private:
  sqlite3* db_;
  bool open_ = false;
};

// --- Limits that need no history ------------------------------------------------------------

std::string canonical_network(const std::string& network) {
  std::string caip2 = x402::to_caip2(network);
  return caip2.empty() ? network : caip2;
}

std::string lower_ascii(std::string text) {
  for (char& c : text) {
    if (c >= 'A' && c <= 'Z')
      c = static_cast<char>(c - 'A' + 'a');
  }
  return text;
}

std::string joined(const std::vector<std::string>& items) {
  std::string out;
  for (const auto& item : items) {
    if (!out.empty())
      out += ", ";
    out += item;
  }
  return out;
}

bool network_allowed(const SpendingLimits& limits, const std::string& network) {
  if (limits.networks.empty())
    return true;
  const std::string wanted = canonical_network(network);
  for (const auto& allowed : limits.networks) {
    if (canonical_network(allowed) == wanted)
      return true;
  }
  return false;
}

bool payee_allowed(const SpendingLimits& limits, const PlannedPayment& payment) {
  if (limits.payees.empty())
    return true;
  // EVM hex addresses carry an optional EIP-55 checksum in their letter case; base58 (Solana)
  // addresses are case-sensitive.
  const bool evm = canonical_network(payment.network).starts_with("eip155:");
  const std::string wanted = evm ? lower_ascii(payment.pay_to) : payment.pay_to;
  for (const auto& allowed : limits.payees) {
    if ((evm ? lower_ascii(allowed) : allowed) == wanted)
      return true;
  }
  return false;
}

Status check_static_limits(const SpendingLimits& limits, const PlannedPayment& payment) {
  const std::string price = dollars(payment.usd_micros);
  if (!network_allowed(limits, payment.network)) {
    return make_error("limit.network", "spending limit networks allows only " +
                                           joined(limits.networks) + "; this call (" + price +
                                           ") pays on " + payment.network);
  }
  if (!payee_allowed(limits, payment)) {
    return make_error("limit.payee", "spending limit payees allows only " + joined(limits.payees) +
                                         "; this call (" + price + ") pays " + payment.pay_to);
  }
  if (limits.per_call && payment.usd_micros > *limits.per_call) {
    return make_error("limit.per_call", "spending limit per_call is " + dollars(*limits.per_call) +
                                            "; this call costs " + price);
  }
  return ok_status();
}

// --- Limits over the rolling 24 h -----------------------------------------------------------

struct WindowSpending {
  Amount all_tools = 0;
  Amount this_tool = 0;
};

// Reserved rows count as well as paid and unconfirmed ones: a reservation is money that may be
// leaving right now.
Result<WindowSpending> spending_in_window(sqlite3* db, const std::string& tool,
                                          std::int64_t now_unix) {
  auto statement = prepare(db,
                           "SELECT id, tool, usd_micros FROM spending"
                           " WHERE state IN ('reserved', 'paid', 'unconfirmed')"
                           " AND created_unix > ?1");
  if (!statement)
    return statement.error();
  sqlite3_stmt* raw = statement->get();
  sqlite3_bind_int64(raw, 1, now_unix - kWindowSeconds);
  WindowSpending spent;
  int rc = SQLITE_ROW;
  while ((rc = sqlite3_step(raw)) == SQLITE_ROW) {
    auto usd_micros = read_usd_micros(raw, 0, 2);
    if (!usd_micros)
      return usd_micros.error();
    spent.all_tools = saturating_add(spent.all_tools, *usd_micros);
    if (column_text(raw, 1) == tool)
      spent.this_tool = saturating_add(spent.this_tool, *usd_micros);
  }
  if (rc != SQLITE_DONE)
    return sql_error(db);
  return spent;
}

Status check_window_limits(const SpendingLimits& limits, const PlannedPayment& payment,
                           const WindowSpending& spent) {
  const std::string price = dollars(payment.usd_micros);
  if (auto tool_limit = limits.per_tool.find(payment.tool); tool_limit != limits.per_tool.end()) {
    if (saturating_add(spent.this_tool, payment.usd_micros) > tool_limit->second) {
      return make_error("limit.per_tool", "spending limit per_tool for \"" + payment.tool +
                                              "\" is " + dollars(tool_limit->second) +
                                              " per 24 h; " + dollars(spent.this_tool) +
                                              " already spent on it in the last 24 h; this call "
                                              "costs " +
                                              price);
    }
  }
  if (limits.per_day && saturating_add(spent.all_tools, payment.usd_micros) > *limits.per_day) {
    return make_error("limit.per_day", "spending limit per_day is " + dollars(*limits.per_day) +
                                           " per 24 h; " + dollars(spent.all_tools) +
                                           " already spent in the last 24 h; this call costs " +
                                           price);
  }
  return ok_status();
}

Result<std::int64_t> insert_reserved(sqlite3* db, const PlannedPayment& payment,
                                     std::int64_t now_unix) {
  auto statement =
      prepare(db,
              "INSERT INTO spending (created_unix, tool, seller, network, asset, pay_to,"
              " amount, usd_micros, state)"
              " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, 'reserved')");
  if (!statement)
    return statement.error();
  sqlite3_stmt* raw = statement->get();
  sqlite3_bind_int64(raw, 1, now_unix);
  const std::string texts[] = {payment.tool,
                               payment.seller,
                               payment.network,
                               payment.asset,
                               payment.pay_to,
                               x402::to_string(payment.amount),
                               x402::to_string(payment.usd_micros)};
  for (int i = 0; i < 7; ++i)
    bind_text(raw, i + 2, texts[i]);
  if (sqlite3_step(raw) != SQLITE_DONE)
    return sql_error(db);
  return static_cast<std::int64_t>(sqlite3_last_insert_rowid(db));
}

// --- State changes after the reservation ----------------------------------------------------

struct StateChange {
  const char* new_state;
  const char* allowed_from_sql;  // a constant SQL list, e.g. "('reserved', 'unconfirmed')"
  std::optional<std::string> transaction, detail, receipt_json;  // nullopt keeps the column
  // A payment whose outcome is final is not kept: it can buy nothing more, and until it settles
  // or expires it is a bearer authorization sitting in a file.
  bool drop_payment = false;
};

Status change_state(sqlite3* db, std::int64_t id, const StateChange& change) {
  const std::string sql =
      "UPDATE spending SET state = ?1, transaction_id = COALESCE(?2, transaction_id),"
      " detail = COALESCE(?3, detail), receipt_json = COALESCE(?4, receipt_json)" +
      std::string(change.drop_payment ? ", payment_json = ''" : "") +
      " WHERE id = ?5 AND state IN " + std::string(change.allowed_from_sql);
  auto statement = prepare(db, sql.c_str());
  if (!statement)
    return statement.error();
  sqlite3_stmt* raw = statement->get();
  sqlite3_bind_text(raw, 1, change.new_state, -1, SQLITE_STATIC);
  bind_optional_text(raw, 2, change.transaction);
  bind_optional_text(raw, 3, change.detail);
  bind_optional_text(raw, 4, change.receipt_json);
  sqlite3_bind_int64(raw, 5, id);
  if (sqlite3_step(raw) != SQLITE_DONE)
    return sql_error(db);
  if (sqlite3_changes(db) == 1)
    return ok_status();

  // Nothing changed: tell a missing row from one whose state forbids the move.
  auto lookup = prepare(db, "SELECT state FROM spending WHERE id = ?1");
  if (!lookup)
    return lookup.error();
  sqlite3_bind_int64(lookup->get(), 1, id);
  if (sqlite3_step(lookup->get()) != SQLITE_ROW)
    return make_error("ledger.missing", "no spending ledger row " + std::to_string(id));
  return make_error("ledger.state", "payment " + std::to_string(id) + " is " +
                                        column_text(lookup->get(), 0) + "; it cannot become " +
                                        change.new_state);
}

// --- Report ---------------------------------------------------------------------------------

std::string utc_day(std::int64_t unix_seconds) {
  using namespace std::chrono;
  const year_month_day date{floor<days>(sys_seconds{seconds{unix_seconds}})};
  char text[48];
  std::snprintf(text, sizeof text, "%04d-%02u-%02u", static_cast<int>(date.year()),
                static_cast<unsigned>(date.month()), static_cast<unsigned>(date.day()));
  return text;
}

std::string payments_count(int n) {
  return std::to_string(n) + (n == 1 ? " payment" : " payments");
}

struct Tally {
  Amount usd_micros = 0;
  int payments = 0;

  void add(const Amount& amount) {
    usd_micros = saturating_add(usd_micros, amount);
    ++payments;
  }
  std::string describe() const { return dollars(usd_micros) + " in " + payments_count(payments); }
};

// --- Opening ----------------------------------------------------------------------------------

// Creates the file 0600 before SQLite opens it: SQLite gives its -wal and -shm files the main
// file's permissions, so all three stay private. An existing file others may read is tightened:
// from schema 1 on it holds signed payments. Returns a note when it had to tighten.
Result<std::string> secure_file(const std::string& path) {
  if (path.empty() || path == ":memory:" || path.starts_with("file:"))
    return std::string();
  const int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  if (fd < 0) {
    return make_error("ledger.open",
                      "cannot open spending ledger " + path + ": " + std::strerror(errno));
  }
  struct stat info {};
  std::string note;
  if (::fstat(fd, &info) == 0 && (info.st_mode & 077) != 0 &&
      ::fchmod(fd, info.st_mode & 0700) == 0) {
    note = "spending ledger " + path + " was readable by other users; its mode is now 0600";
  }
  ::close(fd);
  return note;
}

Result<int> user_version(sqlite3* db) {
  auto statement = prepare(db, "PRAGMA user_version");
  if (!statement)
    return statement.error();
  if (sqlite3_step(statement->get()) != SQLITE_ROW)
    return sql_error(db);
  return sqlite3_column_int(statement->get(), 0);
}

// Brings the schema to kSchemaVersion in one write transaction, so that two processes opening an
// old file at once migrate it once, and a crash never leaves half a step.
Status migrate(sqlite3* db) {
  WriteTransaction transaction(db);
  if (auto status = transaction.begin(); !status.ok())
    return status;
  // Its own table name, so pointing the buyer at the seller's journal file cannot mix the two.
  // Amounts are decimal TEXT: uint256 does not fit SQLite's 64-bit integers.
  if (auto status =
          exec(db,
               "CREATE TABLE IF NOT EXISTS spending ("
               " id INTEGER PRIMARY KEY AUTOINCREMENT, created_unix INTEGER NOT NULL,"
               " tool TEXT NOT NULL, seller TEXT NOT NULL, network TEXT NOT NULL,"
               " asset TEXT NOT NULL, pay_to TEXT NOT NULL, amount TEXT NOT NULL,"
               " usd_micros TEXT NOT NULL, state TEXT NOT NULL"
               " CHECK (state IN ('reserved', 'paid', 'unconfirmed', 'released')),"
               " transaction_id TEXT NOT NULL DEFAULT '', detail TEXT NOT NULL DEFAULT '',"
               " receipt_json TEXT NOT NULL DEFAULT '');"
               "CREATE INDEX IF NOT EXISTS spending_by_time ON spending(created_unix)");
      !status.ok()) {
    return status;
  }
  auto version = user_version(db);
  if (!version)
    return version.error();
  if (*version > kSchemaVersion) {
    return make_error("ledger.open", "it was written by a newer version (schema " +
                                         std::to_string(*version) + "; this one knows up to " +
                                         std::to_string(kSchemaVersion) + ")");
  }
  if (*version < 1) {
    if (auto status =
            exec(db,
                 "ALTER TABLE spending ADD COLUMN call_fingerprint TEXT NOT NULL DEFAULT '';"
                 "ALTER TABLE spending ADD COLUMN payment_json TEXT NOT NULL DEFAULT '';"
                 "ALTER TABLE spending ADD COLUMN payment_header TEXT NOT NULL DEFAULT '';"
                 "CREATE INDEX IF NOT EXISTS spending_by_call ON spending(call_fingerprint)");
        !status.ok()) {
      return status;
    }
  }
  if (*version != kSchemaVersion) {
    const std::string bump = "PRAGMA user_version = " + std::to_string(kSchemaVersion);
    if (auto status = exec(db, bump.c_str()); !status.ok())
      return status;
  }
  return transaction.commit();
}

}  // namespace

Amount usd_micros_from_atomic(const Amount& atomic, unsigned decimals) {
  if (decimals == kUsdMicrosDecimals)
    return atomic;
  if (decimals > kUsdMicrosDecimals) {
    const unsigned shift = decimals - kUsdMicrosDecimals;
    // 10^78 exceeds 2^256, so any non-zero amount is then a fraction of a micro-dollar: one.
    if (shift > 77)
      return atomic == 0 ? Amount{0} : Amount{1};
    const Amount divisor = power_of_ten(shift);
    Amount micros = atomic / divisor;
    if (micros * divisor != atomic)
      ++micros;
    return micros;
  }
  const Amount factor = power_of_ten(kUsdMicrosDecimals - decimals);
  if (atomic > kMaxAmount / factor)
    return kMaxAmount;
  return atomic * factor;
}

SpendingLedger::SpendingLedger(sqlite3* db, SpendingLimits limits, std::string permission_note)
    : db_(db), limits_(std::move(limits)), permission_note_(std::move(permission_note)) {}

SpendingLedger::~SpendingLedger() {
  sqlite3_close(db_);
}

Result<std::unique_ptr<SpendingLedger>> SpendingLedger::open(const std::string& path,
                                                             SpendingLimits limits) {
  auto secured = secure_file(path);
  if (!secured)
    return secured.error();
  sqlite3* db = nullptr;
  const int rc =
      sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, nullptr);
  if (rc != SQLITE_OK) {
    std::string message = db ? sqlite3_errmsg(db) : sqlite3_errstr(rc);
    sqlite3_close(db);
    return make_error("ledger.open", "cannot open spending ledger " + path + ": " + message);
  }
  std::unique_ptr<SpendingLedger> ledger(
      new SpendingLedger(db, std::move(limits), std::move(secured).value()));
  // Another process may hold the write lock for one reservation; that is milliseconds.
  sqlite3_busy_timeout(db, 5000);
  for (const char* sql : {
           "PRAGMA journal_mode=WAL",
           // NORMAL in WAL mode survives a process crash; only a power loss can drop the last
           // commits.
           "PRAGMA synchronous=NORMAL",
       }) {
    if (auto status = exec(db, sql); !status.ok()) {
      return make_error(status.error().reason,
                        "spending ledger " + path + ": " + status.error().message);
    }
  }
  if (auto status = migrate(db); !status.ok()) {
    return make_error(status.error().reason,
                      "spending ledger " + path + ": " + status.error().message);
  }
  return ledger;
}

Result<std::int64_t> SpendingLedger::reserve(const PlannedPayment& payment, std::int64_t now_unix) {
  if (auto status = check_static_limits(limits_, payment); !status.ok())
    return status.error();
  WriteTransaction transaction(db_);
  if (auto status = transaction.begin(); !status.ok())
    return status.error();
  auto spent = spending_in_window(db_, payment.tool, now_unix);
  if (!spent)
    return spent.error();
  if (auto status = check_window_limits(limits_, payment, *spent); !status.ok())
    return status.error();
  auto id = insert_reserved(db_, payment, now_unix);
  if (!id)
    return id.error();
  if (auto status = transaction.commit(); !status.ok())
    return status.error();
  return id;
}

Status SpendingLedger::hold_payment(std::int64_t id, const std::string& call_fingerprint,
                                    const std::string& payment_json, const std::string& header) {
  auto statement = prepare(db_,
                           "UPDATE spending SET call_fingerprint = ?1, payment_json = ?2,"
                           " payment_header = ?3 WHERE id = ?4 AND state = 'reserved'");
  if (!statement)
    return statement.error();
  sqlite3_stmt* raw = statement->get();
  bind_text(raw, 1, call_fingerprint);
  bind_text(raw, 2, payment_json);
  bind_text(raw, 3, header);
  sqlite3_bind_int64(raw, 4, id);
  if (sqlite3_step(raw) != SQLITE_DONE)
    return sql_error(db_);
  if (sqlite3_changes(db_) == 1)
    return ok_status();
  return make_error("ledger.state",
                    "payment " + std::to_string(id) + " is not reserved; it cannot hold a payment");
}

Result<std::optional<HeldPaymentRow>> SpendingLedger::find_held_payment(
    const std::string& call_fingerprint, std::int64_t now_unix) {
  auto statement = prepare(db_,
                           "SELECT id, tool, seller, network, pay_to, usd_micros, transaction_id,"
                           " payment_json, payment_header FROM spending"
                           " WHERE call_fingerprint = ?1 AND state = 'unconfirmed'"
                           " AND payment_json != '' AND created_unix > ?2"
                           " ORDER BY id DESC LIMIT 1");
  if (!statement)
    return statement.error();
  sqlite3_stmt* raw = statement->get();
  bind_text(raw, 1, call_fingerprint);
  sqlite3_bind_int64(raw, 2, now_unix - kWindowSeconds);
  const int rc = sqlite3_step(raw);
  if (rc == SQLITE_DONE)
    return std::optional<HeldPaymentRow>();
  if (rc != SQLITE_ROW)
    return sql_error(db_);
  HeldPaymentRow row;
  row.id = sqlite3_column_int64(raw, 0);
  std::string* texts[] = {&row.tool,       &row.seller,      &row.network,      &row.pay_to,
                          &row.usd_micros, &row.transaction, &row.payment_json, &row.header};
  for (int i = 0; i < 8; ++i)
    *texts[i] = column_text(raw, i + 1);
  return std::optional<HeldPaymentRow>(std::move(row));
}

Status SpendingLedger::mark_paid(std::int64_t id, const std::string& transaction,
                                 const std::string& receipt_json) {
  return change_state(db_, id,
                      {"paid", "('reserved', 'unconfirmed')", transaction, std::nullopt,
                       receipt_json, /*drop_payment=*/true});
}

Status SpendingLedger::mark_unconfirmed(std::int64_t id, const std::string& detail,
                                        HeldPayment held, const std::string& transaction) {
  return change_state(db_, id,
                      {"unconfirmed", "('reserved', 'unconfirmed')",
                       transaction.empty() ? std::nullopt : std::optional(transaction), detail,
                       std::nullopt, held == HeldPayment::drop});
}

Status SpendingLedger::release(std::int64_t id, const std::string& detail) {
  return change_state(db_, id,
                      {"released", "('reserved', 'unconfirmed')", std::nullopt, detail,
                       std::nullopt, /*drop_payment=*/true});
}

Result<std::vector<SpendingLedger::Row>> SpendingLedger::rows() {
  auto statement = prepare(db_,
                           "SELECT id, created_unix, tool, seller, network, asset, pay_to, amount,"
                           " usd_micros, state, transaction_id, detail, receipt_json,"
                           " call_fingerprint, payment_json, payment_header"
                           " FROM spending ORDER BY id");
  if (!statement)
    return statement.error();
  sqlite3_stmt* raw = statement->get();
  std::vector<Row> rows;
  int rc = SQLITE_ROW;
  while ((rc = sqlite3_step(raw)) == SQLITE_ROW) {
    Row row;
    row.id = sqlite3_column_int64(raw, 0);
    row.time = sqlite3_column_int64(raw, 1);
    std::string* texts[] = {
        &row.tool,    &row.seller,           &row.network,      &row.asset,         &row.pay_to,
        &row.amount,  &row.usd_micros,       &row.state,        &row.transaction,   &row.detail,
        &row.receipt, &row.call_fingerprint, &row.payment_json, &row.payment_header};
    for (int i = 0; i < 14; ++i)
      *texts[i] = column_text(raw, i + 2);
    rows.push_back(std::move(row));
  }
  if (rc != SQLITE_DONE)
    return sql_error(db_);
  return rows;
}

Result<std::string> SpendingLedger::report() {
  auto statement = prepare(db_,
                           "SELECT id, created_unix, seller, usd_micros, state, tool, network,"
                           " transaction_id, detail FROM spending"
                           " WHERE state IN ('paid', 'unconfirmed') ORDER BY created_unix, id");
  if (!statement)
    return statement.error();
  sqlite3_stmt* raw = statement->get();
  // std::map keeps days in calendar order ("YYYY-MM-DD" sorts as text) and sellers by name.
  std::map<std::string, std::map<std::string, Tally>> by_day;
  std::map<std::string, Tally> by_seller;
  Tally paid;
  Tally unconfirmed;
  std::string unconfirmed_lines;
  int rc = SQLITE_ROW;
  while ((rc = sqlite3_step(raw)) == SQLITE_ROW) {
    auto usd_micros = read_usd_micros(raw, 0, 3);
    if (!usd_micros)
      return usd_micros.error();
    const std::string day = utc_day(sqlite3_column_int64(raw, 1));
    const std::string seller = column_text(raw, 2);
    if (column_text(raw, 4) == "unconfirmed") {
      // Listed one by one: each may be money that moved without a receipt.
      unconfirmed.add(*usd_micros);
      unconfirmed_lines += "  " + day + " " + seller + " tool " + column_text(raw, 5) + ": " +
                           dollars(*usd_micros) + " on " + column_text(raw, 6);
      if (const std::string transaction = column_text(raw, 7); !transaction.empty())
        unconfirmed_lines += ", transaction " + transaction;
      if (std::string detail = column_text(raw, 8); !detail.empty()) {
        if (detail.size() > 200)
          detail = detail.substr(0, 200) + "...";
        unconfirmed_lines += " (" + detail + ")";
      }
      unconfirmed_lines += "\n";
      continue;
    }
    by_day[day][seller].add(*usd_micros);
    by_seller[seller].add(*usd_micros);
    paid.add(*usd_micros);
  }
  if (rc != SQLITE_DONE)
    return sql_error(db_);
  if (paid.payments == 0 && unconfirmed.payments == 0)
    return std::string("no payments recorded\n");

  std::string text;
  if (paid.payments == 0) {
    text = "no payments confirmed paid\n";
  } else {
    text = "Spending per UTC day and seller (paid):\n";
    for (const auto& [day, sellers] : by_day) {
      text += day + "\n";
      for (const auto& [seller, tally] : sellers)
        text += "  " + seller + ": " + tally.describe() + "\n";
    }
    text += "Totals per seller (paid):\n";
    for (const auto& [seller, tally] : by_seller)
      text += "  " + seller + ": " + tally.describe() + "\n";
    text += "Total: " + paid.describe() + "\n";
  }
  if (unconfirmed.payments > 0) {
    text += "unconfirmed: " + payments_count(unconfirmed.payments) + ", " +
            dollars(unconfirmed.usd_micros) +
            ", pending settlement or failed (money that may have moved; it counts against the "
            "limits):\n" +
            unconfirmed_lines;
  }
  return text;
}

}  // namespace x402proxy::pay
