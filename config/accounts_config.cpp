#include "config/accounts_config.h"

namespace x402proxy::config {

namespace {

Status read_strings(const YamlFields& fields, const YAML::Node& node, const std::string& path,
                    std::initializer_list<std::pair<const char*, std::string*>> targets) {
  for (auto [key, target] : targets) {
    if (auto value = node[key]) {
      auto v = fields.scalar(value, path + "." + key, "a string");
      if (!v.ok())
        return v.error();
      *target = *v;
    }
  }
  return ok_status();
}

Status read_jwt(const YamlFields& fields, const YAML::Node& node, JwtConfig& out) {
  if (auto s = fields.only_keys(node, "accounts.jwt",
                                {"hs256_secret_env", "public_key_pem", "jwks_file", "jwks_url",
                                 "issuer", "audience", "account_claim", "clock_skew"});
      !s.ok()) {
    return s;
  }
  if (auto s = read_strings(fields, node, "accounts.jwt",
                            {{"hs256_secret_env", &out.hs256_secret_env},
                             {"public_key_pem", &out.public_key_pem},
                             {"jwks_file", &out.jwks_file},
                             {"jwks_url", &out.jwks_url},
                             {"issuer", &out.issuer},
                             {"audience", &out.audience},
                             {"account_claim", &out.account_claim}});
      !s.ok()) {
    return s;
  }
  if (auto value = node["clock_skew"]) {
    auto v = fields.duration(value, "accounts.jwt.clock_skew");
    if (!v.ok())
      return v.error();
    out.clock_skew = std::chrono::duration_cast<std::chrono::seconds>(*v);
  }
  const int sources = !out.hs256_secret_env.empty() + !out.public_key_pem.empty() +
                      !out.jwks_file.empty() + !out.jwks_url.empty();
  if (sources != 1) {
    return fields.error_at(node, "accounts.jwt",
                           "expected exactly one key source: hs256_secret_env, public_key_pem, "
                           "jwks_file or jwks_url");
  }
  return ok_status();
}

}  // namespace

Status read_accounts_config(const YamlFields& fields, const YAML::Node& root, AccountsConfig& out) {
  const YAML::Node node = root["accounts"];
  if (!node)
    return ok_status();
  if (auto s = fields.only_keys(node, "accounts",
                                {"ledger", "asset", "jwt", "billing_tools", "describe_prices"});
      !s.ok()) {
    return s;
  }
  out.enabled = true;
  if (auto s =
          read_strings(fields, node, "accounts", {{"ledger", &out.ledger}, {"asset", &out.asset}});
      !s.ok()) {
    return s;
  }
  if (auto jwt = node["jwt"]) {
    if (auto s = read_jwt(fields, jwt, out.jwt); !s.ok())
      return s;
  }
  if (auto tools = node["billing_tools"]) {
    if (auto s = fields.only_keys(tools, "accounts.billing_tools", {"balance", "topup", "history"});
        !s.ok()) {
      return s;
    }
    if (auto s = read_strings(fields, tools, "accounts.billing_tools",
                              {{"balance", &out.balance_tool},
                               {"topup", &out.topup_tool},
                               {"history", &out.history_tool}});
        !s.ok()) {
      return s;
    }
  }
  if (auto value = node["describe_prices"]) {
    auto v = fields.boolean(value, "accounts.describe_prices");
    if (!v.ok())
      return v.error();
    out.describe_prices = *v;
  }
  return ok_status();
}

}  // namespace x402proxy::config
