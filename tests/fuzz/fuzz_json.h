// JSON helpers the fuzz targets share.
#pragma once

#include <cmath>
#include <cstddef>

#include <boost/json/value.hpp>

namespace x402proxy::fuzz {

// Whether a number in `value` is out of double range (1e400 parses as infinity, 0e400 as NaN).
// Boost.JSON 1.81 serializes them as `Infinity` and `NaN`, which is not JSON, so a parse-serialize
// round trip cannot hold for such a value; that is why a paid call's body is edited as text
// (mcp/json_member_edit.h).
inline bool holds_non_finite_number(const boost::json::value& value) {
  switch (value.kind()) {
    case boost::json::kind::double_:
      return !std::isfinite(value.get_double());
    case boost::json::kind::array:
      for (const auto& element : value.get_array()) {
        if (holds_non_finite_number(element))
          return true;
      }
      return false;
    case boost::json::kind::object:
      for (const auto& member : value.get_object()) {
        if (holds_non_finite_number(member.value()))
          return true;
      }
      return false;
    default:
      return false;
  }
}

// JSON equality in which NaN equals NaN: Boost.JSON 1.81 reads 0e400 as NaN (0 times an infinite
// power of ten), and a value must still equal itself after a re-parse.
inline bool same_json(const boost::json::value& a, const boost::json::value& b) {
  if (a.is_double() && b.is_double() && std::isnan(a.get_double()) && std::isnan(b.get_double()))
    return true;
  if (a.is_array() && b.is_array()) {
    const auto& left = a.get_array();
    const auto& right = b.get_array();
    if (left.size() != right.size())
      return false;
    for (std::size_t i = 0; i < left.size(); ++i) {
      if (!same_json(left[i], right[i]))
        return false;
    }
    return true;
  }
  if (a.is_object() && b.is_object()) {
    const auto& left = a.get_object();
    const auto& right = b.get_object();
    if (left.size() != right.size())
      return false;
    for (const auto& member : left) {
      const boost::json::value* other = right.if_contains(member.key());
      if (other == nullptr || !same_json(member.value(), *other))
        return false;
    }
    return true;
  }
  return a == b;
}

}  // namespace x402proxy::fuzz
