#include "config/serve_config.h"

#include <cctype>

#include "config/payment_config.h"
#include "config/yaml_fields.h"
#include "x402/price.h"

namespace x402proxy::config {

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
            {"listen",     "upstream",       "facilitator", "pay_to",       "accept",
             "tools",      "default",        "body_limit",  "read_timeout", "max_timeout_seconds",
             "clock_skew", "journal",        "log_level",   "threads",      "admin",
             "limits",     "shutdown_grace", "accounts",    "rpc",          "store"});
        !s.ok()) {
      return s.error();
    }
    if (auto s = read_operations_config(fields_, root, config_->operations); !s.ok())
      return s.error();
    if (auto s = read_accounts_config(fields_, root, config_->accounts); !s.ok())
      return s.error();
    if (root["store"] && root["journal"])
      return fields_.error_at(root["store"], "store",
                              "expected one of store or journal (the older name), not both");
    if (auto s = read_store_config(fields_, root, config_->store, config_->journal); !s.ok())
      return s.error();
    for (auto step : {&Loader::read_scalars, &Loader::read_upstream, &Loader::read_facilitator}) {
      if (auto s = (this->*step)(root); !s.ok())
        return s.error();
    }
    // pay_to, accept, rpc, tools and default (payment_config.cpp).
    if (auto s = read_payment_config(fields_, root, *config_); !s.ok())
      return s.error();
    if (config_->store.postgres() && config_->accounts.enabled)
      return fields_.error_at(root["accounts"], "accounts",
                              "prepaid credit keeps its ledger in a local SQLite file, which "
                              "replicas would not share: it cannot be used with a PostgreSQL "
                              "store yet");
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
    if (auto s = fields_.only_keys(node, "upstream", {"url", "command", "env", "cwd", "transport"});
        !s.ok())
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
    if (auto transport = node["transport"]) {
      auto v = fields_.scalar(transport, "upstream.transport", "streamable-http, sse or auto");
      if (!v.ok())
        return v.error();
      if (config_->upstream.url.empty())
        return fields_.error_at(transport, "upstream.transport", "only applies with upstream.url");
      using Transport = UpstreamConfig::Transport;
      if (*v == "streamable-http" || *v == "streamable_http" || *v == "http")
        config_->upstream.transport = Transport::streamable_http;
      else if (*v == "sse")
        config_->upstream.transport = Transport::sse;
      else if (*v == "auto")
        config_->upstream.transport = Transport::automatic;
      else
        return fields_.error_at(transport, "upstream.transport",
                                "expected streamable-http (MCP 2025-03-26 on), sse (the HTTP+SSE "
                                "transport of MCP 2024-11-05) or auto, got " +
                                    quote_value(*v));
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
