// What buyers pay in a serve config: `pay_to` per chain family, the `accept` list (registry
// tokens or fully described ones), `rpc` nodes per network, and the prices of `tools` and
// `default`. Read for serve_config.cpp, with the same file/line/key errors.
#pragma once

#include <string_view>

#include <yaml-cpp/yaml.h>

#include "config/serve_config.h"
#include "config/yaml_fields.h"
#include "x402/result.h"

namespace x402proxy::config {

Status read_payment_config(YamlFields& fields, const YAML::Node& root, ServeConfig& config);

bool is_evm_address(std::string_view text);
bool is_solana_address(std::string_view text);

}  // namespace x402proxy::config
