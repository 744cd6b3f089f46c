// One log line per tools/call (request id, tool, price, payer, outcome, durations) and the bounded
// method label the request metrics use. Never a secret: payments are named by their payer address
// only, never by signature or payload.
#pragma once

#include <chrono>
#include <string>

#include <boost/json/value.hpp>

#include "mcp/mcp_request.h"

namespace x402proxy::proxy {

struct CallRecord {
  boost::json::value id;
  std::string tool;
  std::string price;    // "$0.001", "1000 atomic units" or "free"
  std::string payer;    // when a payment was verified
  std::string outcome;  // forwarded, payment_required, payment_rejected, paid, settle_failed, …
  std::chrono::steady_clock::duration verify_time{};
  std::chrono::steady_clock::duration settle_time{};
};

void log_call(const CallRecord& record, std::chrono::steady_clock::duration total);

// The JSON-RPC method for a metric label: MCP's own methods by name, anything else "(other)",
// a response "(response)" — a client cannot invent new series.
std::string metric_method_label(const mcp::McpMessage& message);

}  // namespace x402proxy::proxy
