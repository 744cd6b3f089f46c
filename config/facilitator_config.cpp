#include "config/facilitator_config.h"

#include "config/yaml_fields.h"
#include "x402/networks.h"
#include "x402/price.h"

namespace x402proxy::config {

Result<std::string> starting_balance_atomic(const std::string& text) {
  if (auto atomic = x402::parse_amount(text); atomic.ok())
    return x402::to_string(*atomic);
  auto usd = x402::usd_price_to_atomic(text, 6);
  if (!usd.ok())
    return usd.error();
  return x402::to_string(*usd);
}

Result<std::shared_ptr<const FacilitatorServiceConfig>> parse_facilitator_config(
    const std::string& yaml_text, const std::string& source_name) {
  auto parsed = parse_yaml(yaml_text, source_name);
  if (!parsed.ok())
    return parsed.error();
  const YAML::Node root = *parsed;
  YamlFields fields(source_name);
  auto config = std::make_shared<FacilitatorServiceConfig>();
  config->source = source_name;
  if (auto s = fields.only_keys(root, "",
                                {"listen", "ledger", "starting_balance", "networks", "clock_skew",
                                 "log_level", "solana_fee_payer", "solana_rpc", "evm_signer"});
      !s.ok()) {
    return s.error();
  }
  for (auto [key, target] :
       {std::pair{"listen", &config->listen}, std::pair{"ledger", &config->ledger},
        std::pair{"log_level", &config->log_level},
        std::pair{"solana_fee_payer", &config->solana_fee_payer},
        std::pair{"evm_signer", &config->evm_signer}}) {
    if (auto node = root[key]) {
      auto v = fields.scalar(node, key, "a string");
      if (!v.ok())
        return v.error();
      *target = *v;
    }
  }
  if (auto node = root["evm_signer"]) {
    const std::string& address = config->evm_signer;
    const bool hex = address.size() == 42 && address.starts_with("0x") &&
                     address.find_first_not_of("0123456789abcdefABCDEF", 2) == std::string::npos;
    if (!hex) {
      return fields.error_at(
          node, "evm_signer",
          "expected an EVM address (0x and 40 hex digits), got " + quote_value(address));
    }
  }
  if (auto node = root["starting_balance"]) {
    auto v = fields.scalar(node, "starting_balance", "an amount like \"$5\"");
    if (!v.ok())
      return v.error();
    if (!starting_balance_atomic(*v).ok()) {
      return fields.error_at(node, "starting_balance",
                             "expected \"$5\" or atomic units, got " + quote_value(*v));
    }
    config->starting_balance = *v;
  }
  if (auto node = root["clock_skew"]) {
    auto v = fields.duration(node, "clock_skew");
    if (!v.ok())
      return v.error();
    config->clock_skew = std::chrono::duration_cast<std::chrono::seconds>(*v);
  }
  if (auto node = root["solana_rpc"]) {
    auto v = fields.boolean(node, "solana_rpc");
    if (!v.ok())
      return v.error();
    config->solana_rpc = *v;
  }
  if (auto node = root["networks"]) {
    if (!node.IsSequence())
      return fields.error_at(node, "networks", "expected a list of networks");
    for (std::size_t i = 0; i < node.size(); ++i) {
      std::string key = "networks[" + std::to_string(i) + "]";
      auto v = fields.scalar(node[i], key, "a network");
      if (!v.ok())
        return v.error();
      const x402::Network* network = x402::find_network(*v);
      if (network == nullptr)
        return fields.error_at(node[i], key, "unknown network " + quote_value(*v));
      config->networks.emplace_back(network->caip2);
    }
  }
  return std::shared_ptr<const FacilitatorServiceConfig>(config);
}

Result<std::shared_ptr<const FacilitatorServiceConfig>> load_facilitator_config(
    const std::string& path) {
  auto text = read_config_file(path);
  if (!text.ok())
    return text.error();
  return parse_facilitator_config(*text, path);
}

}  // namespace x402proxy::config
