// The x402 message vocabulary (x402 v2 specification §5, v1 specification §5), as plain structs.
// C++ names are snake_case; the JSON spelling of each field is given beside it. Amounts stay
// decimal strings here (uint256 range); arithmetic happens in x402/amount.h.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <boost/json/object.hpp>
#include <boost/json/value.hpp>

namespace x402proxy::x402 {

// x402 v2 ResourceInfo. In v1 the same data sits inside every requirement.
struct ResourceInfo {
  std::string url;                         // "url"
  std::optional<std::string> description;  // "description"
  std::optional<std::string> mime_type;    // "mimeType"
  bool operator==(const ResourceInfo&) const = default;
};

// One way to pay (v2 form). A v1 requirement is the same data with "maxAmountRequired" for
// "amount", a v1 network name for "network", and the resource fields repeated inline (kept in
// v1_resource).
struct PaymentRequirements {
  std::string scheme;                     // "scheme": "exact"
  std::string network;                    // "network": CAIP-2 ("eip155:84532") or v1 name
  std::string amount;                     // "amount" (v2) / "maxAmountRequired" (v1), atomic units
  std::string asset;                      // "asset": token contract or mint
  std::string pay_to;                     // "payTo"
  std::uint64_t max_timeout_seconds = 0;  // "maxTimeoutSeconds" (a JSON number)
  boost::json::object extra;  // "extra": scheme data (EVM {name, version}; SVM {feePayer})
  bool has_extra = false;     // whether "extra" was present (absent and {} differ on wire)
  // v1 only: "resource", "description", "mimeType", "outputSchema".
  std::optional<ResourceInfo> v1_resource;
  std::optional<boost::json::value> v1_output_schema;
  bool operator==(const PaymentRequirements&) const = default;
};

// The "402" object: what a client must pay. v2: {x402Version, error?, resource, accepts,
// extensions?}; v1: {x402Version: 1, error, accepts} with resource data inside each requirement.
struct PaymentRequired {
  int x402_version = 2;                           // "x402Version"
  std::optional<std::string> error;               // "error"
  ResourceInfo resource;                          // "resource" (v2 only)
  std::vector<PaymentRequirements> accepts;       // "accepts"
  std::optional<boost::json::object> extensions;  // "extensions" (v2 only)
};

// A signed payment. v2: {x402Version, resource?, accepted, payload, extensions?};
// v1: {x402Version: 1, scheme, network, payload}.
struct PaymentPayload {
  int x402_version = 2;                  // "x402Version"
  std::optional<ResourceInfo> resource;  // "resource" (v2, unsigned: never trusted)
  PaymentRequirements accepted;          // "accepted" (v2); v1 fills scheme and network only
  boost::json::object payload;           // "payload": scheme-specific, signed
  std::optional<boost::json::object> extensions;  // "extensions" (v2)
};

// Facilitator /verify answer.
struct VerifyResponse {
  bool is_valid = false;                       // "isValid"
  std::optional<std::string> invalid_reason;   // "invalidReason"
  std::optional<std::string> invalid_message;  // "invalidMessage"
  std::optional<std::string> payer;            // "payer"
};

// Facilitator /settle answer, also the "x402/payment-response" receipt.
struct SettleResponse {
  bool success = false;                           // "success"
  std::optional<std::string> error_reason;        // "errorReason"
  std::optional<std::string> error_message;       // "errorMessage"
  std::optional<std::string> payer;               // "payer"
  std::string transaction;                        // "transaction" ("" on failure)
  std::string network;                            // "network"
  std::optional<std::string> amount;              // "amount" (v2)
  std::optional<boost::json::object> extensions;  // "extensions" (v2)
};

// One entry of GET /supported "kinds".
struct SupportedKind {
  int x402_version = 2;                      // "x402Version"
  std::string scheme;                        // "scheme"
  std::string network;                       // "network"
  std::optional<boost::json::object> extra;  // "extra" (SVM: {feePayer})
};

struct SupportedResponse {
  std::vector<SupportedKind> kinds;                                       // "kinds"
  std::vector<std::string> extensions;                                    // "extensions"
  std::vector<std::pair<std::string, std::vector<std::string>>> signers;  // "signers"
};

}  // namespace x402proxy::x402
