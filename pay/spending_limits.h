// The buyer's spending limits and the ledger that enforces them. `x402-mcp-proxy pay` pays
// sellers of MCP tools without asking, so every payment is first reserved here against the limits
// the user configured; the ledger is a SQLite file so the limits hold across restarts and across
// several proxy processes sharing one wallet.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "sqlite/database.h"
#include "x402/amount.h"
#include "x402/result.h"

namespace x402proxy::pay {

// Limits are in micro-dollars (USD with 6 decimals), the unit of 6-decimal USD stablecoins
// (USDC), so one limit covers every network and stablecoin the buyer pays with.
struct SpendingLimits {
  std::optional<x402::Amount> per_call;          // largest single payment
  std::map<std::string, x402::Amount> per_tool;  // per tool name: total over the rolling 24 h
  std::optional<x402::Amount> per_day;  // total over the rolling 24 h (all tools, all sellers)
  // Allow-list of payTo addresses; empty = any. EVM addresses compare case-insensitively (a
  // checksummed and a lower-case spelling are the same account), others exactly (base58 is
  // case-sensitive).
  std::vector<std::string> payees;
  std::vector<std::string> networks;  // allow-list of CAIP-2 network ids; empty = any
};

struct PlannedPayment {
  std::string tool;
  std::string seller;   // the remote MCP URL
  std::string network;  // CAIP-2
  std::string asset;
  std::string pay_to;
  x402::Amount amount;      // atomic units of the asset
  x402::Amount usd_micros;  // its value in micro-dollars (computed by the caller)
};

// Turns atomic units into micro-dollars for a USD stablecoin with `decimals` decimals, rounding
// UP so a limit is never passed by rounding: decimals 6 → same; 18 → ceil(amount / 10^12);
// 2 → amount * 10^4. A result too large for 256 bits saturates at the maximum instead of
// wrapping to a small number.
x402::Amount usd_micros_from_atomic(const x402::Amount& atomic, unsigned decimals);

// Why a payment was not reserved: a limit refused it (sent back to the client as the refusal,
// with the limit's name as its reason), or the ledger could not be read or written.
enum class SpendingFailure {
  network,         // "limit.network"
  payee,           // "limit.payee"
  per_call,        // "limit.per_call"
  per_tool,        // "limit.per_tool"
  per_day,         // "limit.per_day"
  ledger_sql,      // "ledger.sql"
  ledger_corrupt,  // "ledger.corrupt"
};
const char* to_string(SpendingFailure failure);
bool is_limit(SpendingFailure failure);  // a limit, not the file, refused the payment
using SpendingError = Failure<SpendingFailure>;

// The limit rules apart from the file (spending_limits.cpp). Over the rolling 24 h a payment is
// checked against what the ledger already counts in that window.
inline constexpr std::int64_t kSpendingWindowSeconds = 24 * 60 * 60;
struct WindowSpending {
  x402::Amount all_tools = 0;
  x402::Amount this_tool = 0;
};
// network, payee, per_call: the limits that need no history.
Result<Ok, SpendingError> check_static_limits(const SpendingLimits& limits,
                                              const PlannedPayment& payment);
// per_tool, per_day.
Result<Ok, SpendingError> check_window_limits(const SpendingLimits& limits,
                                              const PlannedPayment& payment,
                                              const WindowSpending& spent);
// uint256 wraps on overflow; a wrapped sum would look small and let a payment through, so sums
// stop at the maximum instead.
x402::Amount saturating_add(const x402::Amount& a, const x402::Amount& b);
std::string dollars(const x402::Amount& usd_micros);  // "$0.05"

// What happens to the payment a row holds (hold_payment) when the row becomes unconfirmed.
enum class HeldPayment {
  keep,  // the outcome is still open: an identical call may send this payment again
  drop,  // the outcome is final (settlement failed or unproven, or the answer was delivered)
};

// An unconfirmed payment that may still be redeemed, as find_held_payment returns it.
struct HeldPaymentRow {
  std::int64_t id = 0;
  std::string tool, seller, network, pay_to, usd_micros, transaction;
  std::string payment_json;  // the signed payment as sent: a secret until it settles, never logged
  std::string header;        // the HTTP header it travelled in; "" for params._meta
};

class SpendingLedger {
 public:
  // Opens or creates the SQLite file at `path` (":memory:" allowed) in WAL mode and brings the
  // schema up to date (a ledger written by an older version keeps its rows). A new file is
  // created with mode 0600 and an existing one readable by others is tightened to 0600: rows
  // hold signed payments. Reason "ledger.open" or "ledger.sql".
  static Result<std::unique_ptr<SpendingLedger>> open(const std::string& path,
                                                      SpendingLimits limits);
  ~SpendingLedger();
  SpendingLedger(const SpendingLedger&) = delete;
  SpendingLedger& operator=(const SpendingLedger&) = delete;

  // Checks every limit against the payments in state reserved, paid or unconfirmed with
  // time > now_unix - 86400 (the rolling 24 h) plus this one; on success records it as
  // `reserved` and returns its row id. Check and insert are one IMMEDIATE transaction, so two
  // processes sharing the file cannot both pass. Refusal reasons, each with a message naming the
  // limit, its value and the price in dollars: "limit.network", "limit.payee", "limit.per_call",
  // "limit.per_tool" (also names the tool and what it already cost in the window),
  // "limit.per_day". Storage failures: "ledger.sql", "ledger.corrupt".
  Result<std::int64_t, SpendingError> reserve(const PlannedPayment& payment, std::int64_t now_unix);

  // Keeps with reserved row `id` the signed payment about to be sent and a fingerprint of the
  // call it pays for, so that if its outcome stays unknown an identical call sends this same
  // payment again instead of signing a second one. `header` is the HTTP header the payment
  // travels in ("" for params._meta["x402/payment"]). Allowed from reserved only.
  Status hold_payment(std::int64_t id, const std::string& call_fingerprint,
                      const std::string& payment_json, const std::string& header);

  // The newest `unconfirmed` row younger than 24 h (created_unix > now_unix - 86400) for
  // `call_fingerprint` that still holds its payment; nullopt when there is none.
  Result<std::optional<HeldPaymentRow>> find_held_payment(const std::string& call_fingerprint,
                                                          std::int64_t now_unix);

  // The seller accepted and settled: state `paid`, with the transaction id and the receipt JSON;
  // the held payment is dropped (it bought its call). Allowed from reserved or unconfirmed (a
  // confirmation that came late).
  Status mark_paid(std::int64_t id, const std::string& transaction,
                   const std::string& receipt_json);
  // Sent but not confirmed (the answer was lost, settlement is pending, or it failed after the
  // tool ran): `unconfirmed`, which still counts against the limits because money may have
  // moved. `held` says whether the payment may be sent again; a non-empty `transaction` (one the
  // seller named) is recorded. Allowed from reserved or unconfirmed.
  Status mark_unconfirmed(std::int64_t id, const std::string& detail,
                          HeldPayment held = HeldPayment::keep,
                          const std::string& transaction = "");
  // Not spent (never sent, or the seller refused it before anything ran): `released`, which no
  // longer counts; the held payment is dropped. Allowed from reserved or unconfirmed; a paid row
  // cannot be released.
  Status release(std::int64_t id, const std::string& detail);
  // The four above fail with "ledger.missing" (no such row) or "ledger.state" (the row's state
  // does not allow the move).

  struct Row {
    std::int64_t id = 0;
    std::int64_t time = 0;  // unix seconds of the reservation
    std::string tool, seller, network, asset, pay_to;
    std::string amount, usd_micros;  // decimal strings
    std::string state;               // reserved | paid | unconfirmed | released
    std::string transaction, detail;
    std::string receipt;  // receipt JSON text, set by mark_paid
    std::string call_fingerprint, payment_json, payment_header;  // see hold_payment
  };
  // Every payment row, oldest first (for tests and the report).
  Result<std::vector<Row>> rows();

  // Human-readable text: paid spending per UTC day and per seller (in dollars), totals per
  // seller and overall, then the unconfirmed payments on their own ("unconfirmed: N payments,
  // $X, pending settlement or failed", one line each) since that money may have moved; "no
  // payments recorded" when there is neither.
  Result<std::string> report();

  // Set when open() had to tighten the file's mode to 0600 (for the caller to log).
  const std::string& permission_note() const;

 private:
  SpendingLedger(std::unique_ptr<sqlite::Database> db, SpendingLimits limits);

  std::unique_ptr<sqlite::Database> db_;  // one connection, used from one thread at a time
  SpendingLimits limits_;
};

}  // namespace x402proxy::pay
