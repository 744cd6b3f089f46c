// JSON encodings of the x402 messages in x402/types.h, versions 1 and 2.
//
// Encoders write keys in the order of the specification's examples (x402 v2 spec §5.1-5.3, §7.3;
// transports-v2/http.md; v1 spec §5), so `boost::json::serialize(to_json(x))` reproduces the
// spec's JSON texts byte for byte; optional fields that are absent are omitted.
//
// Parsers are strict about types and say which field was wrong and what was expected; unknown
// fields are ignored (the protocol adds fields over time) and an optional string that is `null`
// counts as absent (as the TypeScript reference client does). A message whose kept JSON (payload,
// extra, extensions, outputSchema) holds a number out of double range (1e400 reads as infinity,
// 0e400 as NaN) is refused: it could not be written as JSON again (to the facilitator, into the
// payment journal). Reasons:
//   "invalid_x402_version"          x402Version missing or not 1 or 2
//   "invalid_payment_requirements"  requirements_from_json
//   "invalid_payment_required"      payment_required_from_json
//   "invalid_payload"               payment_payload_from_json (also its "accepted" part)
//   "invalid_verify_response" / "invalid_settle_response" / "invalid_supported_response"
//                                   facilitator answers
#pragma once

#include <boost/json/object.hpp>
#include <boost/json/value.hpp>

#include "x402/result.h"
#include "x402/types.h"

namespace x402proxy::x402 {

boost::json::object to_json(const ResourceInfo& resource);
// x402_version 2: {scheme, network, amount, asset, payTo, maxTimeoutSeconds, extra?}.
// x402_version 1: {scheme, network, maxAmountRequired, asset, payTo, resource, description,
// mimeType?, outputSchema?, maxTimeoutSeconds, extra?} with the resource data from v1_resource.
boost::json::object to_json(const PaymentRequirements& requirements, int x402_version);
// v2: {x402Version, error?, resource, accepts, extensions?}; v1: {x402Version, error?, accepts}.
boost::json::object to_json(const PaymentRequired& required);
// v2: {x402Version, resource?, accepted, payload, extensions?}; v1: {x402Version, scheme, network,
// payload}.
boost::json::object to_json(const PaymentPayload& payment);
// {isValid, invalidReason?, invalidMessage?, payer?}
boost::json::object to_json(const VerifyResponse& response);
// {success, errorReason?, errorMessage?, transaction, network, payer?, amount?, extensions?}
// (the order of spec §5.3.1 and the PAYMENT-RESPONSE examples; §7.2's examples put payer first,
// which is the same object).
boost::json::object to_json(const SettleResponse& response);
// {kinds: [{x402Version, scheme, network, extra?}], extensions, signers}
boost::json::object to_json(const SupportedResponse& response);

// One requirement in the given version's form. amount/maxAmountRequired must be a canonical
// decimal string (x402/amount.h), maxTimeoutSeconds a positive integer number, scheme, network,
// asset and payTo non-empty strings, a v2 network a CAIP-2 id; extra an object, null or absent.
Result<PaymentRequirements> requirements_from_json(const boost::json::value& json,
                                                   int x402_version);
Result<PaymentRequired> payment_required_from_json(const boost::json::value& json);
Result<PaymentPayload> payment_payload_from_json(const boost::json::value& json);
Result<VerifyResponse> verify_response_from_json(const boost::json::value& json);
// transaction and network are required when success is true; a failure may omit them ("").
Result<SettleResponse> settle_response_from_json(const boost::json::value& json);
// Missing extensions/signers default to empty (as the TS facilitator client does), so a v1
// facilitator's {kinds} parses.
Result<SupportedResponse> supported_response_from_json(const boost::json::value& json);

// Whether the requirement a client says it accepted (PaymentPayload.accepted) is one the server
// offered, by the @x402/core 2.27 rule: every field but `extra` equal; if the server's requirement
// has `extra`, the client's `extra` must contain it as a subset (recursively for nested objects),
// ignoring the fields the scheme fills per payment (Solana exact: recentBlockhash,
// lastValidBlockHeight; Solana upto: also recentSlot).
bool requirements_match(const PaymentRequirements& offered, const PaymentRequirements& accepted);

}  // namespace x402proxy::x402
