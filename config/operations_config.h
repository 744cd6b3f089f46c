// The operations part of the serve config: the admin endpoints, connection limits and timeouts,
// and the shutdown grace period. Kept apart from the price list because an operator tunes these
// for the deployment, not for the product; each has a default that is safe to run with.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <string>

#include <yaml-cpp/yaml.h>

#include "config/yaml_fields.h"
#include "x402/result.h"

namespace x402proxy::config {

struct AdminConfig {
  std::string listen;      // a separate host:port for /metrics, /readyz, /admin/reload; "" = main
  std::string token_env;   // environment variable holding the bearer token for /admin/reload
  std::string token_file;  // or a file holding it (a mounted secret)
};

struct ConnectionLimits {
  std::size_t max_connections = 10000;  // open client connections; over it: 503 and close
  std::uint64_t rate_per_ip = 0;        // requests per second per client IP; 0 = no limit
  std::uint64_t burst = 0;              // bucket size for rate_per_ip; 0 = 2 × rate
  std::chrono::milliseconds idle_timeout{std::chrono::seconds(60)};  // idle keep-alive
  std::size_t header_limit = 16 * 1024;                              // 431 above it
};

struct OperationsConfig {
  AdminConfig admin;
  ConnectionLimits limits;
  std::chrono::milliseconds shutdown_grace{std::chrono::seconds(30)};  // SIGTERM: finish calls
};

// Reads `admin`, `limits` and `shutdown_grace` from the top level of a serve config.
Status read_operations_config(const YamlFields& fields, const YAML::Node& root,
                              OperationsConfig& out);

}  // namespace x402proxy::config
