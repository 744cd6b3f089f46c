// Reading YAML with messages that point at the exact place: every error names file, line, column
// and the dotted key path, and says what was expected and what came.
#pragma once

#include <chrono>
#include <cstdint>
#include <initializer_list>
#include <string>
#include <string_view>

#include <yaml-cpp/yaml.h>

#include "x402/result.h"

namespace x402proxy::config {

class YamlFields {
 public:
  explicit YamlFields(std::string source) : source_(std::move(source)) {}

  Error error_at(const YAML::Node& node, const std::string& key, const std::string& message) const;

  // Refuses keys not in `allowed` (a typo must not silently become a default).
  Status only_keys(const YAML::Node& map, const std::string& path,
                   std::initializer_list<std::string_view> allowed) const;

  Result<std::string> scalar(const YAML::Node& node, const std::string& key,
                             const char* expected) const;
  Result<bool> boolean(const YAML::Node& node, const std::string& key) const;
  Result<std::uint64_t> unsigned_integer(const YAML::Node& node, const std::string& key) const;
  // "500ms", "5s", "2m", "1h"
  Result<std::chrono::milliseconds> duration(const YAML::Node& node, const std::string& key) const;
  // "4MiB", "512KiB", "1048576"
  Result<std::uint64_t> byte_size(const YAML::Node& node, const std::string& key) const;

 private:
  std::string source_;
};

// Parses YAML text; a syntax error becomes reason "config.syntax" with file:line:column (yaml-cpp
// reports them by exception, which stops here).
Result<YAML::Node> parse_yaml(const std::string& text, const std::string& source_name);
// The whole file as text; reason "config.open" naming the path.
Result<std::string> read_config_file(const std::string& path);

// Quotes a scalar for a message, cut to a readable length.
std::string quote_value(std::string_view text);

}  // namespace x402proxy::config
