// The proxy's own checks of a payment before anyone else is asked (DESIGN pipeline step 4): the
// signed fields must say what the matched offer says (payee, amount, time window), and the
// payment's replay identity is derived here. These catch garbage and mismatches without a
// facilitator round trip; the facilitator's verify remains the authority.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>

#include "proxy/serve_state.h"

namespace x402proxy::proxy {

using UnixClock = std::function<std::int64_t()>;

Result<CheckedPayment> check_payment_locally(const x402::PaymentPayload& payment,
                                             const x402::PaymentRequirements& required,
                                             std::int64_t now_unix,
                                             std::chrono::seconds clock_skew);

// The LocalCheck the server uses (system clock).
LocalCheck make_local_check(std::chrono::seconds clock_skew);

}  // namespace x402proxy::proxy
