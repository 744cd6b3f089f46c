#include "facilitator/service/facilitator_call_log.h"

#include <cstdio>

#include <spdlog/spdlog.h>

#include "net/redaction.h"

namespace x402proxy::facilitator {

namespace {

void put(std::string& out, std::string_view key, std::string_view value) {
  if (value.empty())
    return;
  out.append(" ").append(key).append("=");
  const bool plain = value.find_first_of(" \"=\\\t") == std::string_view::npos;
  if (plain) {
    out.append(value);
    return;
  }
  out.push_back('"');
  for (char c : value) {
    if (c == '"' || c == '\\')
      out.push_back('\\');
    out.push_back(c);
  }
  out.push_back('"');
}

}  // namespace

std::string format_call_record(const FacilitatorCallRecord& record) {
  std::string out = "facilitator " + record.operation;
  put(out, "outcome", record.outcome);
  put(out, "reason", record.reason.empty() ? std::string() : net::reason_code(record.reason));
  put(out, "payer", net::redact_secrets(record.payer, 64));
  put(out, "network", net::redact_secrets(record.network, 64));
  put(out, "asset", net::redact_secrets(record.asset, 64));
  put(out, "amount", net::redact_secrets(record.amount, 80));
  put(out, "scheme", net::redact_secrets(record.scheme, 32));
  if (record.x402_version != 0)
    put(out, "x402Version", std::to_string(record.x402_version));
  // A settlement's id is public (it names the transfer, it cannot authorize one).
  put(out, "transaction", record.transaction);
  char ms[32];
  std::snprintf(ms, sizeof ms, "%.3f",
                std::chrono::duration<double, std::milli>(record.elapsed).count());
  put(out, "ms", ms);
  put(out, "detail", net::redact_secrets(record.detail));
  return out;
}

void log_call_record(const FacilitatorCallRecord& record) {
  const bool failed = record.outcome == "error" || record.outcome == "bad_request";
  spdlog::log(failed ? spdlog::level::warn : spdlog::level::info, "{}", format_call_record(record));
}

}  // namespace x402proxy::facilitator
