// Errors as values at module boundaries (STYLE rule 4): a domain failure carries a machine reason
// (the x402 reason string where the spec or reference code names one) and a human message saying
// what was expected and what came.
#pragma once

#include <string>
#include <utility>
#include <variant>

namespace x402proxy {

struct Error {
  std::string
      reason;  // stable, machine-readable: "invalid_exact_evm_signature", "config.type", ...
  std::string message;  // for people: what was expected, what came; never a secret
};

inline Error make_error(std::string reason, std::string message) {
  return Error{std::move(reason), std::move(message)};
}

// A failure whose kind callers branch on: a reason enum at a module boundary (STYLE rule 4),
// so that no caller compares reason strings. `reason` is to_string(kind), for logs, the journal
// and answers; code compares `kind`. Converts to an Error where only the text travels on.
template <class Kind>
struct Failure {
  Kind kind;
  std::string reason;
  std::string message;

  Failure(Kind failure_kind, std::string text)
      : kind(failure_kind), reason(to_string(failure_kind)), message(std::move(text)) {}
  operator Error() const { return Error{reason, message}; }
};

// A value or an error (by default an Error). Deliberately tiny: no exceptions.
template <class T, class E = Error>
class [[nodiscard]] Result {
 public:
  Result(T value) : state_(std::in_place_index<0>, std::move(value)) {}
  Result(E error) : state_(std::in_place_index<1>, std::move(error)) {}

  bool ok() const { return state_.index() == 0; }
  explicit operator bool() const { return ok(); }

  T& value() & { return std::get<0>(state_); }
  const T& value() const& { return std::get<0>(state_); }
  T&& value() && { return std::get<0>(std::move(state_)); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }

  const E& error() const { return std::get<1>(state_); }

 private:
  std::variant<T, E> state_;
};

// Result of an operation that produces nothing but may fail.
struct Ok {};
using Status = Result<Ok>;
inline Status ok_status() {
  return Ok{};
}

}  // namespace x402proxy
