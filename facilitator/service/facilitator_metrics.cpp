#include "facilitator/service/facilitator_metrics.h"

#include "facilitator/rules/reason_names.h"
#include "x402/amount.h"
#include "x402/networks.h"

namespace x402proxy::facilitator {

namespace {

void escape_into(std::string& out, std::string_view value) {
  for (char c : value) {
    if (c == '\\' || c == '"') {
      out.push_back('\\');
      out.push_back(c);
    } else if (c == '\n') {
      out += "\\n";
    } else {
      out.push_back(c);
    }
  }
}

std::string labels(std::initializer_list<std::pair<std::string_view, std::string_view>> pairs) {
  std::string out = "{";
  for (const auto& [name, value] : pairs) {
    if (out.size() > 1)
      out.push_back(',');
    out.append(name).append("=\"");
    escape_into(out, value);
    out.push_back('"');
  }
  return out + "}";
}

void header(std::string& out, std::string_view name, std::string_view type, std::string_view help) {
  out.append("# HELP ").append(name).append(" ").append(help).append("\n");
  out.append("# TYPE ").append(name).append(" ").append(type).append("\n");
}

std::string number(double value) {
  std::string text = std::to_string(value);
  while (!text.empty() && text.back() == '0')
    text.pop_back();
  if (!text.empty() && text.back() == '.')
    text.pop_back();
  return text;
}

}  // namespace

std::string_view FacilitatorMetrics::bounded_network(std::string_view network) {
  const x402::Network* known = x402::find_network(network);
  return known != nullptr ? known->caip2 : std::string_view("other");
}

std::string_view FacilitatorMetrics::bounded_asset(std::string_view network,
                                                   std::string_view asset) {
  const x402::Asset* known = x402::find_asset(network, asset);
  return known != nullptr ? known->address : std::string_view("other");
}

std::string_view FacilitatorMetrics::bounded_reason(std::string_view reason) {
  if (reason.empty())
    return reason;
  for (const ReasonName& listed : kEmittedReasons) {
    if (listed.name == reason)
      return listed.name;
  }
  return "other";
}

void FacilitatorMetrics::count_call(std::string_view operation, std::string_view outcome,
                                    std::string_view network, std::string_view reason,
                                    std::chrono::steady_clock::duration elapsed) {
  const double seconds = std::chrono::duration<double>(elapsed).count();
  std::lock_guard lock(mutex_);
  ++calls_[Key4(operation, outcome, bounded_network(network), bounded_reason(reason))];
  Histogram& histogram = latency_[std::string(operation)];
  for (std::size_t i = 0; i < kBuckets.size(); ++i) {
    if (seconds <= kBuckets[i])
      ++histogram.cumulative[i];
  }
  ++histogram.count;
  histogram.sum_seconds += seconds;
}

void FacilitatorMetrics::add_settled(std::string_view network, std::string_view asset,
                                     std::string_view atomic) {
  auto amount = x402::parse_amount(atomic);
  if (!amount.ok())
    return;
  std::lock_guard lock(mutex_);
  std::string& total =
      settled_[{std::string(bounded_network(network)), std::string(bounded_asset(network, asset))}];
  auto previous = x402::parse_amount(total.empty() ? "0" : total);
  total = x402::to_string((previous.ok() ? *previous : 0) + *amount);
}

void FacilitatorMetrics::count_http(std::string_view path, unsigned status) {
  static constexpr std::array<std::string_view, 5> kRoutes = {"/verify", "/settle", "/supported",
                                                              "/solana-rpc", "/metrics"};
  std::string_view route = "other";
  for (auto known : kRoutes) {
    if (path == known)
      route = known;
  }
  std::lock_guard lock(mutex_);
  ++http_[{std::string(route), status}];
}

std::string FacilitatorMetrics::render() const {
  std::string out;
  std::lock_guard lock(mutex_);
  header(out, "x402_facilitator_calls_total", "counter",
         "verify and settle calls by operation, outcome, network and reason");
  for (const auto& [key, value] : calls_) {
    const auto& [operation, outcome, network, reason] = key;
    out.append("x402_facilitator_calls_total")
        .append(labels({{"operation", operation},
                        {"outcome", outcome},
                        {"network", network},
                        {"reason", reason}}))
        .append(" ")
        .append(std::to_string(value))
        .append("\n");
  }
  header(out, "x402_facilitator_settled_atomic_total", "counter",
         "settled amounts in the asset's atomic units");
  for (const auto& [key, value] : settled_) {
    out.append("x402_facilitator_settled_atomic_total")
        .append(labels({{"network", key.first}, {"asset", key.second}}))
        .append(" ")
        .append(value)
        .append("\n");
  }
  header(out, "x402_facilitator_call_seconds", "histogram",
         "time to answer verify and settle, by operation");
  for (const auto& [operation, histogram] : latency_) {
    for (std::size_t i = 0; i < kBuckets.size(); ++i) {
      out.append("x402_facilitator_call_seconds_bucket")
          .append(labels({{"operation", operation}, {"le", number(kBuckets[i])}}))
          .append(" ")
          .append(std::to_string(histogram.cumulative[i]))
          .append("\n");
    }
    out.append("x402_facilitator_call_seconds_bucket")
        .append(labels({{"operation", operation}, {"le", "+Inf"}}))
        .append(" ")
        .append(std::to_string(histogram.count))
        .append("\n");
    out.append("x402_facilitator_call_seconds_sum")
        .append(labels({{"operation", operation}}))
        .append(" ")
        .append(number(histogram.sum_seconds))
        .append("\n");
    out.append("x402_facilitator_call_seconds_count")
        .append(labels({{"operation", operation}}))
        .append(" ")
        .append(std::to_string(histogram.count))
        .append("\n");
  }
  header(out, "x402_facilitator_http_requests_total", "counter",
         "HTTP requests by route and status");
  for (const auto& [key, value] : http_) {
    out.append("x402_facilitator_http_requests_total")
        .append(labels({{"route", key.first}, {"status", std::to_string(key.second)}}))
        .append(" ")
        .append(std::to_string(value))
        .append("\n");
  }
  return out;
}

}  // namespace x402proxy::facilitator
