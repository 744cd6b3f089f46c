#include "config/payment_config.h"

#include "x402/price.h"

namespace x402proxy::config {

bool is_evm_address(std::string_view text) {
  if (text.size() != 42 || !text.starts_with("0x"))
    return false;
  return text.substr(2).find_first_not_of("0123456789abcdefABCDEF") == std::string_view::npos;
}

bool is_solana_address(std::string_view text) {
  constexpr std::string_view alphabet =
      "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz";
  return text.size() >= 32 && text.size() <= 44 &&
         text.find_first_not_of(alphabet) == std::string_view::npos;
}

namespace {

const char* family_key(x402::NetworkFamily family) {
  return family == x402::NetworkFamily::evm ? "eip155" : "solana";
}

// One serve config's payment sections, written into `config_` (ServeConfig's Loader does the
// rest of the file).
class PaymentLoader {
 public:
  PaymentLoader(YamlFields& fields, ServeConfig& config) : fields_(fields), config_(&config) {}

  Status load(const YAML::Node& root) {
    for (auto step : {&PaymentLoader::read_pay_to, &PaymentLoader::read_accept,
                      &PaymentLoader::read_rpc, &PaymentLoader::read_tools}) {
      if (auto s = (this->*step)(root); !s.ok())
        return s.error();
    }
    return ok_status();
  }

 private:
  Status read_pay_to(const YAML::Node& root) {
    YAML::Node node = root["pay_to"];
    if (!node)
      return fields_.error_at(root, "pay_to", "missing: the address that receives payments");
    if (auto s = fields_.only_keys(node, "pay_to", {"eip155", "solana"}); !s.ok())
      return s;
    for (const auto& item : node) {
      std::string family = item.first.Scalar();
      auto v = fields_.scalar(item.second, "pay_to." + family, "an address");
      if (!v.ok())
        return v.error();
      bool valid = family == "eip155" ? is_evm_address(*v) : is_solana_address(*v);
      if (!valid) {
        return fields_.error_at(item.second, "pay_to." + family,
                                family == "eip155"
                                    ? "expected 0x and 40 hex digits, got " + quote_value(*v)
                                    : "expected a base58 Solana address, got " + quote_value(*v));
      }
      config_->pay_to[family] = *v;
    }
    return ok_status();
  }

  Status read_accept(const YAML::Node& root) {
    YAML::Node node = root["accept"];
    if (!node || !node.IsSequence() || node.size() == 0) {
      return fields_.error_at(node ? node : root, "accept",
                              "expected a list of {network, asset} in preference order");
    }
    for (std::size_t i = 0; i < node.size(); ++i) {
      std::string key = "accept[" + std::to_string(i) + "]";
      const YAML::Node& entry = node[i];
      if (auto s = fields_.only_keys(entry, key,
                                     {"network", "asset", "symbol", "decimals", "name", "version"});
          !s.ok())
        return s;
      if (!entry["network"] || !entry["asset"]) {
        return fields_.error_at(entry, key, "expected both network and asset");
      }
      auto network_name = fields_.scalar(entry["network"], key + ".network", "a network name");
      if (!network_name.ok())
        return network_name.error();
      auto network = x402::describe_network(*network_name);
      if (!network) {
        return fields_.error_at(entry["network"], key + ".network",
                                "unknown network " + quote_value(*network_name) +
                                    "; expected a v1 name like base-sepolia or a CAIP-2 id like "
                                    "eip155:31337 or solana:<genesis hash prefix>");
      }
      auto asset_name =
          fields_.scalar(entry["asset"], key + ".asset", "an asset symbol or address");
      if (!asset_name.ok())
        return asset_name.error();
      auto asset = read_asset(entry, key, *network, *asset_name);
      if (!asset.ok())
        return asset.error();
      const char* family = family_key(network->family);
      auto pay_to = config_->pay_to.find(family);
      if (pay_to == config_->pay_to.end()) {
        return fields_.error_at(entry, key,
                                std::string("no pay_to.") + family +
                                    " address to receive payments on " + network->caip2);
      }
      config_->accept.push_back(AcceptedAsset{*network, std::move(asset).value(), pay_to->second});
    }
    return ok_status();
  }

  Status read_rpc(const YAML::Node& root) {
    YAML::Node node = root["rpc"];
    if (!node)
      return ok_status();
    if (!node.IsMap()) {
      return fields_.error_at(node, "rpc",
                              "expected a map of network to JSON-RPC URL, e.g. "
                              "{ \"eip155:84532\": https://sepolia.base.org }");
    }
    for (const auto& item : node) {
      auto name = fields_.scalar(item.first, "rpc", "a network");
      if (!name.ok())
        return name.error();
      auto network = x402::describe_network(*name);
      if (!network) {
        return fields_.error_at(
            item.first, "rpc." + *name,
            "unknown network " + quote_value(*name) + "; expected a v1 name or a CAIP-2 id");
      }
      auto url = fields_.scalar(item.second, "rpc." + *name, "an http(s):// URL");
      if (!url.ok())
        return url.error();
      if (!url->starts_with("http://") && !url->starts_with("https://")) {
        return fields_.error_at(item.second, "rpc." + *name,
                                "expected an http(s):// URL, got " + quote_value(*url));
      }
      config_->rpc[network->caip2] = *url;
    }
    return ok_status();
  }

  // The token: the registry's, with the entry's own keys over it; a token the registry does not
  // know needs its address and decimals (and, on EVM, the EIP-712 name and version its
  // signatures use: x402 exact EVM extra.name / extra.version).
  Result<x402::AssetInfo> read_asset(const YAML::Node& entry, const std::string& key,
                                     const x402::NetworkInfo& network, const std::string& name) {
    std::optional<x402::AssetInfo> known = x402::builtin_asset(network.caip2, name);
    x402::AssetInfo asset;
    if (known) {
      asset = *known;
    } else {
      const bool evm = network.family == x402::NetworkFamily::evm;
      if (evm ? !is_evm_address(name) : !is_solana_address(name)) {
        return fields_.error_at(
            entry["asset"], key + ".asset",
            "unknown asset " + quote_value(name) + " on " + network.caip2 +
                (evm ? "; expected a built-in symbol or a token address (0x and 40 hex digits)"
                     : "; expected a built-in symbol or an SPL mint address"));
      }
      asset.network = network.caip2;
      asset.address = name;
      asset.symbol = name;
    }
    if (auto node = entry["symbol"]) {
      auto v = fields_.scalar(node, key + ".symbol", "a token symbol");
      if (!v.ok())
        return v.error();
      asset.symbol = *v;
    }
    if (auto node = entry["decimals"]) {
      auto v = fields_.unsigned_integer(node, key + ".decimals");
      if (!v.ok())
        return v.error();
      if (*v > 36)
        return fields_.error_at(node, key + ".decimals", "expected 0 to 36");
      asset.decimals = static_cast<unsigned>(*v);
    } else if (!known) {
      return fields_.error_at(entry, key + ".decimals",
                              "missing: a token the registry does not know needs its decimals");
    }
    for (auto [field, target] :
         {std::pair{"name", &asset.eip712_name}, std::pair{"version", &asset.eip712_version}}) {
      if (auto node = entry[field]) {
        auto v = fields_.scalar(node, key + "." + field, "text");
        if (!v.ok())
          return v.error();
        *target = *v;
      }
    }
    if (network.family == x402::NetworkFamily::evm &&
        (asset.eip712_name.empty() || asset.eip712_version.empty())) {
      return fields_.error_at(entry, key,
                              "an EIP-3009 token needs its EIP-712 domain: set name and version "
                              "as the token's name() and version() return them");
    }
    return asset;
  }

  Result<PriceSpec> read_price(const YAML::Node& node, const std::string& key) {
    constexpr const char* expected =
        "a price like \"$0.001\", \"free\", {price, description} or {amount, asset}";
    PriceSpec spec;
    spec.line = node.Mark().line + 1;
    if (node.IsScalar()) {
      if (node.Scalar() == "free")
        return spec;
      auto atomic = x402::usd_price_to_atomic(node.Scalar(), 6);
      if (!atomic.ok()) {
        return fields_.error_at(node, key,
                                std::string("expected ") + expected + ", got " +
                                    quote_value(node.Scalar()) + " (" + atomic.error().message +
                                    ")");
      }
      spec.free = false;
      spec.usd = node.Scalar();
      return spec;
    }
    if (!node.IsMap())
      return fields_.error_at(node, key, std::string("expected ") + expected);
    if (auto s = fields_.only_keys(
            node, key, {"price", "description", "amount", "asset", "settle", "charge_tool_errors"});
        !s.ok()) {
      return s.error();
    }
    if (auto d = node["description"]) {
      auto v = fields_.scalar(d, key + ".description", "text");
      if (!v.ok())
        return v.error();
      spec.description = *v;
    }
    if (auto settle = node["settle"]) {
      auto v = fields_.scalar(settle, key + ".settle", "after or before");
      if (!v.ok())
        return v.error();
      if (*v != "after" && *v != "before") {
        return fields_.error_at(settle, key + ".settle",
                                "expected after (settle once the tool answered) or before "
                                "(settle first), got " +
                                    quote_value(*v));
      }
      spec.settle_before = *v == "before";
    }
    if (auto charge = node["charge_tool_errors"]) {
      auto v = fields_.boolean(charge, key + ".charge_tool_errors");
      if (!v.ok())
        return v.error();
      spec.charge_tool_errors = *v;
      if (spec.settle_before && !spec.charge_tool_errors) {
        return fields_.error_at(charge, key + ".charge_tool_errors",
                                "false cannot apply with settle: before: the payment is settled "
                                "before the tool runs");
      }
    }
    if (auto p = node["price"]) {
      auto inner = read_price(p, key + ".price");
      if (!inner.ok())
        return inner.error();
      inner->description = spec.description;
      inner->settle_before = spec.settle_before;
      inner->charge_tool_errors = spec.charge_tool_errors;
      return inner;
    }
    if (!node["amount"] || !node["asset"]) {
      return fields_.error_at(node, key, "expected price, or both amount and asset");
    }
    auto amount_text =
        fields_.scalar(node["amount"], key + ".amount", "atomic units like \"1000\"");
    if (!amount_text.ok())
      return amount_text.error();
    auto amount = x402::parse_amount(*amount_text);
    if (!amount.ok() || *amount == 0) {
      return fields_.error_at(
          node["amount"], key + ".amount",
          "expected a positive whole number of atomic units, got " + quote_value(*amount_text));
    }
    auto asset = fields_.scalar(node["asset"], key + ".asset", "an asset symbol or address");
    if (!asset.ok())
      return asset.error();
    bool accepted = false;
    for (const auto& a : config_->accept)
      accepted = accepted || accepted_asset_named(a, *asset);
    if (!accepted) {
      return fields_.error_at(node["asset"], key + ".asset",
                              "asset " + quote_value(*asset) + " is not in the accept list");
    }
    spec.free = false;
    spec.atomic = *amount;
    spec.asset = *asset;
    return spec;
  }

  Status read_tools(const YAML::Node& root) {
    if (auto node = root["tools"]) {
      if (!node.IsMap() && !(node.IsSequence() && node.size() == 0)) {
        return fields_.error_at(node, "tools", "expected a map of tool name to price");
      }
      if (node.IsMap()) {
        for (const auto& item : node) {
          std::string name = item.first.Scalar();
          auto spec = read_price(item.second, "tools." + name);
          if (!spec.ok())
            return spec.error();
          config_->tools[name] = std::move(spec).value();
        }
      }
    }
    if (auto node = root["default"]) {
      auto spec = read_price(node, "default");
      if (!spec.ok())
        return spec.error();
      config_->default_price = std::move(spec).value();
    }
    return ok_status();
  }

  YamlFields& fields_;
  ServeConfig* config_;
};

}  // namespace

Status read_payment_config(YamlFields& fields, const YAML::Node& root, ServeConfig& config) {
  return PaymentLoader(fields, config).load(root);
}

}  // namespace x402proxy::config
