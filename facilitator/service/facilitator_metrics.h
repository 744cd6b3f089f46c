// What the facilitator service counts, rendered in the Prometheus text exposition format (0.0.4)
// for GET /metrics, as serve's /metrics does (proxy/operations/metrics.h; that one lives in the
// proxy library, which depends on this one, so the few lines of rendering are repeated here).
// Thread-safe: updated from every I/O thread. Label values come only from bounded sets (the
// operation, the outcome, the registry's networks and assets, the reason names of
// rules/reason_names.h; anything else is "other"), so no client can grow the series.
#pragma once

#include <array>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <string_view>
#include <tuple>

namespace x402proxy::facilitator {

class FacilitatorMetrics {
 public:
  // One /verify or /settle answered: operation "verify" | "settle"; outcome "valid", "invalid",
  // "settled", "refused", "error" (no x402 answer: 500) or "bad_request" (400); reason "" unless
  // refused or invalid.
  void count_call(std::string_view operation, std::string_view outcome, std::string_view network,
                  std::string_view reason, std::chrono::steady_clock::duration elapsed);
  // A successful settlement's amount, in the asset's atomic units.
  void add_settled(std::string_view network, std::string_view asset, std::string_view atomic);
  // Any HTTP request, by route ("/verify", "/settle", "/supported", "/solana-rpc", "/metrics" or
  // "other") and status.
  void count_http(std::string_view path, unsigned status);

  std::string render() const;

  // The label value for a network / asset / reason: itself when it is in the bounded set.
  static std::string_view bounded_network(std::string_view network);
  static std::string_view bounded_asset(std::string_view network, std::string_view asset);
  static std::string_view bounded_reason(std::string_view reason);

 private:
  static constexpr std::array<double, 10> kBuckets = {0.0005, 0.001, 0.0025, 0.005, 0.01,
                                                      0.025,  0.05,  0.1,    0.25,  1};
  struct Histogram {
    std::array<std::uint64_t, kBuckets.size()> cumulative{};
    std::uint64_t count = 0;
    double sum_seconds = 0;
  };
  using Key4 = std::tuple<std::string, std::string, std::string, std::string>;
  mutable std::mutex mutex_;
  std::map<Key4, std::uint64_t> calls_;  // operation, outcome, network, reason
  std::map<std::pair<std::string, std::string>, std::string> settled_;  // decimal sums
  std::map<std::pair<std::string, unsigned>, std::uint64_t> http_;
  std::map<std::string, Histogram> latency_;  // by operation
};

}  // namespace x402proxy::facilitator
