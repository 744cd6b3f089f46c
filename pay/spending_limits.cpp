// The limit rules apart from the file they are enforced with (spending_ledger.cpp): what needs no
// history, what the rolling 24 h adds, and the conversion of prices into micro-dollars.
#include "pay/spending_limits.h"

#include <limits>
#include <string_view>

#include "x402/networks.h"
#include "x402/price.h"

namespace x402proxy::pay {
namespace {

using x402::Amount;

constexpr unsigned kUsdMicrosDecimals = 6;
const Amount kMaxAmount = std::numeric_limits<Amount>::max();

Amount power_of_ten(unsigned exponent) {
  Amount result = 1;
  for (unsigned i = 0; i < exponent; ++i)
    result *= 10;
  return result;
}

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

}  // namespace

const char* to_string(SpendingFailure failure) {
  switch (failure) {
    case SpendingFailure::network:
      return "limit.network";
    case SpendingFailure::payee:
      return "limit.payee";
    case SpendingFailure::per_call:
      return "limit.per_call";
    case SpendingFailure::per_tool:
      return "limit.per_tool";
    case SpendingFailure::per_day:
      return "limit.per_day";
    case SpendingFailure::ledger_sql:
      return "ledger.sql";
    case SpendingFailure::ledger_corrupt:
      return "ledger.corrupt";
  }
  return "ledger.sql";
}

bool is_limit(SpendingFailure failure) {
  return failure != SpendingFailure::ledger_sql && failure != SpendingFailure::ledger_corrupt;
}

Amount saturating_add(const Amount& a, const Amount& b) {
  const Amount sum = a + b;
  return sum < a ? kMaxAmount : sum;
}

std::string dollars(const Amount& usd_micros) {
  return x402::format_usd(usd_micros, kUsdMicrosDecimals);
}

Result<Ok, SpendingError> check_static_limits(const SpendingLimits& limits,
                                              const PlannedPayment& payment) {
  const std::string price = dollars(payment.usd_micros);
  if (!network_allowed(limits, payment.network)) {
    return SpendingError(SpendingFailure::network, "spending limit networks allows only " +
                                                       joined(limits.networks) + "; this call (" +
                                                       price + ") pays on " + payment.network);
  }
  if (!payee_allowed(limits, payment)) {
    return SpendingError(SpendingFailure::payee, "spending limit payees allows only " +
                                                     joined(limits.payees) + "; this call (" +
                                                     price + ") pays " + payment.pay_to);
  }
  if (limits.per_call && payment.usd_micros > *limits.per_call) {
    return SpendingError(
        SpendingFailure::per_call,
        "spending limit per_call is " + dollars(*limits.per_call) + "; this call costs " + price);
  }
  return Ok{};
}

Result<Ok, SpendingError> check_window_limits(const SpendingLimits& limits,
                                              const PlannedPayment& payment,
                                              const WindowSpending& spent) {
  const std::string price = dollars(payment.usd_micros);
  if (auto tool_limit = limits.per_tool.find(payment.tool); tool_limit != limits.per_tool.end()) {
    if (saturating_add(spent.this_tool, payment.usd_micros) > tool_limit->second) {
      return SpendingError(SpendingFailure::per_tool,
                           "spending limit per_tool for \"" + payment.tool + "\" is " +
                               dollars(tool_limit->second) + " per 24 h; " +
                               dollars(spent.this_tool) +
                               " already spent on it in the last 24 h; this call "
                               "costs " +
                               price);
    }
  }
  if (limits.per_day && saturating_add(spent.all_tools, payment.usd_micros) > *limits.per_day) {
    return SpendingError(SpendingFailure::per_day,
                         "spending limit per_day is " + dollars(*limits.per_day) + " per 24 h; " +
                             dollars(spent.all_tools) +
                             " already spent in the last 24 h; this call costs " + price);
  }
  return Ok{};
}

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

}  // namespace x402proxy::pay
