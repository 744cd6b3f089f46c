// Start-up recovery of the payment journal (DESIGN, paywall pipeline step 7): payments a previous
// run left open are resolved before the listener accepts a call. A payment whose call had been
// forwarded to the upstream is settled, since the payment covers the attempt (as for a tool that
// answers with an error); one still in verified never reached the upstream and is marked abandoned,
// never settled. Rows written before the journal kept the settlement data stay open for a person
// to check.
#pragma once

#include <cstddef>
#include <string>

#include <boost/asio/awaitable.hpp>

#include "facilitator/facilitator.h"
#include "proxy/payment_journal.h"

namespace x402proxy::proxy {

// What one recovery pass did, for the log and the metrics.
struct RecoveryReport {
  std::size_t settled = 0;        // forwarded, and the facilitator settled it (or had already)
  std::size_t settle_failed = 0;  // forwarded, and settle failed: the row keeps the reason
  std::size_t abandoned = 0;      // verified only: the call never reached the upstream
  std::size_t left_open = 0;      // no settlement data, unreadable data, or the journal refused
  std::string journal_error;      // set when the open rows could not be read at all

  std::size_t resolved() const { return settled + settle_failed + abandoned; }
};

// Resolves every open row of `journal`; logs one line per row and a summary. Never throws.
boost::asio::awaitable<RecoveryReport> resolve_open_payments(PaymentJournal& journal,
                                                             facilitator::Facilitator& facilitator);

}  // namespace x402proxy::proxy
