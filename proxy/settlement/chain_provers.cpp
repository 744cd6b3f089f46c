#include "proxy/settlement/chain_provers.h"

#include <algorithm>
#include <cctype>
#include <ctime>
#include <sstream>

#include <boost/json.hpp>

#include "signers/evm/exact_evm_payment.h"
#include "signers/evm/hex.h"
#include "x402/networks.h"

namespace x402proxy::proxy {
namespace asio = boost::asio;
namespace json = boost::json;
namespace evm = signers::evm;

using namespace std::string_literals;

namespace {

// keccak256 of the event signatures (FiatTokenV2_2, EIP-3009 and ERC-20).
constexpr std::string_view kTransferTopic =
    "0xddf252ad1be2c89b69c2b068fc378daa952ba7f163c4a11628f55a4df523b3ef";
constexpr std::string_view kAuthorizationUsedTopic =
    "0x98de503528ee59b575ef0c0a2576a82497bfc029a5685b209e9ec333479b10a5";
constexpr std::string_view kAuthorizationCanceledTopic =
    "0x1cdd46ff242716cdaa72d159d339a485b3438398348d68f09d7c8c0a59353d81";
// authorizationState(address,bytes32)
constexpr std::string_view kAuthorizationStateSelector = "e94a0102";

std::string lower(std::string_view text) {
  std::string out(text);
  std::transform(out.begin(), out.end(), out.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}

// An address as a 32-byte topic / ABI word: 12 zero bytes, then the 20.
std::string address_word(const evm::Address& address) {
  return std::string(24, '0') + evm::to_hex(address.bytes, false);
}

std::string hex_quantity(std::uint64_t value) {
  std::ostringstream out;
  out << "0x" << std::hex << value;
  return out.str();
}

Result<std::uint64_t> parse_quantity(const json::value& value) {
  if (!value.is_string())
    return make_error("rpc", "expected a hex quantity");
  std::string_view text = value.get_string();
  if (!text.starts_with("0x") || text.size() < 3 || text.size() > 18)
    return make_error("rpc", "expected a hex quantity");
  std::uint64_t out = 0;
  for (char c : text.substr(2)) {
    if (!std::isxdigit(static_cast<unsigned char>(c)))
      return make_error("rpc", "expected a hex quantity");
    out = out * 16 + static_cast<std::uint64_t>(std::isdigit(static_cast<unsigned char>(c))
                                                    ? c - '0'
                                                    : std::tolower(c) - 'a' + 10);
  }
  return out;
}

std::vector<std::string> split_words(const std::string& text) {
  std::vector<std::string> out;
  std::istringstream in(text);
  for (std::string word; in >> word;)
    out.push_back(word);
  return out;
}

// Request parameters are built outside the coroutines: GCC 12 miscompiles the arrays behind
// braced initializer lists in a coroutine's full-expressions ("array used as initializer").
json::array one_param(std::string value) {
  json::array params;
  params.emplace_back(std::move(value));
  return params;
}

json::array eth_call_params(const std::string& to, const std::string& data) {
  json::object call;
  call["to"] = to;
  call["data"] = data;
  json::array params;
  params.emplace_back(std::move(call));
  params.emplace_back("latest");
  return params;
}

json::array latest_block_params() {
  json::array params;
  params.emplace_back("latest");
  params.emplace_back(false);
  return params;
}

json::array get_logs_params(const std::string& token, std::uint64_t from_block,
                            std::string_view topic, const std::string& authorizer,
                            const std::string& nonce) {
  json::array topics;
  topics.emplace_back(topic);
  topics.emplace_back(authorizer);
  topics.emplace_back(nonce);
  json::object filter;
  filter["address"] = token;
  filter["fromBlock"] = hex_quantity(from_block);
  filter["toBlock"] = "latest";
  filter["topics"] = std::move(topics);
  json::array params;
  params.emplace_back(std::move(filter));
  return params;
}

json::array signature_status_params(const std::vector<std::string>& signatures) {
  json::array list;
  for (const auto& signature : signatures)
    list.emplace_back(signature);
  json::object options;
  options["searchTransactionHistory"] = true;
  json::array params;
  params.emplace_back(std::move(list));
  params.emplace_back(std::move(options));
  return params;
}

const std::array<std::string_view, 2> kSpentTopics = {kAuthorizationUsedTopic,
                                                      kAuthorizationCanceledTopic};

ChainProof proof(ChainProof::Kind kind, std::string transaction = {}, std::string reason = {}) {
  return ChainProof{kind, std::move(transaction), std::move(reason)};
}

// Whether `receipt` (eth_getTransactionReceipt) is a successful transaction of `token` in which
// `from` authorized `nonce` and `amount` went from `from` to `pay_to`.
bool receipt_proves(const json::value& receipt, const std::string& token, const std::string& from,
                    const std::string& nonce, const std::string& pay_to,
                    const std::string& amount_word) {
  if (!receipt.is_object())
    return false;
  const json::object& object = receipt.get_object();
  const json::value* status = object.if_contains("status");
  if (status == nullptr || !status->is_string() || status->get_string() != "0x1")
    return false;
  const json::value* logs = object.if_contains("logs");
  if (logs == nullptr || !logs->is_array())
    return false;
  bool authorized = false;
  bool transferred = false;
  for (const json::value& log : logs->get_array()) {
    if (!log.is_object())
      continue;
    const json::object& entry = log.get_object();
    const json::value* address = entry.if_contains("address");
    const json::value* topics = entry.if_contains("topics");
    if (address == nullptr || !address->is_string() || lower(address->get_string()) != token ||
        topics == nullptr || !topics->is_array())
      continue;
    const json::array& t = topics->get_array();
    auto topic = [&](std::size_t i) {
      return i < t.size() && t[i].is_string() ? lower(t[i].get_string()) : std::string();
    };
    if (topic(0) == kAuthorizationUsedTopic && topic(1) == from && topic(2) == nonce)
      authorized = true;
    if (topic(0) == kTransferTopic && topic(1) == from && topic(2) == pay_to) {
      const json::value* data = entry.if_contains("data");
      if (data != nullptr && data->is_string() && lower(data->get_string()) == amount_word)
        transferred = true;
    }
  }
  return authorized && transferred;
}

}  // namespace

Result<std::shared_ptr<ChainProvers>> ChainProvers::create(
    asio::any_io_executor executor, const std::map<std::string, std::string>& rpc_urls,
    ChainProverOptions options) {
  std::shared_ptr<ChainProvers> provers(new ChainProvers(options));
  for (const auto& [network, url] : rpc_urls) {
    auto client = net::JsonRpcClient::create(executor, url, options.call_budget);
    if (!client.ok())
      return make_error("rpc.url", "rpc." + network + ": " + client.error().message);
    provers->clients_[x402::to_caip2(network)] = std::move(client).value();
  }
  return provers;
}

bool ChainProvers::covers(const std::string& network) const {
  return clients_.count(x402::to_caip2(network)) != 0;
}

asio::awaitable<ChainProof> ChainProvers::prove(const JournalEntry& row,
                                                const x402::PaymentPayload& payment,
                                                const x402::PaymentRequirements& requirements) {
  auto client = clients_.find(x402::to_caip2(requirements.network));
  if (client == clients_.end())
    co_return proof(ChainProof::Kind::unavailable, {}, "no rpc for "s + requirements.network);
  auto network = x402::describe_network(requirements.network);
  if (network && network->family == x402::NetworkFamily::solana)
    co_return co_await prove_svm(*client->second, row);
  co_return co_await prove_evm(*client->second, row, payment, requirements);
}

asio::awaitable<ChainProof> ChainProvers::prove_evm(net::JsonRpcClient& rpc,
                                                    const JournalEntry& row,
                                                    const x402::PaymentPayload& payment,
                                                    const x402::PaymentRequirements& requirements) {
  auto payload = evm::read_exact_evm_payload(payment.payload);
  auto pay_to = evm::parse_address(requirements.pay_to);
  if (!payload.ok() || !pay_to.ok())
    co_return proof(ChainProof::Kind::unavailable, {}, "the stored payment cannot be read"s);
  const auto& authorization = payload->authorization;
  const std::string token = lower(requirements.asset);
  const std::string from = "0x"s + address_word(authorization.from);
  const std::string to = "0x"s + address_word(*pay_to);
  const std::string nonce = lower(evm::to_hex(authorization.nonce));
  std::ostringstream amount_hex;
  amount_hex << std::hex << authorization.value;
  std::string amount_word = amount_hex.str();
  amount_word =
      "0x"s + std::string(64 - std::min<std::size_t>(64, amount_word.size()), '0') + amount_word;

  // 1. A transaction a facilitator named, if its receipt shows this very authorization paying us.
  for (const std::string& transaction : split_words(row.seen_transactions)) {
    auto receipt = co_await rpc.call("eth_getTransactionReceipt"s, one_param(transaction));
    if (receipt.ok() && receipt_proves(*receipt, token, from, nonce, to, amount_word))
      co_return proof(ChainProof::Kind::settled, transaction);
  }

  // 2. Is the authorization spent at all?
  const std::string call_data = "0x"s + std::string(kAuthorizationStateSelector) +
                                address_word(authorization.from) + nonce.substr(2);
  auto state = co_await rpc.call("eth_call"s, eth_call_params(requirements.asset, call_data));
  if (!state.ok() || !state->is_string())
    co_return proof(ChainProof::Kind::unavailable, {},
                    state.ok() ? "eth_call"s : state.error().message);
  const std::string used = lower(state->get_string());
  const bool spent = used.size() == 66 && used.back() == '1';
  if (!spent) {
    // Unused. FiatToken requires block.timestamp < validBefore: once the chain is past it, the
    // authorization can never be used.
    auto block = co_await rpc.call("eth_getBlockByNumber"s, latest_block_params());
    std::uint64_t chain_time = static_cast<std::uint64_t>(std::time(nullptr));
    if (block.ok() && block->is_object()) {
      if (const json::value* stamp = block->get_object().if_contains("timestamp"s)) {
        if (auto parsed = parse_quantity(*stamp); parsed.ok())
          chain_time = *parsed;
      }
    }
    if (evm::Uint256(chain_time) >= authorization.valid_before)
      co_return proof(ChainProof::Kind::refused, {}, "authorization_expired_unused"s);
    co_return proof(ChainProof::Kind::not_yet);
  }

  // 3. Spent: by this authorization paying us, by another one with the same nonce, or cancelled.
  auto latest = co_await rpc.call("eth_blockNumber"s, json::array());
  if (!latest.ok())
    co_return proof(ChainProof::Kind::unavailable, {}, latest.error().message);
  auto head = parse_quantity(*latest);
  if (!head.ok())
    co_return proof(ChainProof::Kind::unavailable, {}, "eth_blockNumber"s);
  const std::uint64_t from_block =
      *head > options_.evm_log_window ? *head - options_.evm_log_window : 0;
  for (std::string_view topic : kSpentTopics) {
    auto logs = co_await rpc.call(
        "eth_getLogs"s, get_logs_params(requirements.asset, from_block, topic, from, nonce));
    if (!logs.ok() || !logs->is_array())
      co_return proof(ChainProof::Kind::unavailable, {},
                      logs.ok() ? "eth_getLogs"s : logs.error().message);
    for (const json::value& log : logs->get_array()) {
      const json::value* hash =
          log.is_object() ? log.get_object().if_contains("transactionHash"s) : nullptr;
      if (hash == nullptr || !hash->is_string())
        continue;
      const std::string transaction(hash->get_string());
      if (topic == kAuthorizationCanceledTopic)
        co_return proof(ChainProof::Kind::refused, transaction, "authorization_canceled"s);
      auto receipt = co_await rpc.call("eth_getTransactionReceipt"s, one_param(transaction));
      if (!receipt.ok())
        co_return proof(ChainProof::Kind::unavailable, {}, receipt.error().message);
      if (receipt_proves(*receipt, token, from, nonce, to, amount_word))
        co_return proof(ChainProof::Kind::settled, transaction);
      // The nonce was used by another authorization of the same payer: not a payment to us.
      co_return proof(ChainProof::Kind::refused, transaction,
                      "nonce_used_by_another_authorization"s);
    }
  }
  co_return proof(ChainProof::Kind::unavailable, {},
                  "the authorization is used but no event for it was found in the last "s +
                      std::to_string(options_.evm_log_window) + " blocks"s);
}

asio::awaitable<ChainProof> ChainProvers::prove_svm(net::JsonRpcClient& rpc,
                                                    const JournalEntry& row) {
  const auto signatures = split_words(row.seen_transactions);
  if (signatures.empty()) {
    // Without the signature the fee payer made, Solana cannot be asked about this transaction.
    co_return proof(ChainProof::Kind::unavailable, {}, "no transaction signature known"s);
  }
  auto statuses = co_await rpc.call("getSignatureStatuses"s, signature_status_params(signatures));
  if (!statuses.ok() || !statuses->is_object())
    co_return proof(ChainProof::Kind::unavailable, {},
                    statuses.ok() ? "getSignatureStatuses"s : statuses.error().message);
  const json::value* value = statuses->get_object().if_contains("value"s);
  if (value == nullptr || !value->is_array())
    co_return proof(ChainProof::Kind::unavailable, {}, "getSignatureStatuses: no value"s);
  bool failed = false;
  for (std::size_t i = 0; i < value->get_array().size() && i < signatures.size(); ++i) {
    const json::value& status = value->get_array()[i];
    if (!status.is_object())
      continue;  // null: not (yet) seen
    const json::object& s = status.get_object();
    const json::value* err = s.if_contains("err"s);
    const json::value* confirmation = s.if_contains("confirmationStatus"s);
    const bool confirmed =
        confirmation != nullptr && confirmation->is_string() &&
        (confirmation->get_string() == "confirmed"s || confirmation->get_string() == "finalized"s);
    if (err != nullptr && !err->is_null()) {
      failed = true;
      continue;
    }
    if (confirmed)
      co_return proof(ChainProof::Kind::settled, signatures[i]);
  }
  if (failed)
    co_return proof(ChainProof::Kind::refused, {}, "transaction_failed_on_chain"s);
  co_return proof(ChainProof::Kind::not_yet);
}

}  // namespace x402proxy::proxy
