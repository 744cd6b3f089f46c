#include "store/sql_session.h"

#include <charconv>

namespace x402proxy::store {

const char* to_string(Engine engine) {
  return engine == Engine::sqlite ? "sqlite" : "postgresql";
}

const char* to_string(SqlFailure failure) {
  switch (failure) {
    case SqlFailure::unavailable:
      return "store.unavailable";
    case SqlFailure::conflict:
      return "store.conflict";
    case SqlFailure::failed:
      return "store.failed";
  }
  return "store.failed";
}

const std::string& SqlRow::text(std::size_t column) const {
  static const std::string empty;
  const auto& value = columns_.at(column);
  return value ? *value : empty;
}

std::int64_t SqlRow::integer(std::size_t column) const {
  const std::string& value = text(column);
  if (value == "t")
    return 1;
  std::int64_t number = 0;
  std::from_chars(value.data(), value.data() + value.size(), number);
  return number;
}

}  // namespace x402proxy::store
