// The two Solana JSON-RPC calls a buyer makes before paying (getLatestBlockhash, getAccountInfo of
// the mint with jsonParsed encoding), answered by the embedded facilitator itself. The embedded
// facilitator is the chain of a closed deployment: it moves no money anywhere, so a demo buyer
// needs no real Solana node and no network beyond loopback. Blockhashes are fresh random bytes
// (nothing checks them against a chain), and only the registry's mints exist.
#pragma once

#include <string>
#include <string_view>

namespace x402proxy::facilitator {

// One JSON-RPC 2.0 request body in, its response body out (always a JSON-RPC answer, never an
// HTTP failure): unknown methods get -32601, unparsable bodies -32700, bad params -32602; the
// request's id is echoed (null when it could not be read).
std::string answer_simulated_solana_rpc(std::string_view request_body);

}  // namespace x402proxy::facilitator
