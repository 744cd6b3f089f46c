#include "proxy/operations/metrics.h"

#include "x402/amount.h"

namespace x402proxy::proxy {

namespace {

void escape_label_value(std::string& out, std::string_view value) {
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

std::string prometheus_labels(
    std::initializer_list<std::pair<std::string_view, std::string_view>> labels) {
  std::string out = "{";
  bool first = true;
  for (const auto& [name, value] : labels) {
    if (!first)
      out.push_back(',');
    first = false;
    out.append(name).append("=\"");
    escape_label_value(out, value);
    out.push_back('"');
  }
  out.push_back('}');
  return out;
}

void LatencyHistogram::observe(std::chrono::steady_clock::duration elapsed) {
  const double seconds = std::chrono::duration<double>(elapsed).count();
  for (std::size_t i = 0; i < kBuckets.size(); ++i) {
    if (seconds <= kBuckets[i])
      counts_[i].fetch_add(1, std::memory_order_relaxed);
  }
  count_.fetch_add(1, std::memory_order_relaxed);
  sum_micros_.fetch_add(static_cast<std::uint64_t>(
                            std::chrono::duration_cast<std::chrono::microseconds>(elapsed).count()),
                        std::memory_order_relaxed);
}

void LatencyHistogram::render(std::string& out, std::string_view name,
                              std::string_view labels) const {
  // labels: `a="x"` pairs without braces (may be empty); le is appended to them.
  const std::string prefix = labels.empty() ? "" : std::string(labels) + ",";
  for (std::size_t i = 0; i < kBuckets.size(); ++i) {
    out.append(name).append("_bucket{").append(prefix).append("le=\"");
    out.append(number(kBuckets[i])).append("\"} ");
    out.append(std::to_string(counts_[i].load(std::memory_order_relaxed))).append("\n");
  }
  const auto count = count_.load(std::memory_order_relaxed);
  out.append(name).append("_bucket{").append(prefix).append("le=\"+Inf\"} ");
  out.append(std::to_string(count)).append("\n");
  const std::string braces = labels.empty() ? "" : "{" + std::string(labels) + "}";
  out.append(name).append("_sum").append(braces).append(" ");
  out.append(number(static_cast<double>(sum_micros_.load(std::memory_order_relaxed)) / 1e6));
  out.append("\n");
  out.append(name).append("_count").append(braces).append(" ");
  out.append(std::to_string(count)).append("\n");
}

namespace {

template <class Map>
void increment(Map& series, std::string_view a, std::string_view b, std::string_view c) {
  if (auto it =
          series.find(std::tuple<std::string_view, std::string_view, std::string_view>(a, b, c));
      it != series.end()) {
    ++it->second;
    return;
  }
  series.emplace(typename Map::key_type(a, b, c), 1);
}

}  // namespace

void ServeMetrics::count_request(std::string_view method, std::string_view tool,
                                 std::string_view outcome) {
  std::lock_guard lock(mutex_);
  increment(requests_, method, tool, outcome);
}

void ServeMetrics::count_payment(std::string_view state, std::string_view network,
                                 std::string_view asset) {
  std::lock_guard lock(mutex_);
  increment(payments_, state, network, asset);
}

void ServeMetrics::add_revenue(std::string_view network, std::string_view asset,
                               std::string_view atomic) {
  auto amount = x402::parse_amount(atomic);
  if (!amount.ok())
    return;
  std::lock_guard lock(mutex_);
  std::string& total = revenue_[Key2(network, asset)];
  auto previous = x402::parse_amount(total.empty() ? "0" : total);
  total = x402::to_string((previous.ok() ? *previous : 0) + *amount);
}

void ServeMetrics::count_config_reload(bool ok) {
  std::lock_guard lock(mutex_);
  ++(ok ? reloads_ok_ : reloads_failed_);
}

void ServeMetrics::count_refused_connection(std::string_view why) {
  std::lock_guard lock(mutex_);
  ++refused_connections_[std::string(why)];
}

void ServeMetrics::count_recovered(std::string_view outcome, std::uint64_t n) {
  std::lock_guard lock(mutex_);
  recovered_[std::string(outcome)] += n;
}

std::string ServeMetrics::render(std::int64_t journal_backlog) const {
  std::string out;
  out.reserve(4096);
  std::lock_guard lock(mutex_);
  header(out, "x402_proxy_requests_total", "counter",
         "MCP requests by JSON-RPC method, tool (priced tools only) and outcome");
  for (const auto& [key, value] : requests_) {
    out.append("x402_proxy_requests_total")
        .append(prometheus_labels({{"method", std::get<0>(key)},
                                   {"tool", std::get<1>(key)},
                                   {"outcome", std::get<2>(key)}}))
        .append(" ")
        .append(std::to_string(value))
        .append("\n");
  }
  header(out, "x402_proxy_payments_total", "counter",
         "payments by state reached (verified, settled, settle_failed, upstream_failed, "
         "released, abandoned), network and asset");
  for (const auto& [key, value] : payments_) {
    out.append("x402_proxy_payments_total")
        .append(prometheus_labels({{"state", std::get<0>(key)},
                                   {"network", std::get<1>(key)},
                                   {"asset", std::get<2>(key)}}))
        .append(" ")
        .append(std::to_string(value))
        .append("\n");
  }
  header(out, "x402_proxy_revenue_atomic_total", "counter",
         "settled revenue in the asset's atomic units");
  for (const auto& [key, value] : revenue_) {
    out.append("x402_proxy_revenue_atomic_total")
        .append(prometheus_labels({{"network", key.first}, {"asset", key.second}}))
        .append(" ")
        .append(value)
        .append("\n");
  }
  header(out, "x402_proxy_facilitator_seconds", "histogram",
         "facilitator call latency by operation");
  verify_latency.render(out, "x402_proxy_facilitator_seconds", "operation=\"verify\"");
  settle_latency.render(out, "x402_proxy_facilitator_seconds", "operation=\"settle\"");
  header(out, "x402_proxy_upstream_seconds", "histogram",
         "time until the upstream's response headers arrive");
  upstream_latency.render(out, "x402_proxy_upstream_seconds", "");
  header(out, "x402_proxy_open_connections", "gauge", "client connections open now");
  out.append("x402_proxy_open_connections ")
      .append(std::to_string(open_connections.load()))
      .append("\n");
  header(out, "x402_proxy_requests_in_flight", "gauge", "HTTP requests being answered now");
  out.append("x402_proxy_requests_in_flight ")
      .append(std::to_string(requests_in_flight.load()))
      .append("\n");
  header(out, "x402_proxy_event_streams_open", "gauge",
         "GET event streams relayed from the upstream now (not counted in requests_in_flight)");
  out.append("x402_proxy_event_streams_open ")
      .append(std::to_string(event_streams_open.load()))
      .append("\n");
  header(out, "x402_proxy_journal_open_payments", "gauge",
         "payments in the journal not yet settled or closed (verified or forwarded)");
  out.append("x402_proxy_journal_open_payments ")
      .append(std::to_string(journal_backlog))
      .append("\n");
  header(out, "x402_proxy_config_reloads_total", "counter", "configuration reloads by result");
  out.append("x402_proxy_config_reloads_total{result=\"ok\"} ")
      .append(std::to_string(reloads_ok_))
      .append("\n");
  out.append("x402_proxy_config_reloads_total{result=\"failed\"} ")
      .append(std::to_string(reloads_failed_))
      .append("\n");
  header(out, "x402_proxy_refused_connections_total", "counter",
         "connections or requests refused by a limit");
  for (const auto& [why, value] : refused_connections_) {
    out.append("x402_proxy_refused_connections_total")
        .append(prometheus_labels({{"limit", why}}))
        .append(" ")
        .append(std::to_string(value))
        .append("\n");
  }
  header(out, "x402_proxy_recovered_payments_total", "counter",
         "payments left open by a previous run, resolved at start-up, by outcome");
  for (const auto& [outcome, value] : recovered_) {
    out.append("x402_proxy_recovered_payments_total")
        .append(prometheus_labels({{"outcome", outcome}}))
        .append(" ")
        .append(std::to_string(value))
        .append("\n");
  }
  return out;
}

}  // namespace x402proxy::proxy
