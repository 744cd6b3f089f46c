#include "facilitator/service/simulated_solana_rpc.h"

#include "mcp/jsonrpc_reply.h"

#include <sodium.h>

#include <chrono>
#include <cstdint>
#include <optional>
#include <span>
#include <vector>

#include <boost/json.hpp>

#include "facilitator/embedded/ledger.h"
#include "facilitator/service/spl_account_layouts.h"
#include "signers/solana/base58.h"
#include "signers/solana/pda.h"
#include "x402/base64.h"
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
// agave rpc MAX_BASE58_BYTES: a node refuses base58 for larger account data.
constexpr std::size_t kMaxBase58Bytes = 128;

std::string error_answer(const json::value& id, int code, const std::string& message) {
  return mcp::jsonrpc_error(id, code, message);
}

std::string result_answer(const json::value& id, json::value result) {
  return mcp::jsonrpc_result(id, std::move(result));
}

// A slot that grows like a real one (a slot is about 400 ms), derived from the clock so that the
// simulation keeps no state. Block height is taken equal to it (no skipped slots here).
std::uint64_t current_slot() {
  auto now = std::chrono::system_clock::now().time_since_epoch();
  return static_cast<std::uint64_t>(
      std::chrono::duration_cast<std::chrono::milliseconds>(now).count() / 400);
}

json::value with_context(json::value value) {
  return json::object{{"context", json::object{{"slot", current_slot()}}},
                      {"value", std::move(value)}};
}

json::value latest_blockhash() {
  // libsodium's randombytes_buf needs sodium_init first (idempotent and thread-safe); it reads the
  // OS CSPRNG. Random bytes are all a blockhash is to the buyer, who copies it into the message.
  static const bool sodium_ready = sodium_init() >= 0;
  (void)sodium_ready;
  sol::Pubkey hash{};
  randombytes_buf(hash.data(), hash.size());
  return with_context(json::object{{"blockhash", sol::base58_encode(hash)},
                                   {"lastValidBlockHeight", current_slot() + kBlockhashLifetime}});
}

// Solana's rent-exempt minimum: (128 bytes of account overhead + data) * 3480 lamports per byte-
// year * 2 years (solana-program rent.rs defaults): 1461600 for a mint, 2039280 for an account.
std::uint64_t rent_exempt_lamports(std::uint64_t data_size) {
  return (128 + data_size) * 3480 * 2;
}

// The registry's entry for a Solana mint, or nullptr when it is not one the registry knows.
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

// One account of the simulated chain: a registry mint, or a holder's associated token account of
// one (all under the classic Token program, as the registry's mints are).
struct SimulatedAccount {
  const x402::Asset* mint = nullptr;
  std::optional<sol::Pubkey> holder;  // set for a token account
  x402::Amount amount = 0;            // a token account's ledger balance
};

std::uint64_t clamp_u64(const x402::Amount& amount) {
  return amount > x402::Amount(UINT64_MAX) ? UINT64_MAX : static_cast<std::uint64_t>(amount);
}

std::vector<std::uint8_t> account_bytes(const SimulatedAccount& account) {
  const sol::Pubkey mint = sol::program_pubkey(account.mint->address);
  if (account.holder) {
    auto bytes = token_account_layout(mint, *account.holder, clamp_u64(account.amount));
    return {bytes.begin(), bytes.end()};
  }
  auto bytes = mint_layout(0, static_cast<std::uint8_t>(account.mint->decimals));
  return {bytes.begin(), bytes.end()};
}

// "1.5" for 1500000 at 6 decimals, as a node's uiAmountString.
std::string ui_amount_string(const x402::Amount& amount, unsigned decimals) {
  std::string digits = x402::to_string(amount);
  if (decimals == 0)
    return digits;
  if (digits.size() <= decimals)
    digits.insert(0, decimals + 1 - digits.size(), '0');
  std::string whole = digits.substr(0, digits.size() - decimals);
  std::string fraction = digits.substr(digits.size() - decimals);
  while (!fraction.empty() && fraction.back() == '0')
    fraction.pop_back();
  return fraction.empty() ? whole : whole + "." + fraction;
}

json::object token_amount(const x402::Amount& amount, unsigned decimals) {
  const std::string ui = ui_amount_string(amount, decimals);
  return json::object{{"amount", x402::to_string(amount)},
                      {"decimals", decimals},
                      {"uiAmount", std::stod(ui)},
                      {"uiAmountString", ui}};
}

json::value parsed_data(const SimulatedAccount& account) {
  json::object parsed;
  if (account.holder) {
    parsed = json::object{
        {"info",
         json::object{{"isNative", false},
                      {"mint", std::string(account.mint->address)},
                      {"owner", sol::base58_encode(*account.holder)},
                      {"state", "initialized"},
                      {"tokenAmount", token_amount(account.amount, account.mint->decimals)}}},
        {"type", "account"}};
  } else {
    parsed = json::object{{"info", json::object{{"decimals", account.mint->decimals},
                                                {"freezeAuthority", nullptr},
                                                {"isInitialized", true},
                                                {"mintAuthority", nullptr},
                                                {"supply", "0"}}},
                          {"type", "mint"}};
  }
  return json::object{{"parsed", std::move(parsed)},
                      {"program", "spl-token"},
                      {"space", account.holder ? kTokenAccountSize : kMintSize}};
}

// How the caller asked for account data: config.encoding and config.dataSlice.
struct Encoding {
  std::string name;  // "" = the node's default, legacy binary (bare base58 string)
  std::optional<std::pair<std::size_t, std::size_t>> slice;  // offset, length
};

Result<Encoding> read_encoding(const json::value* config) {
  Encoding out;
  if (config == nullptr || !config->is_object())
    return out;
  const json::object& object = config->get_object();
  if (const json::value* e = object.if_contains("encoding"); e != nullptr) {
    if (!e->is_string())
      return make_error("params", "encoding must be a string");
    out.name = std::string(e->get_string());
    if (out.name == "binary")
      out.name.clear();
    if (!out.name.empty() && out.name != "base64" && out.name != "base58" &&
        out.name != "jsonParsed") {
      return make_error("params", "the simulated Solana RPC does not encode " + out.name +
                                      " (base64, base58 and jsonParsed only)");
    }
  }
  if (const json::value* s = object.if_contains("dataSlice"); s != nullptr) {
    const json::object* slice = s->if_object();
    const json::value* offset = slice ? slice->if_contains("offset") : nullptr;
    const json::value* length = slice ? slice->if_contains("length") : nullptr;
    if (offset == nullptr || length == nullptr || !offset->is_number() || !length->is_number())
      return make_error("params", "dataSlice needs numeric offset and length");
    boost::system::error_code ec1, ec2;
    auto o = offset->to_number<std::size_t>(ec1);
    auto l = length->to_number<std::size_t>(ec2);
    if (ec1 || ec2)
      return make_error("params", "dataSlice offset and length must be non-negative integers");
    out.slice = std::pair{o, l};
  }
  return out;
}

Result<json::value> render_account(const SimulatedAccount& account, const Encoding& encoding) {
  const std::size_t space = account.holder ? kTokenAccountSize : kMintSize;
  json::value data;
  if (encoding.name == "jsonParsed") {
    data = parsed_data(account);
  } else {
    std::vector<std::uint8_t> bytes = account_bytes(account);
    if (encoding.slice) {
      const std::size_t from = std::min(encoding.slice->first, bytes.size());
      const std::size_t to = std::min(bytes.size(), from + encoding.slice->second);
      bytes = std::vector<std::uint8_t>(bytes.begin() + static_cast<std::ptrdiff_t>(from),
                                        bytes.begin() + static_cast<std::ptrdiff_t>(to));
    }
    if (encoding.name == "base64") {
      data = json::array{x402::base64_encode(std::string_view(
                             reinterpret_cast<const char*>(bytes.data()), bytes.size())),
                         "base64"};
    } else {
      if (bytes.size() > kMaxBase58Bytes) {
        return make_error("params",
                          "Encoded binary (base 58) data should be less than 128 "
                          "bytes, please use Base64 encoding.");
      }
      std::string text = sol::base58_encode(bytes);
      data = encoding.name.empty() ? json::value(text) : json::value(json::array{text, "base58"});
    }
  }
  return json::value(json::object{{"data", std::move(data)},
                                  {"executable", false},
                                  {"lamports", rent_exempt_lamports(space)},
                                  {"owner", std::string(sol::kTokenProgram)},
                                  {"rentEpoch", UINT64_MAX},
                                  {"space", space}});
}

// The holder's associated token account of `mint` and what the ledger says it holds (the
// starting balance for a holder it has never seen); nullopt when that is nothing and the holder
// is unknown, as an account nobody created.
std::optional<std::pair<sol::Pubkey, SimulatedAccount>> token_account_of(
    Ledger& ledger, const x402::Asset& mint, const sol::Pubkey& holder) {
  auto address = sol::associated_token_account(holder, sol::program_pubkey(mint.address),
                                               sol::program_pubkey(sol::kTokenProgram));
  if (!address.ok())
    return std::nullopt;
  auto balance = ledger.balance(std::string(mint.network), std::string(mint.address),
                                sol::base58_encode(holder));
  if (!balance.ok() || *balance == 0)
    return std::nullopt;
  return std::pair{*address, SimulatedAccount{&mint, holder, *balance}};
}

// The account at `address`: a known mint, or the token account of a holder the ledger records.
std::optional<SimulatedAccount> find_account(std::string_view address, Ledger* ledger) {
  if (const x402::Asset* mint = known_solana_mint(address))
    return SimulatedAccount{mint, std::nullopt, 0};
  auto wanted = sol::decode_pubkey(address);
  if (ledger == nullptr || !wanted.ok())
    return std::nullopt;
  auto balances = ledger->balances();
  if (!balances.ok())
    return std::nullopt;
  for (const LedgerBalance& row : *balances) {
    const x402::Asset* mint = known_solana_mint(row.asset);
    auto holder = sol::decode_pubkey(row.account);
    if (mint == nullptr || !holder.ok())
      continue;
    auto ata = sol::associated_token_account(*holder, sol::program_pubkey(mint->address),
                                             sol::program_pubkey(sol::kTokenProgram));
    if (ata.ok() && *ata == *wanted)
      return SimulatedAccount{mint, *holder, row.amount};
  }
  return std::nullopt;
}

const json::array* params_of(const json::value* params) {
  return params != nullptr ? params->if_array() : nullptr;
}

std::string account_info(const json::value& id, const json::value* params, Ledger* ledger) {
  const json::array* list = params_of(params);
  if (list == nullptr || list->empty() || !list->at(0).is_string())
    return error_answer(id, kInvalidParams, "getAccountInfo: expected [address, {config}]");
  auto encoding = read_encoding(list->size() > 1 ? &list->at(1) : nullptr);
  if (!encoding.ok())
    return error_answer(id, kInvalidParams, "getAccountInfo: " + encoding.error().message);
  auto account = find_account(list->at(0).get_string(), ledger);
  if (!account)
    return result_answer(id, with_context(nullptr));
  auto rendered = render_account(*account, *encoding);
  if (!rendered.ok())
    return error_answer(id, kInvalidParams, rendered.error().message);
  return result_answer(id, with_context(std::move(rendered).value()));
}

std::string multiple_accounts(const json::value& id, const json::value* params, Ledger* ledger) {
  const json::array* list = params_of(params);
  if (list == nullptr || list->empty() || !list->at(0).is_array())
    return error_answer(id, kInvalidParams,
                        "getMultipleAccounts: expected [[address, ...], {config}]");
  auto encoding = read_encoding(list->size() > 1 ? &list->at(1) : nullptr);
  if (!encoding.ok())
    return error_answer(id, kInvalidParams, "getMultipleAccounts: " + encoding.error().message);
  json::array values;
  for (const json::value& address : list->at(0).get_array()) {
    if (!address.is_string())
      return error_answer(id, kInvalidParams, "getMultipleAccounts: addresses are strings");
    auto account = find_account(address.get_string(), ledger);
    if (!account) {
      values.emplace_back(nullptr);
      continue;
    }
    auto rendered = render_account(*account, *encoding);
    if (!rendered.ok())
      return error_answer(id, kInvalidParams, rendered.error().message);
    values.push_back(std::move(rendered).value());
  }
  return result_answer(id, with_context(std::move(values)));
}

std::string balance(const json::value& id, const json::value* params, Ledger* ledger) {
  const json::array* list = params_of(params);
  if (list == nullptr || list->empty() || !list->at(0).is_string())
    return error_answer(id, kInvalidParams, "getBalance: expected [address]");
  // Lamports: only the simulated accounts hold rent; wallets hold no SOL (the facilitator's fee
  // payer pays every fee here).
  auto account = find_account(list->at(0).get_string(), ledger);
  std::uint64_t lamports =
      account ? rent_exempt_lamports(account->holder ? kTokenAccountSize : kMintSize) : 0;
  return result_answer(id, with_context(lamports));
}

std::string token_account_balance(const json::value& id, const json::value* params,
                                  Ledger* ledger) {
  const json::array* list = params_of(params);
  if (list == nullptr || list->empty() || !list->at(0).is_string())
    return error_answer(id, kInvalidParams, "getTokenAccountBalance: expected [address]");
  auto account = find_account(list->at(0).get_string(), ledger);
  if (!account || !account->holder) {
    // A node's answer for an address that is no token account.
    return error_answer(id, kInvalidParams, "Invalid param: could not find account");
  }
  return result_answer(id, with_context(token_amount(account->amount, account->mint->decimals)));
}

std::string token_accounts_by_owner(const json::value& id, const json::value* params,
                                    Ledger* ledger) {
  const json::array* list = params_of(params);
  if (list == nullptr || list->size() < 2 || !list->at(0).is_string() || !list->at(1).is_object())
    return error_answer(id, kInvalidParams,
                        "getTokenAccountsByOwner: expected [owner, {mint} or {programId}, "
                        "{config}]");
  auto owner = sol::decode_pubkey(list->at(0).get_string());
  if (!owner.ok())
    return error_answer(id, kInvalidParams, "Invalid param: " + owner.error().message);
  auto encoding = read_encoding(list->size() > 2 ? &list->at(2) : nullptr);
  if (!encoding.ok())
    return error_answer(id, kInvalidParams, "getTokenAccountsByOwner: " + encoding.error().message);
  const json::object& filter = list->at(1).get_object();
  std::vector<const x402::Asset*> mints;
  if (const json::value* mint = filter.if_contains("mint"); mint && mint->is_string()) {
    if (const x402::Asset* known = known_solana_mint(mint->get_string()))
      mints.push_back(known);
  } else if (const json::value* program = filter.if_contains("programId");
             program && program->is_string()) {
    if (program->get_string() == sol::kTokenProgram) {
      for (const x402::Asset& asset : x402::known_assets()) {
        if (known_solana_mint(asset.address) == &asset)
          mints.push_back(&asset);
      }
    }
  } else {
    return error_answer(id, kInvalidParams,
                        "getTokenAccountsByOwner: filter needs mint or programId");
  }
  json::array accounts;
  for (const x402::Asset* mint : mints) {
    if (ledger == nullptr)
      break;
    auto held = token_account_of(*ledger, *mint, *owner);
    if (!held)
      continue;
    auto rendered = render_account(held->second, *encoding);
    if (!rendered.ok())
      return error_answer(id, kInvalidParams, rendered.error().message);
    accounts.push_back(json::object{{"account", std::move(rendered).value()},
                                    {"pubkey", sol::base58_encode(held->first)}});
  }
  return result_answer(id, with_context(std::move(accounts)));
}

std::string rent_exemption(const json::value& id, const json::value* params) {
  const json::array* list = params_of(params);
  boost::system::error_code ec;
  std::uint64_t size = 0;
  if (list != nullptr && !list->empty() && list->at(0).is_number())
    size = list->at(0).to_number<std::uint64_t>(ec);
  if (list == nullptr || list->empty() || !list->at(0).is_number() || ec)
    return error_answer(id, kInvalidParams, "getMinimumBalanceForRentExemption: expected [size]");
  return result_answer(id, rent_exempt_lamports(size));
}

}  // namespace

std::string answer_simulated_solana_rpc(std::string_view request_body, Ledger* ledger) {
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
  const json::value* params = request->if_contains("params");
  if (name == "getLatestBlockhash")
    return result_answer(id, latest_blockhash());
  if (name == "getSlot" || name == "getBlockHeight")
    return result_answer(id, current_slot());
  if (name == "getAccountInfo")
    return account_info(id, params, ledger);
  if (name == "getMultipleAccounts")
    return multiple_accounts(id, params, ledger);
  if (name == "getBalance")
    return balance(id, params, ledger);
  if (name == "getTokenAccountBalance")
    return token_account_balance(id, params, ledger);
  if (name == "getTokenAccountsByOwner")
    return token_accounts_by_owner(id, params, ledger);
  if (name == "getMinimumBalanceForRentExemption")
    return rent_exemption(id, params);
  return error_answer(id, kMethodNotFound,
                      "Method not found: " + name +
                          " (the embedded facilitator simulates only the reads a buyer makes "
                          "before paying; it sends no transactions)");
}

}  // namespace x402proxy::facilitator
