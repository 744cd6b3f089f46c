// Typed field reading for the x402 message parsers (codec_parse.cpp), usable by any parser of
// x402-shaped JSON: each getter checks one field's type, and the first problem is kept as an Error
// whose message names the field by its path ("accepts[0].amount") and says what was expected and
// what came. Getters return harmless defaults after a failure, so parsing code reads straight
// through and checks failed() once.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include <boost/json/object.hpp>
#include <boost/json/value.hpp>

#include "x402/result.h"

namespace x402proxy::x402 {

// What a value is, for messages: `string "abc"`, `number 1.5`, `null`, `an object`; long strings
// are cut so an attacker's megabyte does not end up in a log line.
std::string describe_json(const boost::json::value& value);

// "path.key", or "key" at the top level.
std::string field_path(std::string_view path, std::string_view key);

class FieldReader {
 public:
  // `reason` is the Error reason for every failure but version().
  explicit FieldReader(std::string reason) : reason_(std::move(reason)) {}

  bool failed() const { return error_.has_value(); }
  const Error& error() const { return *error_; }

  void fail(std::string message);
  void fail(std::string reason, std::string message);

  // `value` as an object, or nullptr (and a recorded error).
  const boost::json::object* object(const boost::json::value& value, std::string_view what);

  // A non-empty string; missing and null are errors.
  std::string required_string(const boost::json::object& in, std::string_view path,
                              std::string_view key);
  // A string that may be ""; missing or null is "" when not required.
  std::string string_allowing_empty(const boost::json::object& in, std::string_view path,
                                    std::string_view key, bool required);
  // Absent and null both mean "not given" (the TS reference client maps null to absent).
  std::optional<std::string> optional_string(const boost::json::object& in, std::string_view path,
                                             std::string_view key);
  std::optional<boost::json::object> optional_object(const boost::json::object& in,
                                                     std::string_view path, std::string_view key);
  bool required_bool(const boost::json::object& in, std::string_view path, std::string_view key);
  // A canonical decimal string of atomic units (x402/amount.h); "" when absent and not required.
  std::string amount(const boost::json::object& in, std::string_view path, std::string_view key,
                     bool required);
  // A JSON integer number > 0 (not a string, not 60.0).
  std::uint64_t positive_integer(const boost::json::object& in, std::string_view path,
                                 std::string_view key);
  // "x402Version": the number 1 or 2. Fails with reason "invalid_x402_version".
  int version(const boost::json::object& in, std::string_view path);

 private:
  std::string reason_;
  std::optional<Error> error_;
};

}  // namespace x402proxy::x402
