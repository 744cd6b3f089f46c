// JSON helpers the fuzz targets share.
#pragma once

#include <cmath>
#include <cstddef>
#include <limits>

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

// Whether `value` holds a double anywhere (a fraction, an exponent, or an integer beyond uint64).
inline bool holds_double(const boost::json::value& value) {
  switch (value.kind()) {
    case boost::json::kind::double_:
      return true;
    case boost::json::kind::array:
      for (const auto& element : value.get_array()) {
        if (holds_double(element))
          return true;
      }
      return false;
    case boost::json::kind::object:
      for (const auto& member : value.get_object()) {
        if (holds_double(member.value()))
          return true;
      }
      return false;
    default:
      return false;
  }
}

// JSON equality in which NaN equals NaN: Boost.JSON 1.81 reads 0e400 as NaN (0 times an infinite
// power of ten), and a value must still equal itself after a re-parse. With `rounding`, doubles may
// also differ in their last bits: Boost.JSON 1.81 parses numbers fast, not correctly rounded, so a
// serialized double can read back one ulp away (a 94-digit integer: 3E93, then
// 3.0000000000000002E93).
inline bool same_json(const boost::json::value& a, const boost::json::value& b,
                      bool rounding = false) {
  if (a.is_double() && b.is_double()) {
    const double x = a.get_double();
    const double y = b.get_double();
    if (std::isnan(x) && std::isnan(y))
      return true;
    if (rounding && std::isfinite(x) && std::isfinite(y))
      return std::fabs(x - y) <= 8 * std::numeric_limits<double>::epsilon() * std::fabs(x) ||
             std::fabs(x - y) <= 16 * std::numeric_limits<double>::denorm_min();
    return x == y;
  }
  if (a.is_array() && b.is_array()) {
    const auto& left = a.get_array();
    const auto& right = b.get_array();
    if (left.size() != right.size())
      return false;
    for (std::size_t i = 0; i < left.size(); ++i) {
      if (!same_json(left[i], right[i], rounding))
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
      if (other == nullptr || !same_json(member.value(), *other, rounding))
        return false;
    }
    return true;
  }
  return a == b;
}

}  // namespace x402proxy::fuzz
