// What serve counts, declared in one place (as Envoy declares a component's stats) and rendered in
// the Prometheus text exposition format (version 0.0.4) for GET /metrics. Thread-safe: counters
// are updated from every I/O thread. Label values come only from bounded sets (the JSON-RPC
// method of known MCP methods, priced tool names, payment states, configured networks and assets)
// so that no client can grow the series without bound.
#pragma once

#include <array>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <string_view>
#include <tuple>

namespace x402proxy::proxy {

// A latency histogram with fixed buckets (seconds).
class LatencyHistogram {
 public:
  static constexpr std::array<double, 12> kBuckets = {0.001, 0.0025, 0.005, 0.01, 0.025, 0.05,
                                                      0.1,   0.25,   0.5,   1,    2.5,   5};
  void observe(std::chrono::steady_clock::duration elapsed);
  void render(std::string& out, std::string_view name, std::string_view labels) const;

 private:
  std::array<std::atomic<std::uint64_t>, kBuckets.size()> counts_{};  // cumulative per bucket
  std::atomic<std::uint64_t> count_{0};
  std::atomic<std::uint64_t> sum_micros_{0};
};

class ServeMetrics {
 public:
  // requests by JSON-RPC method (or HTTP verb for GET/DELETE), tool and outcome
  void count_request(std::string_view method, std::string_view tool, std::string_view outcome);
  // payments by journal state, network and asset
  void count_payment(std::string_view state, std::string_view network, std::string_view asset);
  // settled revenue in atomic units (kept as a decimal string sum per asset: uint256 range)
  void add_revenue(std::string_view network, std::string_view asset, std::string_view atomic);
  void count_config_reload(bool ok);
  void count_refused_connection(std::string_view why);  // "max_connections", "rate_limit"
  // payments a previous run left open, resolved at start-up: settled, settle_failed, abandoned,
  // left_open
  void count_recovered(std::string_view outcome, std::uint64_t n);

  LatencyHistogram verify_latency;
  LatencyHistogram settle_latency;
  LatencyHistogram upstream_latency;  // until the upstream's response headers arrive
  std::atomic<std::int64_t> open_connections{0};
  std::atomic<std::int64_t> requests_in_flight{0};  // what draining waits for
  // GET event streams open now: they last as long as the session, so draining ends them rather
  // than waiting for them (they are not in requests_in_flight).
  std::atomic<std::int64_t> event_streams_open{0};

  // `journal_backlog` is read at scrape time (open rows of the payment journal; -1 if unknown).
  std::string render(std::int64_t journal_backlog) const;

 private:
  using Key3 = std::tuple<std::string, std::string, std::string>;
  using Key2 = std::pair<std::string, std::string>;
  mutable std::mutex mutex_;
  // Transparent comparators: the common case (a series that exists) is found with string_view keys,
  // so counting a free call allocates nothing.
  std::map<Key3, std::uint64_t, std::less<>> requests_;
  std::map<Key3, std::uint64_t, std::less<>> payments_;
  std::map<Key2, std::string> revenue_;  // decimal strings
  std::map<std::string, std::uint64_t> refused_connections_;
  std::map<std::string, std::uint64_t> recovered_;
  std::uint64_t reloads_ok_ = 0;
  std::uint64_t reloads_failed_ = 0;
};

// The label set of one series: {a="x",b="y"} with values escaped per the exposition format.
std::string prometheus_labels(
    std::initializer_list<std::pair<std::string_view, std::string_view>> labels);

}  // namespace x402proxy::proxy
