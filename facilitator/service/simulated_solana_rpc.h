// The Solana JSON-RPC calls a buyer makes before paying, answered by the embedded facilitator
// itself. The embedded facilitator is the chain of a closed deployment: it moves no money
// anywhere, so a demo buyer needs no real Solana node and no network beyond loopback. Blockhashes
// are fresh random bytes (nothing checks them against a chain); the accounts are the registry's
// mints and, when a ledger is given, the associated token account of every holder the ledger
// knows, holding its ledger balance.
//
// Methods (answers shaped as a Solana node's, agave JSON-RPC): getLatestBlockhash, getSlot,
// getBlockHeight, getAccountInfo, getMultipleAccounts, getBalance, getTokenAccountBalance,
// getTokenAccountsByOwner (mint or programId filter), getMinimumBalanceForRentExemption.
// The official payer (@x402/svm 2.27 ExactSvmScheme client) calls getAccountInfo of the mint with
// encoding base64 (@solana-program/token-2022 fetchMint) and getLatestBlockhash (only when the
// offer carries no extra.recentBlockhash); its upto client also calls getSlot.
// Account encodings: base64, base58, jsonParsed, and none (the node's legacy "binary": a bare
// base58 string). As a node does, base58 refuses more than 128 bytes of data (a token account is
// 165; use base64 or a dataSlice); base64+zstd is not simulated.
#pragma once

#include <string>
#include <string_view>

namespace x402proxy::facilitator {

class Ledger;

// One JSON-RPC 2.0 request body in, its response body out (always a JSON-RPC answer, never an
// HTTP failure): unknown methods get -32601, unparsable bodies -32700, bad params -32602; the
// request's id is echoed (null when it could not be read). `ledger` (may be null: mints only) is
// read, never written.
std::string answer_simulated_solana_rpc(std::string_view request_body, Ledger* ledger = nullptr);

}  // namespace x402proxy::facilitator
