// JSON helpers the fuzz targets share.
#pragma once

#include <cmath>

#include <boost/json/value.hpp>

namespace x402proxy::fuzz {

// Whether a number in `value` is out of double range (1e400 parses as infinity). Boost.JSON 1.81
// serializes it as `Infinity`, which is not JSON, so a parse-serialize round trip cannot hold for
// such a value; that is why a paid call's body is edited as text (mcp/json_member_edit.h).
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

}  // namespace x402proxy::fuzz
