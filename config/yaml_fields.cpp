#include "config/yaml_fields.h"

#include <charconv>
#include <fstream>
#include <sstream>

namespace x402proxy::config {

Result<YAML::Node> parse_yaml(const std::string& text, const std::string& source_name) {
  try {
    return YAML::Load(text);
  } catch (const YAML::Exception& e) {
    return make_error("config.syntax", source_name + ":" + std::to_string(e.mark.line + 1) + ":" +
                                           std::to_string(e.mark.column + 1) + ": " + e.msg);
  }
}

Result<std::string> read_config_file(const std::string& path) {
  std::ifstream file(path);
  if (!file)
    return make_error("config.open", "cannot read config file " + path);
  std::ostringstream text;
  text << file.rdbuf();
  return text.str();
}

std::string quote_value(std::string_view text) {
  constexpr std::size_t kMax = 80;
  std::string out = "\"";
  out.append(text.substr(0, kMax));
  if (text.size() > kMax)
    out.append("…");
  out.append("\"");
  return out;
}

Error YamlFields::error_at(const YAML::Node& node, const std::string& key,
                           const std::string& message) const {
  YAML::Mark mark = node.Mark();
  std::string where = source_;
  if (mark.line >= 0) {
    where += ":" + std::to_string(mark.line + 1) + ":" + std::to_string(mark.column + 1);
  }
  return make_error("config.invalid", where + ": " + key + ": " + message);
}

Status YamlFields::only_keys(const YAML::Node& map, const std::string& path,
                             std::initializer_list<std::string_view> allowed) const {
  if (!map.IsMap())
    return error_at(map, path, "expected a map");
  for (const auto& item : map) {
    std::string key = item.first.Scalar();
    bool known = false;
    for (auto name : allowed)
      known = known || key == name;
    if (!known) {
      std::string list;
      for (auto name : allowed)
        list += (list.empty() ? "" : ", ") + std::string(name);
      return error_at(item.first, path.empty() ? key : path + "." + key,
                      "unknown key; expected one of: " + list);
    }
  }
  return ok_status();
}

Result<std::string> YamlFields::scalar(const YAML::Node& node, const std::string& key,
                                       const char* expected) const {
  if (!node.IsScalar())
    return error_at(node, key, std::string("expected ") + expected);
  return node.Scalar();
}

Result<bool> YamlFields::boolean(const YAML::Node& node, const std::string& key) const {
  auto text = scalar(node, key, "true or false");
  if (!text.ok())
    return text.error();
  if (*text == "true")
    return true;
  if (*text == "false")
    return false;
  return error_at(node, key, "expected true or false, got " + quote_value(*text));
}

Result<std::uint64_t> YamlFields::unsigned_integer(const YAML::Node& node,
                                                   const std::string& key) const {
  auto text = scalar(node, key, "a whole number");
  if (!text.ok())
    return text.error();
  std::uint64_t value = 0;
  auto [end, ec] = std::from_chars(text->data(), text->data() + text->size(), value);
  if (ec != std::errc() || end != text->data() + text->size() || text->empty()) {
    return error_at(node, key, "expected a whole number, got " + quote_value(*text));
  }
  return value;
}

Result<std::chrono::milliseconds> YamlFields::duration(const YAML::Node& node,
                                                       const std::string& key) const {
  constexpr const char* expected = "a duration like \"500ms\", \"5s\", \"2m\" or \"1h\"";
  auto text = scalar(node, key, expected);
  if (!text.ok())
    return text.error();
  std::uint64_t value = 0;
  auto [end, ec] = std::from_chars(text->data(), text->data() + text->size(), value);
  std::string_view unit(end, text->data() + text->size() - end);
  if (ec != std::errc() || end == text->data() || value > 1'000'000'000) {
    return error_at(node, key, std::string("expected ") + expected + ", got " + quote_value(*text));
  }
  if (unit == "ms")
    return std::chrono::milliseconds(value);
  if (unit == "s")
    return std::chrono::milliseconds(value * 1000);
  if (unit == "m")
    return std::chrono::milliseconds(value * 60'000);
  if (unit == "h")
    return std::chrono::milliseconds(value * 3'600'000);
  return error_at(node, key, std::string("expected ") + expected + ", got " + quote_value(*text));
}

Result<std::uint64_t> YamlFields::byte_size(const YAML::Node& node, const std::string& key) const {
  constexpr const char* expected = "a size like \"4MiB\", \"512KiB\" or a number of bytes";
  auto text = scalar(node, key, expected);
  if (!text.ok())
    return text.error();
  std::uint64_t value = 0;
  auto [end, ec] = std::from_chars(text->data(), text->data() + text->size(), value);
  std::string_view unit(end, text->data() + text->size() - end);
  std::uint64_t scale = unit.empty() ? 1 : unit == "KiB" ? 1024 : unit == "MiB" ? 1024 * 1024 : 0;
  if (ec != std::errc() || end == text->data() || scale == 0 || value == 0 ||
      value > (1ull << 40) / scale) {
    return error_at(node, key, std::string("expected ") + expected + ", got " + quote_value(*text));
  }
  return value * scale;
}

}  // namespace x402proxy::config
