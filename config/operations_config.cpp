#include "config/operations_config.h"

namespace x402proxy::config {

namespace {

Status read_admin(const YamlFields& fields, const YAML::Node& node, AdminConfig& out) {
  if (auto s = fields.only_keys(node, "admin", {"listen", "token_env", "token_file"}); !s.ok())
    return s;
  for (auto [key, target] :
       {std::pair{"listen", &out.listen}, std::pair{"token_env", &out.token_env},
        std::pair{"token_file", &out.token_file}}) {
    if (auto value = node[key]) {
      auto v = fields.scalar(value, std::string("admin.") + key, "a string");
      if (!v.ok())
        return v.error();
      *target = *v;
    }
  }
  if (!out.listen.empty() && out.listen.rfind(':') == std::string::npos) {
    return fields.error_at(node["listen"], "admin.listen",
                           "expected host:port, got " + quote_value(out.listen));
  }
  if (!out.token_env.empty() && !out.token_file.empty()) {
    return fields.error_at(node, "admin", "expected one of token_env or token_file, not both");
  }
  return ok_status();
}

Status read_limits(const YamlFields& fields, const YAML::Node& node, ConnectionLimits& out) {
  if (auto s = fields.only_keys(
          node, "limits",
          {"max_connections", "rate_per_ip", "burst", "idle_timeout", "header_limit"});
      !s.ok()) {
    return s;
  }
  if (auto value = node["max_connections"]) {
    auto v = fields.unsigned_integer(value, "limits.max_connections");
    if (!v.ok())
      return v.error();
    if (*v == 0)
      return fields.error_at(value, "limits.max_connections", "expected at least 1");
    out.max_connections = *v;
  }
  for (auto [key, target] :
       {std::pair{"rate_per_ip", &out.rate_per_ip}, std::pair{"burst", &out.burst}}) {
    if (auto value = node[key]) {
      auto v = fields.unsigned_integer(value, std::string("limits.") + key);
      if (!v.ok())
        return v.error();
      *target = *v;
    }
  }
  if (auto value = node["idle_timeout"]) {
    auto v = fields.duration(value, "limits.idle_timeout");
    if (!v.ok())
      return v.error();
    out.idle_timeout = *v;
  }
  if (auto value = node["header_limit"]) {
    auto v = fields.byte_size(value, "limits.header_limit");
    if (!v.ok())
      return v.error();
    if (*v < 1024)
      return fields.error_at(value, "limits.header_limit", "expected at least 1KiB");
    out.header_limit = *v;
  }
  return ok_status();
}

}  // namespace

Status read_operations_config(const YamlFields& fields, const YAML::Node& root,
                              OperationsConfig& out) {
  if (auto node = root["admin"]) {
    if (auto s = read_admin(fields, node, out.admin); !s.ok())
      return s;
  }
  if (auto node = root["limits"]) {
    if (auto s = read_limits(fields, node, out.limits); !s.ok())
      return s;
  }
  if (auto node = root["shutdown_grace"]) {
    auto v = fields.duration(node, "shutdown_grace");
    if (!v.ok())
      return v.error();
    out.shutdown_grace = *v;
  }
  return ok_status();
}

}  // namespace x402proxy::config
