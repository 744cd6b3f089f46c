// The spending ledger: the SQLite file (sqlite/database.h) the limits are enforced with, the
// payments it holds for redemption, and the report.
#include "pay/spending_limits.h"

#include <chrono>
#include <cstdio>
#include <utility>

namespace x402proxy::pay {
namespace {

using x402::Amount;

// Schema versions (PRAGMA user_version). 0: the first ledgers (no held payments), which the
// single step below also brings up to date (its CREATE finds their table); 1: rows keep the
// payment sent and the call's fingerprint, so that it can be redeemed. Its own table name, so
// pointing the buyer at the seller's journal file cannot mix the two. Amounts are decimal TEXT:
// uint256 does not fit SQLite's 64-bit integers.
constexpr const char* kMigrations[] = {
    "CREATE TABLE IF NOT EXISTS spending ("
    " id INTEGER PRIMARY KEY AUTOINCREMENT, created_unix INTEGER NOT NULL,"
    " tool TEXT NOT NULL, seller TEXT NOT NULL, network TEXT NOT NULL,"
    " asset TEXT NOT NULL, pay_to TEXT NOT NULL, amount TEXT NOT NULL,"
    " usd_micros TEXT NOT NULL, state TEXT NOT NULL"
    " CHECK (state IN ('reserved', 'paid', 'unconfirmed', 'released')),"
    " transaction_id TEXT NOT NULL DEFAULT '', detail TEXT NOT NULL DEFAULT '',"
    " receipt_json TEXT NOT NULL DEFAULT '');"
    "CREATE INDEX IF NOT EXISTS spending_by_time ON spending(created_unix);"
    "ALTER TABLE spending ADD COLUMN call_fingerprint TEXT NOT NULL DEFAULT '';"
    "ALTER TABLE spending ADD COLUMN payment_json TEXT NOT NULL DEFAULT '';"
    "ALTER TABLE spending ADD COLUMN payment_header TEXT NOT NULL DEFAULT '';"
    "CREATE INDEX IF NOT EXISTS spending_by_call ON spending(call_fingerprint)",
};

Error sql_error(sqlite::Database& db) {
  return db.error("ledger.sql");
}

SpendingError storage_error(sqlite::Database& db) {
  return SpendingError(SpendingFailure::ledger_sql, db.error().message);
}

// An unreadable amount could hide any sum; refusing every payment is the safe failure.
Result<Amount, SpendingError> read_usd_micros(const sqlite::Statement& row, int id_column,
                                              int amount_column) {
  auto usd_micros = row.amount(amount_column);
  if (!usd_micros) {
    return SpendingError(SpendingFailure::ledger_corrupt,
                         "spending ledger row " + std::to_string(row.integer(id_column)) +
                             " has an unreadable amount: \"" + row.text(amount_column) + "\"");
  }
  return *usd_micros;
}

// Reserved rows count as well as paid and unconfirmed ones: a reservation is money that may be
// leaving right now.
Result<WindowSpending, SpendingError> spending_in_window(sqlite::Database& db,
                                                         const std::string& tool,
                                                         std::int64_t now_unix) {
  auto statement = db.prepare(
      "SELECT id, tool, usd_micros FROM spending"
      " WHERE state IN ('reserved', 'paid', 'unconfirmed') AND created_unix > ?1");
  if (!statement)
    return storage_error(db);
  statement->bind(1, now_unix - kSpendingWindowSeconds);
  WindowSpending spent;
  for (;;) {
    auto row = statement->step();
    if (!row)
      return storage_error(db);
    if (!*row)
      return spent;
    auto usd_micros = read_usd_micros(*statement, 0, 2);
    if (!usd_micros)
      return usd_micros.error();
    spent.all_tools = saturating_add(spent.all_tools, *usd_micros);
    if (statement->text(1) == tool)
      spent.this_tool = saturating_add(spent.this_tool, *usd_micros);
  }
}

Result<std::int64_t, SpendingError> insert_reserved(sqlite::Database& db,
                                                    const PlannedPayment& payment,
                                                    std::int64_t now_unix) {
  auto statement = db.prepare(
      "INSERT INTO spending (created_unix, tool, seller, network, asset, pay_to,"
      " amount, usd_micros, state) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, 'reserved')");
  if (!statement)
    return storage_error(db);
  statement->bind(1, now_unix)
      .bind(2, payment.tool)
      .bind(3, payment.seller)
      .bind(4, payment.network)
      .bind(5, payment.asset)
      .bind(6, payment.pay_to)
      .bind_amount(7, payment.amount)
      .bind_amount(8, payment.usd_micros);
  if (!statement->run())
    return storage_error(db);
  return db.last_insert_id();
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

Status change_state(sqlite::Database& db, std::int64_t id, const StateChange& change) {
  const std::string sql =
      "UPDATE spending SET state = ?1, transaction_id = COALESCE(?2, transaction_id),"
      " detail = COALESCE(?3, detail), receipt_json = COALESCE(?4, receipt_json)" +
      std::string(change.drop_payment ? ", payment_json = ''" : "") +
      " WHERE id = ?5 AND state IN " + std::string(change.allowed_from_sql);
  auto statement = db.prepare(sql);
  if (!statement)
    return statement.error();
  statement->bind(1, change.new_state)
      .bind_optional(2, change.transaction)
      .bind_optional(3, change.detail)
      .bind_optional(4, change.receipt_json)
      .bind(5, id);
  if (!statement->run())
    return sql_error(db);
  if (db.changes() == 1)
    return ok_status();

  // Nothing changed: tell a missing row from one whose state forbids the move.
  auto lookup = db.prepare("SELECT state FROM spending WHERE id = ?1");
  if (!lookup)
    return lookup.error();
  lookup->bind(1, id);
  auto found = lookup->step();
  if (!found || !*found)
    return make_error("ledger.missing", "no spending ledger row " + std::to_string(id));
  return make_error("ledger.state", "payment " + std::to_string(id) + " is " + lookup->text(0) +
                                        "; it cannot become " + change.new_state);
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

}  // namespace

SpendingLedger::SpendingLedger(std::unique_ptr<sqlite::Database> db, SpendingLimits limits)
    : db_(std::move(db)), limits_(std::move(limits)) {}

SpendingLedger::~SpendingLedger() = default;

const std::string& SpendingLedger::permission_note() const {
  return db_->permission_note();
}

Result<std::unique_ptr<SpendingLedger>> SpendingLedger::open(const std::string& path,
                                                             SpendingLimits limits) {
  // From schema 1 on the file holds signed payments: created 0600, tightened when others may
  // read it (the note says so).
  auto db = sqlite::Database::open(path, "spending ledger");
  if (!db)
    return make_error("ledger.open", db.error().message);
  // Each migration step is one write transaction, so that two processes opening an old file at
  // once migrate it once, and a crash never leaves half a step.
  if (auto status = (*db)->migrate(kMigrations); !status.ok())
    return make_error("ledger.open", status.error().message);
  return std::unique_ptr<SpendingLedger>(
      new SpendingLedger(std::move(db).value(), std::move(limits)));
}

Result<std::int64_t, SpendingError> SpendingLedger::reserve(const PlannedPayment& payment,
                                                            std::int64_t now_unix) {
  if (auto status = check_static_limits(limits_, payment); !status.ok())
    return status.error();
  // BEGIN IMMEDIATE takes the file's write lock before the limits are read, so a second process
  // waits its turn (busy timeout) and then sums a total that includes the first one's
  // reservation (sqlite::Transaction).
  sqlite::Transaction transaction(*db_);
  if (auto status = transaction.begin_write(); !status.ok())
    return SpendingError(SpendingFailure::ledger_sql, status.error().message);
  auto spent = spending_in_window(*db_, payment.tool, now_unix);
  if (!spent)
    return spent.error();
  if (auto status = check_window_limits(limits_, payment, *spent); !status.ok())
    return status.error();
  auto id = insert_reserved(*db_, payment, now_unix);
  if (!id)
    return id.error();
  if (auto status = transaction.commit(); !status.ok())
    return SpendingError(SpendingFailure::ledger_sql, status.error().message);
  return id;
}

Status SpendingLedger::hold_payment(std::int64_t id, const std::string& call_fingerprint,
                                    const std::string& payment_json, const std::string& header) {
  auto statement = db_->prepare(
      "UPDATE spending SET call_fingerprint = ?1, payment_json = ?2,"
      " payment_header = ?3 WHERE id = ?4 AND state = 'reserved'");
  if (!statement)
    return statement.error();
  statement->bind(1, call_fingerprint).bind(2, payment_json).bind(3, header).bind(4, id);
  if (!statement->run())
    return sql_error(*db_);
  if (db_->changes() == 1)
    return ok_status();
  return make_error("ledger.state",
                    "payment " + std::to_string(id) + " is not reserved; it cannot hold a payment");
}

Result<std::optional<HeldPaymentRow>> SpendingLedger::find_held_payment(
    const std::string& call_fingerprint, std::int64_t now_unix) {
  auto statement = db_->prepare(
      "SELECT id, tool, seller, network, pay_to, usd_micros, transaction_id,"
      " payment_json, payment_header FROM spending"
      " WHERE call_fingerprint = ?1 AND state = 'unconfirmed'"
      " AND payment_json != '' AND created_unix > ?2 ORDER BY id DESC LIMIT 1");
  if (!statement)
    return statement.error();
  statement->bind(1, call_fingerprint).bind(2, now_unix - kSpendingWindowSeconds);
  auto found = statement->step();
  if (!found)
    return sql_error(*db_);
  if (!*found)
    return std::optional<HeldPaymentRow>();
  HeldPaymentRow row;
  row.id = statement->integer(0);
  std::string* texts[] = {&row.tool,       &row.seller,      &row.network,      &row.pay_to,
                          &row.usd_micros, &row.transaction, &row.payment_json, &row.header};
  for (int i = 0; i < 8; ++i)
    *texts[i] = statement->text(i + 1);
  return std::optional<HeldPaymentRow>(std::move(row));
}

Status SpendingLedger::mark_paid(std::int64_t id, const std::string& transaction,
                                 const std::string& receipt_json) {
  return change_state(*db_, id,
                      {"paid", "('reserved', 'unconfirmed')", transaction, std::nullopt,
                       receipt_json, /*drop_payment=*/true});
}

Status SpendingLedger::mark_unconfirmed(std::int64_t id, const std::string& detail,
                                        HeldPayment held, const std::string& transaction) {
  return change_state(*db_, id,
                      {"unconfirmed", "('reserved', 'unconfirmed')",
                       transaction.empty() ? std::nullopt : std::optional(transaction), detail,
                       std::nullopt, held == HeldPayment::drop});
}

Status SpendingLedger::release(std::int64_t id, const std::string& detail) {
  return change_state(*db_, id,
                      {"released", "('reserved', 'unconfirmed')", std::nullopt, detail,
                       std::nullopt, /*drop_payment=*/true});
}

Result<std::vector<SpendingLedger::Row>> SpendingLedger::rows() {
  auto statement = db_->prepare(
      "SELECT id, created_unix, tool, seller, network, asset, pay_to, amount,"
      " usd_micros, state, transaction_id, detail, receipt_json,"
      " call_fingerprint, payment_json, payment_header FROM spending ORDER BY id");
  if (!statement)
    return statement.error();
  std::vector<Row> rows;
  for (;;) {
    auto found = statement->step();
    if (!found)
      return sql_error(*db_);
    if (!*found)
      return rows;
    Row row;
    row.id = statement->integer(0);
    row.time = statement->integer(1);
    std::string* texts[] = {
        &row.tool,    &row.seller,           &row.network,      &row.asset,         &row.pay_to,
        &row.amount,  &row.usd_micros,       &row.state,        &row.transaction,   &row.detail,
        &row.receipt, &row.call_fingerprint, &row.payment_json, &row.payment_header};
    for (int i = 0; i < 14; ++i)
      *texts[i] = statement->text(i + 2);
    rows.push_back(std::move(row));
  }
}

Result<std::string> SpendingLedger::report() {
  auto statement = db_->prepare(
      "SELECT id, created_unix, seller, usd_micros, state, tool, network,"
      " transaction_id, detail FROM spending"
      " WHERE state IN ('paid', 'unconfirmed') ORDER BY created_unix, id");
  if (!statement)
    return statement.error();
  sqlite::Statement& raw = *statement;
  // std::map keeps days in calendar order ("YYYY-MM-DD" sorts as text) and sellers by name.
  std::map<std::string, std::map<std::string, Tally>> by_day;
  std::map<std::string, Tally> by_seller;
  Tally paid;
  Tally unconfirmed;
  std::string unconfirmed_lines;
  for (;;) {
    auto found = raw.step();
    if (!found)
      return sql_error(*db_);
    if (!*found)
      break;
    auto usd_micros = read_usd_micros(raw, 0, 3);
    if (!usd_micros)
      return Error(usd_micros.error());
    const std::string day = utc_day(raw.integer(1));
    const std::string seller = raw.text(2);
    if (raw.text(4) == "unconfirmed") {
      // Listed one by one: each may be money that moved without a receipt.
      unconfirmed.add(*usd_micros);
      unconfirmed_lines += "  " + day + " " + seller + " tool " + raw.text(5) + ": " +
                           dollars(*usd_micros) + " on " + raw.text(6);
      if (const std::string transaction = raw.text(7); !transaction.empty())
        unconfirmed_lines += ", transaction " + transaction;
      if (std::string detail = raw.text(8); !detail.empty()) {
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
