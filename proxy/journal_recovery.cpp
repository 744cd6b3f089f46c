#include "proxy/journal_recovery.h"

#include <utility>

#include <spdlog/spdlog.h>
#include <boost/json/parse.hpp>

#include "x402/codec.h"

namespace x402proxy::proxy {
namespace {

// What the facilitator answers when this very payment was settled before: the EIP-3009 nonce is
// spent (x402 exact EVM, invalid_exact_evm_nonce_already_used), or the transaction was already
// processed (duplicate_settlement). A run that crashed between settle and writing `settled`
// leaves exactly such a payment behind.
bool says_already_settled(const facilitator::FacilitatorError& failure) {
  return failure.kind == facilitator::FailureKind::payment_rejected &&
         (failure.reason == "invalid_exact_evm_nonce_already_used" ||
          failure.reason == "duplicate_settlement");
}

struct SettlementData {
  x402::PaymentPayload payment;
  x402::PaymentRequirements requirements;
};

// The payment and requirement as the previous run gave them to the facilitator.
Result<SettlementData> read_settlement_data(const JournalEntry& entry) {
  boost::system::error_code ec;
  boost::json::value payment_json = boost::json::parse(entry.payment_json, ec);
  if (ec)
    return make_error("journal.payment_json", "the stored payment is not JSON: " + ec.message());
  auto payment = x402::payment_payload_from_json(payment_json);
  if (!payment.ok())
    return make_error("journal.payment_json", "the stored payment: " + payment.error().message);
  boost::json::value requirements_json = boost::json::parse(entry.requirements_json, ec);
  if (ec) {
    return make_error("journal.requirements_json",
                      "the stored requirement is not JSON: " + ec.message());
  }
  // Stored in the payment's version form, as the facilitator was called (v1: maxAmountRequired).
  auto requirements = x402::requirements_from_json(requirements_json, payment->x402_version);
  if (!requirements.ok()) {
    return make_error("journal.requirements_json",
                      "the stored requirement: " + requirements.error().message);
  }
  return SettlementData{std::move(payment).value(), std::move(requirements).value()};
}

void log_row(const JournalEntry& entry, const std::string& outcome) {
  spdlog::warn(
      "payment journal recovery: row {} for tool {} ({} {} on {}, payer {}) was left {} by a "
      "previous run: {}",
      entry.id, entry.tool, entry.amount, entry.asset, entry.network, entry.payer,
      to_string(entry.state), outcome);
}

// Writes a row's outcome; false (logged) when the journal refused, and the row stays open.
bool record(PaymentJournal& journal, const JournalEntry& entry, PaymentState state,
            const std::string& transaction, const std::string& detail) {
  if (auto status = journal.update(entry.id, state, transaction, detail); !status.ok()) {
    log_row(entry, std::string("left open: the journal refused ") + to_string(state) + ": " +
                       status.error().message);
    return false;
  }
  return true;
}

}  // namespace

boost::asio::awaitable<RecoveryReport> resolve_open_payments(
    PaymentJournal& journal, facilitator::Facilitator& facilitator) {
  RecoveryReport report;
  auto open = journal.open_payments();
  if (!open.ok()) {
    report.journal_error = open.error().message;
    spdlog::error("payment journal recovery: cannot read the open payments: {}",
                  report.journal_error);
    co_return report;
  }
  for (const JournalEntry& entry : *open) {
    if (entry.state == PaymentState::verified) {
      // Forwarded is written before the upstream is contacted, so this call never ran: nothing
      // was delivered, nothing is charged.
      if (record(journal, entry, PaymentState::abandoned, {},
                 "abandoned at start-up: the call never reached the upstream")) {
        ++report.abandoned;
        log_row(entry, "abandoned, not settled (the call never reached the upstream)");
      } else {
        ++report.left_open;
      }
      continue;
    }
    if (entry.payment_json.empty() || entry.requirements_json.empty()) {
      ++report.left_open;
      log_row(entry,
              "left open: written by an older version that did not keep the payment; check its "
              "settlement by hand");
      continue;
    }
    auto data = read_settlement_data(entry);
    if (!data.ok()) {
      ++report.left_open;
      log_row(entry, "left open: " + data.error().message + "; check its settlement by hand");
      continue;
    }
    // The call reached the upstream: the payment covers the attempt, so settle it now.
    auto settled = co_await facilitator.settle(data->payment, data->requirements);
    if (settled.ok()) {
      if (record(journal, entry, PaymentState::settled, settled->transaction,
                 "settled at start-up")) {
        ++report.settled;
        log_row(entry, "settled, transaction " + settled->transaction);
      } else {
        ++report.left_open;
      }
      continue;
    }
    const facilitator::FacilitatorError& failure = settled.error();
    std::string reason =
        failure.reason.empty() ? std::string(facilitator::to_string(failure.kind)) : failure.reason;
    std::string detail = reason + ": " + failure.message;
    if (says_already_settled(failure)) {
      if (record(journal, entry, PaymentState::settled, {}, "already settled: " + detail)) {
        ++report.settled;
        log_row(entry, "settled before the crash (the facilitator says " + detail + ")");
      } else {
        ++report.left_open;
      }
      continue;
    }
    if (record(journal, entry, PaymentState::settle_failed, {}, detail)) {
      ++report.settle_failed;
      log_row(entry, "settlement failed: " + detail);
    } else {
      ++report.left_open;
    }
  }
  if (open->empty()) {
    spdlog::debug("payment journal recovery: no open payments");
  } else {
    spdlog::warn(
        "payment journal recovery: {} open payments from a previous run: {} settled, {} "
        "settlement failed, {} abandoned, {} left open for a manual check",
        open->size(), report.settled, report.settle_failed, report.abandoned, report.left_open);
  }
  co_return report;
}

}  // namespace x402proxy::proxy
