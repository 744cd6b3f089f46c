#include "facilitator/facilitator.h"

namespace x402proxy::facilitator {

const char* to_string(FailureKind kind) {
  switch (kind) {
    case FailureKind::timeout:
      return "timeout";
    case FailureKind::unreachable:
      return "unreachable";
    case FailureKind::http_status:
      return "http_status";
    case FailureKind::malformed_answer:
      return "malformed_answer";
    case FailureKind::payment_rejected:
      return "payment_rejected";
  }
  return "unknown";
}

}  // namespace x402proxy::facilitator
