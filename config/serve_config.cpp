#include "config/serve_config.h"

#include <cctype>

#include "config/yaml_fields.h"
#include "x402/price.h"

namespace x402proxy::config {
namespace {

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

}  // namespace

bool accepted_asset_named(const AcceptedAsset& accepted, std::string_view symbol_or_address) {
  auto lower = [](std::string_view text) {
    std::string out(text);
    for (char& c : out)
      c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return out;
  };
  if (lower(accepted.asset.symbol) == lower(symbol_or_address))
    return true;
  // EVM addresses compare case-insensitively; Solana's base58 is case-sensitive.
  return accepted.network.family == x402::NetworkFamily::evm
             ? lower(accepted.asset.address) == lower(symbol_or_address)
             : accepted.asset.address == symbol_or_address;
}

namespace {

const char* family_key(x402::NetworkFamily family) {
  return family == x402::NetworkFamily::evm ? "eip155" : "solana";
}

class Loader {
 public:
  Loader(std::string source) : fields_(source), config_(std::make_shared<ServeConfig>()) {
    config_->source = std::move(source);
  }

  Result<std::shared_ptr<const ServeConfig>> load(const YAML::Node& root) {
    if (!root.IsMap())
      return fields_.error_at(root, "(top level)", "expected a map of settings");
    if (auto s = fields_.only_keys(
            root, "",
            {"listen", "upstream", "facilitator", "pay_to", "accept", "tools", "default",
             "body_limit", "read_timeout", "max_timeout_seconds", "clock_skew", "journal",
             "log_level", "threads", "admin", "limits", "shutdown_grace", "accounts", "rpc"});
        !s.ok()) {
      return s.error();
    }
    if (auto s = read_operations_config(fields_, root, config_->operations); !s.ok())
      return s.error();
    if (auto s = read_accounts_config(fields_, root, config_->accounts); !s.ok())
      return s.error();
    for (auto step :
         {&Loader::read_scalars, &Loader::read_upstream, &Loader::read_facilitator,
          &Loader::read_pay_to, &Loader::read_accept, &Loader::read_rpc, &Loader::read_tools}) {
      if (auto s = (this->*step)(root); !s.ok())
        return s.error();
    }
    return std::shared_ptr<const ServeConfig>(config_);
  }

 private:
  Status read_scalars(const YAML::Node& root) {
    if (auto node = root["listen"]) {
      auto v = fields_.scalar(node, "listen", "host:port");
      if (!v.ok())
        return v.error();
      if (v->rfind(':') == std::string::npos) {
        return fields_.error_at(node, "listen", "expected host:port, got " + quote_value(*v));
      }
      config_->listen = *v;
    }
    if (auto node = root["body_limit"]) {
      auto v = fields_.byte_size(node, "body_limit");
      if (!v.ok())
        return v.error();
      config_->body_limit = *v;
    }
    if (auto node = root["read_timeout"]) {
      auto v = fields_.duration(node, "read_timeout");
      if (!v.ok())
        return v.error();
      config_->read_timeout = *v;
    }
    if (auto node = root["max_timeout_seconds"]) {
      auto v = fields_.unsigned_integer(node, "max_timeout_seconds");
      if (!v.ok())
        return v.error();
      if (*v == 0 || *v > 86400) {
        return fields_.error_at(node, "max_timeout_seconds", "expected 1 to 86400 seconds");
      }
      config_->max_timeout_seconds = *v;
    }
    if (auto node = root["clock_skew"]) {
      auto v = fields_.duration(node, "clock_skew");
      if (!v.ok())
        return v.error();
      config_->clock_skew = std::chrono::duration_cast<std::chrono::seconds>(*v);
    }
    if (auto node = root["journal"]) {
      auto v = fields_.scalar(node, "journal", "a file path");
      if (!v.ok())
        return v.error();
      config_->journal = *v;
    }
    if (auto node = root["log_level"]) {
      auto v = fields_.scalar(node, "log_level", "trace, debug, info, warn or error");
      if (!v.ok())
        return v.error();
      if (*v != "trace" && *v != "debug" && *v != "info" && *v != "warn" && *v != "error") {
        return fields_.error_at(
            node, "log_level",
            "expected trace, debug, info, warn or error, got " + quote_value(*v));
      }
      config_->log_level = *v;
    }
    if (auto node = root["threads"]) {
      auto v = fields_.unsigned_integer(node, "threads");
      if (!v.ok())
        return v.error();
      if (*v > 256)
        return fields_.error_at(node, "threads", "expected 0 (auto) to 256");
      config_->threads = static_cast<unsigned>(*v);
    }
    return ok_status();
  }

  Status read_upstream(const YAML::Node& root) {
    YAML::Node node = root["upstream"];
    if (!node)
      return fields_.error_at(root, "upstream", "missing: set upstream.url or upstream.command");
    if (auto s = fields_.only_keys(node, "upstream", {"url", "command", "env", "cwd"}); !s.ok())
      return s;
    if (auto url = node["url"]) {
      auto v = fields_.scalar(url, "upstream.url", "an http:// URL");
      if (!v.ok())
        return v.error();
      if (!v->starts_with("http://") && !v->starts_with("https://")) {
        return fields_.error_at(url, "upstream.url",
                                "expected an http:// URL, got " + quote_value(*v));
      }
      config_->upstream.url = *v;
    }
    if (auto command = node["command"]) {
      if (!command.IsSequence() || command.size() == 0) {
        return fields_.error_at(command, "upstream.command",
                                "expected a list: the program and its arguments");
      }
      for (std::size_t i = 0; i < command.size(); ++i) {
        auto v =
            fields_.scalar(command[i], "upstream.command[" + std::to_string(i) + "]", "a string");
        if (!v.ok())
          return v.error();
        config_->upstream.command.push_back(*v);
      }
    }
    if (config_->upstream.url.empty() == config_->upstream.command.empty()) {
      return fields_.error_at(node, "upstream", "expected exactly one of url or command");
    }
    if (auto env = node["env"]) {
      if (config_->upstream.command.empty())
        return fields_.error_at(env, "upstream.env", "only applies with upstream.command");
      if (!env.IsMap()) {
        return fields_.error_at(env, "upstream.env",
                                "expected a map of environment variables, NAME: value");
      }
      for (const auto& entry : env) {
        auto name = fields_.scalar(entry.first, "upstream.env", "a variable name");
        if (!name.ok())
          return name.error();
        if (name->empty() || name->find('=') != std::string::npos) {
          return fields_.error_at(
              entry.first, "upstream.env",
              "expected a variable name without '=', got " + quote_value(*name));
        }
        auto value = fields_.scalar(entry.second, "upstream.env." + *name, "a string");
        if (!value.ok())
          return value.error();
        config_->upstream.env[*name] = *value;
      }
    }
    if (auto cwd = node["cwd"]) {
      if (config_->upstream.command.empty())
        return fields_.error_at(cwd, "upstream.cwd", "only applies with upstream.command");
      auto v = fields_.scalar(cwd, "upstream.cwd", "a directory");
      if (!v.ok())
        return v.error();
      config_->upstream.cwd = *v;
    }
    return ok_status();
  }

  Status read_facilitator(const YAML::Node& root) {
    YAML::Node node = root["facilitator"];
    if (!node) {
      return fields_.error_at(root, "facilitator",
                              "missing: set facilitator.url or facilitator: embedded");
    }
    FacilitatorConfig& out = config_->facilitator;
    if (node.IsScalar()) {
      if (node.Scalar() != "embedded") {
        return fields_.error_at(
            node, "facilitator",
            "expected \"embedded\" or a map with url, got " + quote_value(node.Scalar()));
      }
      out.kind = FacilitatorConfig::Kind::embedded;
      return ok_status();
    }
    if (auto s = fields_.only_keys(
            node, "facilitator",
            {"url", "embedded", "verify_timeout", "settle_timeout", "settle_request_timeout",
             "tls_verify", "ledger", "starting_balance", "solana_fee_payer"});
        !s.ok()) {
      return s;
    }
    if (auto url = node["url"]) {
      auto v = fields_.scalar(url, "facilitator.url", "an http(s):// URL");
      if (!v.ok())
        return v.error();
      if (!v->starts_with("http://") && !v->starts_with("https://")) {
        return fields_.error_at(url, "facilitator.url",
                                "expected an http(s):// URL, got " + quote_value(*v));
      }
      out.url = *v;
    }
    if (auto embedded = node["embedded"]) {
      auto v = fields_.boolean(embedded, "facilitator.embedded");
      if (!v.ok())
        return v.error();
      if (*v)
        out.kind = FacilitatorConfig::Kind::embedded;
    }
    if ((out.kind == FacilitatorConfig::Kind::embedded) == !out.url.empty()) {
      return fields_.error_at(node, "facilitator", "expected either url or embedded: true");
    }
    for (auto [key, target] : {std::pair{"verify_timeout", &out.verify_timeout},
                               std::pair{"settle_timeout", &out.settle_timeout},
                               std::pair{"settle_request_timeout", &out.settle_request_timeout}}) {
      if (auto t = node[key]) {
        auto v = fields_.duration(t, std::string("facilitator.") + key);
        if (!v.ok())
          return v.error();
        *target = *v;
      }
    }
    out.settle_request_timeout = std::max(out.settle_request_timeout, out.settle_timeout);
    if (auto t = node["tls_verify"]) {
      auto v = fields_.boolean(t, "facilitator.tls_verify");
      if (!v.ok())
        return v.error();
      out.tls_verify = *v;
    }
    if (auto t = node["ledger"]) {
      auto v = fields_.scalar(t, "facilitator.ledger", "a file path");
      if (!v.ok())
        return v.error();
      out.ledger = *v;
    }
    if (auto t = node["starting_balance"]) {
      auto v = fields_.scalar(t, "facilitator.starting_balance", "a price like \"$10\"");
      if (!v.ok())
        return v.error();
      if (!x402::usd_price_to_atomic(*v, 6).ok() && !x402::parse_amount(*v).ok()) {
        return fields_.error_at(t, "facilitator.starting_balance",
                                "expected \"$10\" or atomic units, got " + quote_value(*v));
      }
      out.starting_balance = *v;
    }
    if (auto t = node["solana_fee_payer"]) {
      auto v = fields_.scalar(t, "facilitator.solana_fee_payer", "a Solana address");
      if (!v.ok())
        return v.error();
      if (!is_solana_address(*v)) {
        return fields_.error_at(t, "facilitator.solana_fee_payer",
                                "expected a base58 Solana address, got " + quote_value(*v));
      }
      out.solana_fee_payer = *v;
    }
    return ok_status();
  }

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
    if (auto s =
            fields_.only_keys(node, key, {"price", "description", "amount", "asset", "settle"});
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
    if (auto p = node["price"]) {
      auto inner = read_price(p, key + ".price");
      if (!inner.ok())
        return inner.error();
      inner->description = spec.description;
      inner->settle_before = spec.settle_before;
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

  YamlFields fields_;
  std::shared_ptr<ServeConfig> config_;
};

}  // namespace

Result<std::shared_ptr<const ServeConfig>> parse_serve_config(const std::string& yaml_text,
                                                              const std::string& source_name) {
  auto parsed = parse_yaml(yaml_text, source_name);
  if (!parsed.ok())
    return parsed.error();
  const YAML::Node root = *parsed;
  Loader loader(source_name);
  return loader.load(root);
}

Result<std::shared_ptr<const ServeConfig>> load_serve_config(const std::string& path) {
  auto text = read_config_file(path);
  if (!text.ok())
    return text.error();
  return parse_serve_config(*text, path);
}

}  // namespace x402proxy::config
