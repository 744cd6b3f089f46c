// The simulated Solana RPC's accounts in the raw SPL layouts a buyer's client decodes itself
// (base64 / base58, mint 82 bytes, token account 165 bytes) and as jsonParsed, with the token
// accounts of the embedded facilitator's ledger.
#include <boost/json.hpp>
#include <catch2/catch.hpp>

#include "facilitator/embedded/ledger.h"
#include "facilitator/service/simulated_solana_rpc.h"
#include "signers/solana/base58.h"
#include "signers/solana/pda.h"
#include "x402/base64.h"

using namespace x402proxy;
namespace json = boost::json;
namespace sol = signers::solana;

namespace {

constexpr const char* kDevnet = "solana:EtWTRABZaYq6iMfeYKouRu166VU2xqa1";
constexpr const char* kDevnetUsdcMint = "4zMMC9srt5Ri5X14GAgXhaHii3GnPAEERYPJgZJDncDU";
constexpr const char* kBuyer = "2wKupLR9q6wXYppw8Gr2NvWxKBUqm4PPJKkQfoxHDBg4";
constexpr const char* kSeller = "EwWqGE4ZFKLofuestmU4LDdK7XM1N4ALgdZccwYugwGd";

json::object call(const std::string& method, const std::string& params,
                  facilitator::Ledger* ledger = nullptr) {
  const std::string body =
      R"({"jsonrpc":"2.0","id":1,"method":")" + method + R"(","params":)" + params + "}";
  return json::parse(facilitator::answer_simulated_solana_rpc(body, ledger)).as_object();
}

std::vector<std::uint8_t> bytes_of(const json::value& data) {
  REQUIRE(data.is_array());
  const std::string text(data.at(0).as_string());
  const std::string encoding(data.at(1).as_string());
  if (encoding == "base64") {
    auto decoded = x402::base64_decode(text);
    REQUIRE(decoded.ok());
    return {decoded->begin(), decoded->end()};
  }
  REQUIRE(encoding == "base58");
  auto decoded = sol::base58_decode(text);
  REQUIRE(decoded.ok());
  return *decoded;
}

std::uint64_t u64_at(const std::vector<std::uint8_t>& bytes, std::size_t offset) {
  std::uint64_t value = 0;
  for (int i = 7; i >= 0; --i)
    value = value << 8 | bytes.at(offset + static_cast<std::size_t>(i));
  return value;
}

std::string ata_of(const std::string& owner) {
  auto address = sol::associated_token_account(*sol::decode_pubkey(owner),
                                               *sol::decode_pubkey(kDevnetUsdcMint),
                                               sol::program_pubkey(sol::kTokenProgram));
  REQUIRE(address.ok());
  return sol::base58_encode(*address);
}

}  // namespace

TEST_CASE("a mint is served as its 82 raw bytes in base64 and base58, and as jsonParsed",
          "[simulated_solana_rpc][accounts]") {
  const std::string mint = std::string("[\"") + kDevnetUsdcMint + "\",";
  auto base64 = call("getAccountInfo", mint + R"({"encoding":"base64","commitment":"confirmed"}])");
  const json::value& account = base64.at("result").at("value");
  CHECK(account.at("owner").as_string() == sol::kTokenProgram);
  CHECK(account.at("space") == 82);
  CHECK(account.at("lamports") == 1461600);
  auto bytes = bytes_of(account.at("data"));
  REQUIRE(bytes.size() == 82);
  CHECK(bytes[44] == 6);  // decimals
  CHECK(bytes[45] == 1);  // is_initialized
  CHECK(std::all_of(bytes.begin(), bytes.begin() + 4,
                    [](auto b) { return b == 0; }));  // no authority

  auto base58 = call("getAccountInfo", mint + R"({"encoding":"base58"}])");
  CHECK(bytes_of(base58.at("result").at("value").at("data")) == bytes);
  // No encoding: the node's legacy binary, a bare base58 string.
  auto plain = call("getAccountInfo", std::string("[\"") + kDevnetUsdcMint + "\"]");
  CHECK(*sol::base58_decode(plain.at("result").at("value").at("data").as_string()) == bytes);

  auto parsed = call("getAccountInfo", mint + R"({"encoding":"jsonParsed"}])");
  const json::value& data = parsed.at("result").at("value").at("data");
  CHECK(data.at("program") == "spl-token");
  CHECK(data.at("parsed").at("type") == "mint");
  CHECK(data.at("parsed").at("info").at("decimals") == 6);
}

TEST_CASE("the ledger's holders have 165-byte token accounts holding their ledger balance",
          "[simulated_solana_rpc][accounts]") {
  auto ledger = facilitator::Ledger::open(":memory:", 1'000'000);
  REQUIRE(ledger.ok());
  facilitator::LedgerTransfer transfer;
  transfer.network = kDevnet;
  transfer.asset = kDevnetUsdcMint;
  transfer.payer = kBuyer;
  transfer.payee = kSeller;
  transfer.amount = 2500;
  transfer.payment_id = "svm:test:1";
  transfer.transaction = "t";
  REQUIRE((*ledger)->record(transfer).ok());
  facilitator::Ledger* book = ledger->get();

  const std::string seller_ata = ata_of(kSeller);
  auto info = call("getAccountInfo", "[\"" + seller_ata + R"(",{"encoding":"base64"}])", book);
  const json::value& account = info.at("result").at("value");
  REQUIRE(account.is_object());
  CHECK(account.at("owner").as_string() == sol::kTokenProgram);
  CHECK(account.at("space") == 165);
  auto bytes = bytes_of(account.at("data"));
  REQUIRE(bytes.size() == 165);
  CHECK(sol::base58_encode(std::span(bytes.data(), 32)) == kDevnetUsdcMint);
  CHECK(sol::base58_encode(std::span(bytes.data() + 32, 32)) == kSeller);
  CHECK(u64_at(bytes, 64) == 2500);
  CHECK(bytes[108] == 1);  // initialized

  auto buyer = call("getAccountInfo", "[\"" + ata_of(kBuyer) + R"(",{"encoding":"base64"}])", book);
  CHECK(u64_at(bytes_of(buyer.at("result").at("value").at("data")), 64) == 1'000'000 - 2500);

  auto parsed =
      call("getAccountInfo", "[\"" + seller_ata + R"(",{"encoding":"jsonParsed"}])", book);
  const json::value& token = parsed.at("result").at("value").at("data").at("parsed");
  CHECK(token.at("type") == "account");
  CHECK(token.at("info").at("owner") == kSeller);
  CHECK(token.at("info").at("tokenAmount").at("amount") == "2500");
  CHECK(token.at("info").at("tokenAmount").at("uiAmountString") == "0.0025");

  // As a node: base58 only up to 128 bytes, unless a dataSlice makes it smaller.
  auto too_long = call("getAccountInfo", "[\"" + seller_ata + R"(",{"encoding":"base58"}])", book);
  CHECK(too_long.at("error").at("code") == -32602);
  auto sliced =
      call("getAccountInfo",
           "[\"" + seller_ata + R"(",{"encoding":"base58","dataSlice":{"offset":64,"length":8}}])",
           book);
  auto amount = bytes_of(sliced.at("result").at("value").at("data"));
  REQUIRE(amount.size() == 8);
  CHECK(u64_at(amount, 0) == 2500);

  auto balance = call("getTokenAccountBalance", "[\"" + seller_ata + "\"]", book);
  CHECK(balance.at("result").at("value").at("amount") == "2500");
  CHECK(balance.at("result").at("value").at("decimals") == 6);

  auto by_owner = call("getTokenAccountsByOwner",
                       std::string("[\"") + kSeller + R"(",{"mint":")" + kDevnetUsdcMint +
                           R"("},{"encoding":"base64"}])",
                       book);
  const json::array& owned = by_owner.at("result").at("value").as_array();
  REQUIRE(owned.size() == 1);
  CHECK(owned[0].at("pubkey").as_string() == seller_ata);

  auto several = call("getMultipleAccounts",
                      std::string("[[\"") + kDevnetUsdcMint + "\",\"" + seller_ata +
                          R"(","11111111111111111111111111111111"],{"encoding":"base64"}])",
                      book);
  const json::array& values = several.at("result").at("value").as_array();
  REQUIRE(values.size() == 3);
  CHECK(values[0].at("space") == 82);
  CHECK(values[1].at("space") == 165);
  CHECK(values[2].is_null());

  // Without a ledger only the mints exist.
  CHECK(call("getAccountInfo", "[\"" + seller_ata + R"(",{"encoding":"base64"}])")
            .at("result")
            .at("value")
            .is_null());
}

TEST_CASE("the simulated RPC answers the chain reads a payer makes besides accounts",
          "[simulated_solana_rpc][accounts]") {
  auto slot = call("getSlot", R"([{"commitment":"confirmed"}])");
  auto height = call("getBlockHeight", "[]");
  auto blockhash = call("getLatestBlockhash", R"([{"commitment":"confirmed"}])");
  CHECK(slot.at("result").to_number<std::uint64_t>() > 0);
  CHECK(height.at("result").to_number<std::uint64_t>() >=
        slot.at("result").to_number<std::uint64_t>());
  CHECK(blockhash.at("result").at("value").at("lastValidBlockHeight").to_number<std::uint64_t>() >
        height.at("result").to_number<std::uint64_t>());
  CHECK(call("getMinimumBalanceForRentExemption", "[165]").at("result") == 2039280);
  CHECK(call("getBalance", std::string("[\"") + kDevnetUsdcMint + "\"]").at("result").at("value") ==
        1461600);
}
