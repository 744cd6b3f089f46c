#include "facilitator/service/simulated_solana_rpc.h"

#include "mcp/jsonrpc_reply.h"

#include <sodium.h>

#include <chrono>
#include <cstdint>

#include <boost/json.hpp>

#include "signers/solana/base58.h"
#include "signers/solana/pda.h"
#include "x402/networks.h"
#include "x402/strict_json.h"

namespace x402proxy::facilitator {
namespace json = boost::json;
namespace sol = signers::solana;

namespace {

// JSON-RPC 2.0 §5.1 error codes.
constexpr int kParseError = mcp::rpc_code::parse_error;
constexpr int kInvalidRequest = mcp::rpc_code::invalid_request;
constexpr int kMethodNotFound = mcp::rpc_code::method_not_found;
constexpr int kInvalidParams = mcp::rpc_code::invalid_params;

// How long a real blockhash stays usable, in blocks (Solana: 150 blocks after it was produced).
constexpr std::uint64_t kBlockhashLifetime = 150;

std::string error_answer(const json::value& id, int code, const std::string& message) {
  return mcp::jsonrpc_error(id, code, message);
}

std::string result_answer(const json::value& id, json::value result) {
  return mcp::jsonrpc_result(id, std::move(result));
}

// A slot that grows like a real one (a slot is about 400 ms), derived from the clock so that the
// simulation keeps no state.
std::uint64_t current_slot() {
  auto now = std::chrono::system_clock::now().time_since_epoch();
  return static_cast<std::uint64_t>(
      std::chrono::duration_cast<std::chrono::milliseconds>(now).count() / 400);
}

json::object context(std::uint64_t slot) {
  return json::object{{"slot", slot}};
}

json::value latest_blockhash() {
  // libsodium's randombytes_buf needs sodium_init first (idempotent and thread-safe); it reads the
  // OS CSPRNG. Random bytes are all a blockhash is to the buyer, who copies it into the message.
  static const bool sodium_ready = sodium_init() >= 0;
  (void)sodium_ready;
  sol::Pubkey hash{};
  randombytes_buf(hash.data(), hash.size());
  std::uint64_t slot = current_slot();
  return json::object{{"context", context(slot)},
                      {"value", json::object{{"blockhash", sol::base58_encode(hash)},
                                             {"lastValidBlockHeight", slot + kBlockhashLifetime}}}};
}

// The registry's decimals for a Solana mint, or nullptr when it is not one the registry knows.
const x402::Asset* known_solana_mint(std::string_view mint) {
  for (const x402::Asset& asset : x402::known_assets()) {
    const x402::Network* network = x402::find_network(asset.network);
    if (network != nullptr && network->family == x402::NetworkFamily::solana &&
        asset.address == mint) {
      return &asset;
    }
  }
  return nullptr;
}

// The jsonParsed shape of an SPL Token mint account as a node returns it (owner: the Token
// program; data.parsed.info.decimals), the fields a buyer reads plus the usual companions.
json::value mint_account(const x402::Asset& asset) {
  json::object info{{"decimals", asset.decimals},
                    {"freezeAuthority", nullptr},
                    {"isInitialized", true},
                    {"mintAuthority", nullptr},
                    {"supply", "0"}};
  json::object data{{"parsed", json::object{{"info", std::move(info)}, {"type", "mint"}}},
                    {"program", "spl-token"},
                    {"space", 82}};
  return json::object{{"data", std::move(data)},
                      {"executable", false},
                      {"lamports", 1461600},
                      {"owner", std::string(sol::kTokenProgram)},
                      {"space", 82}};
}

std::string account_info(const json::value& id, const json::value* params) {
  const json::array* list = params != nullptr ? params->if_array() : nullptr;
  if (list == nullptr || list->empty() || !list->at(0).is_string())
    return error_answer(id, kInvalidParams, "getAccountInfo: expected [address, {config}]");
  // Only jsonParsed is simulated: the other encodings are the raw account bytes, which the
  // embedded facilitator does not hold.
  std::string encoding;
  if (list->size() > 1 && list->at(1).is_object()) {
    if (const json::value* e = list->at(1).get_object().if_contains("encoding");
        e && e->is_string())
      encoding = std::string(e->get_string());
  }
  if (encoding != "jsonParsed") {
    return error_answer(
        id, kInvalidParams,
        "getAccountInfo: the simulated Solana RPC answers only encoding jsonParsed, got " +
            (encoding.empty() ? std::string("the default (base64)") : encoding));
  }
  const x402::Asset* asset = known_solana_mint(list->at(0).get_string());
  json::value value = asset != nullptr ? mint_account(*asset) : json::value(nullptr);
  return result_answer(id, json::object{{"context", context(current_slot())}, {"value", value}});
}

}  // namespace

std::string answer_simulated_solana_rpc(std::string_view request_body) {
  auto parsed = x402::parse_strict_json(request_body);
  if (!parsed.ok())
    return error_answer(nullptr, kParseError, "Parse error: " + parsed.error().message);
  const json::object* request = parsed->if_object();
  if (request == nullptr) {
    return error_answer(nullptr, kInvalidRequest,
                        "Invalid request: expected one JSON-RPC 2.0 request object (batches are "
                        "not simulated)");
  }
  json::value id = nullptr;
  if (const json::value* given = request->if_contains("id"))
    id = *given;
  const json::value* method = request->if_contains("method");
  if (method == nullptr || !method->is_string())
    return error_answer(id, kInvalidRequest, "Invalid request: no method");
  const std::string name(method->get_string());
  if (name == "getLatestBlockhash")
    return result_answer(id, latest_blockhash());
  if (name == "getAccountInfo")
    return account_info(id, request->if_contains("params"));
  return error_answer(id, kMethodNotFound,
                      "Method not found: " + name +
                          " (the embedded facilitator simulates only getLatestBlockhash and "
                          "getAccountInfo)");
}

}  // namespace x402proxy::facilitator
