#include "config/pay_config.h"

#include "config/yaml_fields.h"
#include "x402/price.h"

namespace x402proxy::config {
namespace {

bool is_loopback_listen(const std::string& listen) {
  const auto colon = listen.rfind(':');
  if (colon == std::string::npos)
    return false;
  const std::string host = listen.substr(0, colon);
  return host == "127.0.0.1" || host == "localhost" || host == "[::1]" || host == "::1";
}

class PayLoader {
 public:
  explicit PayLoader(std::string source) : fields_(source), config_(std::make_shared<PayConfig>()) {
    config_->source = std::move(source);
  }

  Result<std::shared_ptr<const PayConfig>> load(const YAML::Node& root) {
    if (!root.IsMap())
      return fields_.error_at(root, "(top level)", "expected a map of settings");
    if (auto s = fields_.only_keys(
            root, "",
            {"remote", "transport", "listen", "tls_verify", "request_timeout", "redeem_timeout",
             "signers", "tokens", "assets", "limits", "ledger", "log_level"});
        !s.ok()) {
      return s.error();
    }
    for (auto step : {&PayLoader::read_scalars, &PayLoader::read_signers, &PayLoader::read_tokens,
                      &PayLoader::read_assets, &PayLoader::read_limits}) {
      if (auto s = (this->*step)(root); !s.ok())
        return s.error();
    }
    return std::shared_ptr<const PayConfig>(config_);
  }

 private:
  Status read_string(const YAML::Node& root, const char* key, std::string& target,
                     const char* expected) {
    if (auto node = root[key]) {
      auto v = fields_.scalar(node, key, expected);
      if (!v.ok())
        return v.error();
      target = *v;
    }
    return ok_status();
  }

  Status read_scalars(const YAML::Node& root) {
    if (!root["remote"]) {
      return fields_.error_at(root, "remote", "is required: the paid MCP server's URL");
    }
    if (auto s = read_string(root, "remote", config_->remote, "an http(s) URL"); !s.ok())
      return s;
    if (!config_->remote.starts_with("http://") && !config_->remote.starts_with("https://")) {
      return fields_.error_at(
          root["remote"], "remote",
          "expected an http:// or https:// URL, got " + quote_value(config_->remote));
    }
    if (auto node = root["transport"]) {
      auto v = fields_.scalar(node, "transport", "streamable-http, sse or auto");
      if (!v.ok())
        return v.error();
      if (*v != "streamable-http" && *v != "sse" && *v != "auto") {
        return fields_.error_at(node, "transport",
                                "expected streamable-http, sse (the HTTP+SSE transport of MCP "
                                "2024-11-05) or auto, got " +
                                    quote_value(*v));
      }
      config_->remote_sse = *v == "sse";
      config_->remote_auto = *v == "auto";
    }
    if (auto s = read_string(root, "listen", config_->listen, "stdio or a loopback host:port");
        !s.ok()) {
      return s;
    }
    // The bridge holds the wallet: it must never be reachable from another machine.
    if (config_->listen != "stdio" && !is_loopback_listen(config_->listen)) {
      return fields_.error_at(root["listen"], "listen",
                              "expected stdio or a loopback address (127.0.0.1:PORT, [::1]:PORT), "
                              "got " +
                                  quote_value(config_->listen));
    }
    if (auto s = read_string(root, "ledger", config_->ledger, "a file path"); !s.ok())
      return s;
    if (auto s = read_string(root, "log_level", config_->log_level, "a log level"); !s.ok())
      return s;
    if (auto node = root["tls_verify"]) {
      auto v = fields_.boolean(node, "tls_verify");
      if (!v.ok())
        return v.error();
      config_->tls_verify = *v;
    }
    for (auto [key, target] : {std::pair{"request_timeout", &config_->request_timeout},
                               std::pair{"redeem_timeout", &config_->redeem_timeout}}) {
      if (auto node = root[key]) {
        auto v = fields_.duration(node, key);
        if (!v.ok())
          return v.error();
        *target = *v;
      }
    }
    return ok_status();
  }

  Status read_signers(const YAML::Node& root) {
    const YAML::Node list = root["signers"];
    if (!list || !list.IsSequence() || list.size() == 0) {
      return fields_.error_at(list ? list : root, "signers",
                              "expected a list of signers in priority order, e.g. "
                              "[{type: evm, key_file: ./buyer.key}]");
    }
    for (std::size_t i = 0; i < list.size(); ++i) {
      const YAML::Node item = list[i];
      const std::string path = "signers[" + std::to_string(i) + "]";
      if (!item.IsMap())
        return fields_.error_at(item, path, "expected a map {type, key_file | key_env, …}");
      if (auto s =
              fields_.only_keys(item, path, {"type", "key_file", "key_env", "rpc", "rpc_timeout"});
          !s.ok()) {
        return s.error();
      }
      SignerConfig signer;
      signer.line = item.Mark().line + 1;
      if (!item["type"])
        return fields_.error_at(item, path + ".type", "is required: evm or solana");
      auto type = fields_.scalar(item["type"], path + ".type", "evm or solana");
      if (!type.ok())
        return type.error();
      if (*type == "evm") {
        signer.family = x402::NetworkFamily::evm;
      } else if (*type == "solana") {
        signer.family = x402::NetworkFamily::solana;
      } else {
        return fields_.error_at(item["type"], path + ".type",
                                "expected evm or solana, got " + quote_value(*type));
      }
      for (auto [key, target] :
           {std::pair{"key_file", &signer.key_file}, std::pair{"key_env", &signer.key_env},
            std::pair{"rpc", &signer.rpc}}) {
        if (auto node = item[key]) {
          auto v = fields_.scalar(node, path + "." + key, "a string");
          if (!v.ok())
            return v.error();
          *target = *v;
        }
      }
      if (signer.key_file.empty() == signer.key_env.empty()) {
        return fields_.error_at(item, path,
                                "expected exactly one of key_file (a path) or key_env (the name "
                                "of an environment variable)");
      }
      if (signer.family == x402::NetworkFamily::solana && signer.rpc.empty()) {
        return fields_.error_at(item, path + ".rpc",
                                "is required for a solana signer: the JSON-RPC URL that gives the "
                                "recent blockhash and the mint's decimals");
      }
      if (auto node = item["rpc_timeout"]) {
        auto v = fields_.duration(node, path + ".rpc_timeout");
        if (!v.ok())
          return v.error();
        signer.rpc_timeout = *v;
      }
      config_->signers.push_back(std::move(signer));
    }
    return ok_status();
  }

  Status read_tokens(const YAML::Node& root) {
    const YAML::Node list = root["tokens"];
    if (!list)
      return ok_status();
    if (!list.IsSequence())
      return fields_.error_at(list, "tokens", "expected a list like [USDC]");
    for (std::size_t i = 0; i < list.size(); ++i) {
      auto v =
          fields_.scalar(list[i], "tokens[" + std::to_string(i) + "]", "a token symbol or address");
      if (!v.ok())
        return v.error();
      config_->tokens.push_back(*v);
    }
    return ok_status();
  }

  Status read_assets(const YAML::Node& root) {
    const YAML::Node list = root["assets"];
    if (!list)
      return ok_status();
    if (!list.IsSequence()) {
      return fields_.error_at(list, "assets",
                              "expected a list of {network, address, symbol, decimals}");
    }
    for (std::size_t i = 0; i < list.size(); ++i) {
      const std::string key = "assets[" + std::to_string(i) + "]";
      const YAML::Node& entry = list[i];
      if (auto s = fields_.only_keys(entry, key, {"network", "address", "symbol", "decimals"});
          !s.ok())
        return s;
      for (const char* field : {"network", "address", "symbol", "decimals"}) {
        if (!entry[field])
          return fields_.error_at(entry, key + "." + field, "missing");
      }
      auto network_name = fields_.scalar(entry["network"], key + ".network", "a CAIP-2 id");
      if (!network_name.ok())
        return network_name.error();
      auto network = x402::describe_network(*network_name);
      if (!network) {
        return fields_.error_at(entry["network"], key + ".network",
                                "expected a v1 name or a CAIP-2 id like eip155:31337, got " +
                                    quote_value(*network_name));
      }
      auto address = fields_.scalar(entry["address"], key + ".address", "a token address");
      if (!address.ok())
        return address.error();
      const bool evm = network->family == x402::NetworkFamily::evm;
      const bool well_formed =
          evm ? address->size() == 42 && address->starts_with("0x") &&
                    address->find_first_not_of("0123456789abcdefABCDEF", 2) == std::string::npos
              : address->size() >= 32 && address->size() <= 44 &&
                    address->find_first_not_of(
                        "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz") ==
                        std::string::npos;
      if (!well_formed) {
        return fields_.error_at(entry["address"], key + ".address",
                                std::string("expected ") +
                                    (evm ? "0x and 40 hex digits" : "a base58 mint address") +
                                    ", got " + quote_value(*address));
      }
      auto symbol = fields_.scalar(entry["symbol"], key + ".symbol", "a token symbol");
      if (!symbol.ok())
        return symbol.error();
      auto decimals = fields_.unsigned_integer(entry["decimals"], key + ".decimals");
      if (!decimals.ok())
        return decimals.error();
      if (*decimals > 36)
        return fields_.error_at(entry["decimals"], key + ".decimals", "expected 0 to 36");
      x402::AssetInfo asset;
      asset.network = network->caip2;
      asset.address = *address;
      asset.symbol = *symbol;
      asset.decimals = static_cast<unsigned>(*decimals);
      config_->assets.push_back(std::move(asset));
    }
    return ok_status();
  }

  Result<x402::Amount> dollars(const YAML::Node& node, const std::string& key) {
    auto text = fields_.scalar(node, key, "a dollar amount like \"$0.05\"");
    if (!text.ok())
      return text.error();
    auto amount = x402::usd_price_to_atomic(*text, 6, "a limit");
    if (!amount.ok()) {
      return fields_.error_at(node, key,
                              "expected a dollar amount like \"$0.05\", got " + quote_value(*text) +
                                  " (" + amount.error().message + ")");
    }
    return *amount;
  }

  Status read_limits(const YAML::Node& root) {
    const YAML::Node limits = root["limits"];
    if (!limits)
      return ok_status();
    if (!limits.IsMap())
      return fields_.error_at(limits, "limits", "expected a map {per_call, per_tool, per_day, …}");
    if (auto s = fields_.only_keys(limits, "limits",
                                   {"per_call", "per_tool", "per_day", "payees", "networks"});
        !s.ok()) {
      return s.error();
    }
    PayLimitsConfig& out = config_->limits;
    for (auto [key, target] :
         {std::pair{"per_call", &out.per_call}, std::pair{"per_day", &out.per_day}}) {
      if (auto node = limits[key]) {
        auto v = dollars(node, std::string("limits.") + key);
        if (!v.ok())
          return v.error();
        *target = *v;
      }
    }
    if (auto node = limits["per_tool"]) {
      if (!node.IsMap())
        return fields_.error_at(node, "limits.per_tool", "expected a map {tool: \"$1\"}");
      for (const auto& item : node) {
        // Scalar() via fields_, not as<std::string>(): a non-scalar key must be an error value,
        // not a yaml-cpp exception thrown out of the loader.
        auto tool = fields_.scalar(item.first, "limits.per_tool", "a tool name");
        if (!tool.ok())
          return tool.error();
        auto v = dollars(item.second, "limits.per_tool." + *tool);
        if (!v.ok())
          return v.error();
        out.per_tool[*tool] = *v;
      }
    }
    for (auto [key, target] :
         {std::pair{"payees", &out.payees}, std::pair{"networks", &out.networks}}) {
      const YAML::Node list = limits[key];
      if (!list)
        continue;
      const std::string path = std::string("limits.") + key;
      if (!list.IsSequence())
        return fields_.error_at(list, path, "expected a list");
      for (std::size_t i = 0; i < list.size(); ++i) {
        auto v = fields_.scalar(list[i], path + "[" + std::to_string(i) + "]", "a string");
        if (!v.ok())
          return v.error();
        std::string value = *v;
        if (target == &out.networks) {
          value = x402::to_caip2(*v);
          if (value.empty()) {
            return fields_.error_at(list[i], path,
                                    "unknown network " + quote_value(*v) +
                                        " (use a CAIP-2 id like eip155:84532 or a known name "
                                        "like base-sepolia)");
          }
        }
        target->push_back(std::move(value));
      }
    }
    return ok_status();
  }

  YamlFields fields_;
  std::shared_ptr<PayConfig> config_;
};

}  // namespace

Result<std::shared_ptr<const PayConfig>> parse_pay_config(const std::string& yaml_text,
                                                          const std::string& source_name) {
  auto parsed = parse_yaml(yaml_text, source_name);
  if (!parsed.ok())
    return parsed.error();
  const YAML::Node root = *parsed;
  return PayLoader(source_name).load(root);
}

Result<std::shared_ptr<const PayConfig>> load_pay_config(const std::string& path) {
  auto text = read_config_file(path);
  if (!text.ok())
    return text.error();
  return parse_pay_config(*text, path);
}

}  // namespace x402proxy::config
