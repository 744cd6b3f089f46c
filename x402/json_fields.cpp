#include "x402/json_fields.h"

#include <boost/json/serialize.hpp>
#include <boost/json/string.hpp>

#include "x402/amount.h"

namespace x402proxy::x402 {

namespace json = boost::json;

std::string describe_json(const json::value& value) {
  constexpr std::size_t kShown = 40;
  switch (value.kind()) {
    case json::kind::null:
      return "null";
    case json::kind::bool_:
      return value.get_bool() ? "true" : "false";
    case json::kind::int64:
    case json::kind::uint64:
    case json::kind::double_:
      return "number " + json::serialize(value);
    case json::kind::string: {
      const json::string& text = value.get_string();
      std::string shown = json::serialize(json::string_view(text).substr(0, kShown));
      if (text.size() > kShown)
        shown.insert(shown.size() - 1, "...");
      return "string " + shown;
    }
    case json::kind::array:
      return "an array";
    case json::kind::object:
      return "an object";
  }
  return "a value";
}

std::string field_path(std::string_view path, std::string_view key) {
  if (path.empty())
    return std::string(key);
  std::string out(path);
  out += '.';
  out += key;
  return out;
}

void FieldReader::fail(std::string message) {
  if (!error_)
    error_ = make_error(reason_, std::move(message));
}

void FieldReader::fail(std::string reason, std::string message) {
  if (!error_)
    error_ = make_error(std::move(reason), std::move(message));
}

const json::object* FieldReader::object(const json::value& value, std::string_view what) {
  if (value.is_object())
    return &value.get_object();
  fail(std::string(what) + " must be a JSON object, got " + describe_json(value));
  return nullptr;
}

std::string FieldReader::required_string(const json::object& in, std::string_view path,
                                         std::string_view key) {
  const json::value* value = in.if_contains(key);
  if (value == nullptr || value->is_null()) {
    fail(field_path(path, key) + " is missing; expected a non-empty string");
  } else if (!value->is_string() || value->get_string().empty()) {
    fail(field_path(path, key) + " must be a non-empty string, got " + describe_json(*value));
  } else {
    return std::string(value->get_string());
  }
  return {};
}

std::string FieldReader::string_allowing_empty(const json::object& in, std::string_view path,
                                               std::string_view key, bool required) {
  const json::value* value = in.if_contains(key);
  if (value == nullptr || value->is_null()) {
    if (required)
      fail(field_path(path, key) + " is missing; expected a string");
    return {};
  }
  if (!value->is_string()) {
    fail(field_path(path, key) + " must be a string, got " + describe_json(*value));
    return {};
  }
  return std::string(value->get_string());
}

std::optional<std::string> FieldReader::optional_string(const json::object& in,
                                                        std::string_view path,
                                                        std::string_view key) {
  const json::value* value = in.if_contains(key);
  if (value == nullptr || value->is_null())
    return std::nullopt;
  if (!value->is_string()) {
    fail(field_path(path, key) + " must be a string when present, got " + describe_json(*value));
    return std::nullopt;
  }
  return std::string(value->get_string());
}

std::optional<json::object> FieldReader::optional_object(const json::object& in,
                                                         std::string_view path,
                                                         std::string_view key) {
  const json::value* value = in.if_contains(key);
  if (value == nullptr || value->is_null())
    return std::nullopt;
  if (!value->is_object()) {
    fail(field_path(path, key) + " must be a JSON object when present, got " +
         describe_json(*value));
    return std::nullopt;
  }
  return value->get_object();
}

bool FieldReader::required_bool(const json::object& in, std::string_view path,
                                std::string_view key) {
  const json::value* value = in.if_contains(key);
  if (value != nullptr && value->is_bool())
    return value->get_bool();
  fail(field_path(path, key) + (value == nullptr
                                    ? " is missing; expected true or false"
                                    : " must be true or false, got " + describe_json(*value)));
  return false;
}

std::string FieldReader::amount(const json::object& in, std::string_view path, std::string_view key,
                                bool required) {
  const json::value* value = in.if_contains(key);
  if (value == nullptr || value->is_null()) {
    if (required) {
      fail(field_path(path, key) + " is missing; expected a decimal string of atomic units");
    }
    return {};
  }
  if (!value->is_string() || !parse_amount(value->get_string()).ok()) {
    fail(field_path(path, key) +
         " must be a decimal string of atomic units (digits only, no leading zero, at most "
         "2^256 - 1), got " +
         describe_json(*value));
    return {};
  }
  return std::string(value->get_string());
}

std::uint64_t FieldReader::positive_integer(const json::object& in, std::string_view path,
                                            std::string_view key) {
  const json::value* value = in.if_contains(key);
  if (value != nullptr && value->is_int64() && value->get_int64() > 0) {
    return static_cast<std::uint64_t>(value->get_int64());
  }
  if (value != nullptr && value->is_uint64() && value->get_uint64() > 0) {
    return value->get_uint64();
  }
  fail(field_path(path, key) +
       (value == nullptr ? " is missing; expected a positive integer number"
                         : " must be a positive integer number, got " + describe_json(*value)));
  return 0;
}

int FieldReader::version(const json::object& in, std::string_view path) {
  const json::value* value = in.if_contains("x402Version");
  if (value != nullptr && value->is_int64() &&
      (value->get_int64() == 1 || value->get_int64() == 2)) {
    return static_cast<int>(value->get_int64());
  }
  fail("invalid_x402_version",
       field_path(path, "x402Version") +
           (value == nullptr ? " is missing; expected 1 or 2"
                             : " must be the number 1 or 2, got " + describe_json(*value)));
  return 0;
}

}  // namespace x402proxy::x402
