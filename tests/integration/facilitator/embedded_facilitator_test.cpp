// The embedded facilitator: in process behind serve, and as the standalone `facilitator` service
// on the standard HTTP API (used by serve as a remote facilitator, and by raw HTTP clients).
#include "signers/solana/exact_svm_payment.h"
#include "tests/integration/facilitator/facilitator_process.h"
#include "tests/support/serve_fixture.h"

using namespace x402proxy::testing;
namespace json = boost::json;

namespace {

std::string paid_error(const HttpReply& reply) {
  auto result = result_of(reply);
  if (!result.contains("isError"))
    return "";
  return std::string(result.at("structuredContent").at("error").as_string());
}

}  // namespace

TEST_CASE("serve with the embedded facilitator settles into its ledger until the payer runs dry",
          "[embedded]") {
  ServeOptionsForTest options;
  std::string dir = make_temp_dir("embedded");
  options.facilitator_yaml = "facilitator: { embedded: true, ledger: " + dir +
                             "/ledger.sqlite, starting_balance: \"$0.0025\" }\n";
  ServeFixture serve(options);
  auto offer = first_offer(result_of(mcp_post(serve.port, tool_call("add"))));
  auto call = [&] {
    return mcp_post(serve.port,
                    tool_call("add", R"({"a":1,"b":2})", meta_with_payment(evm_payment(offer))));
  };
  auto first = result_of(call());
  CHECK(first.at("content").at(0).at("text").as_string() == "3");
  CHECK(first.at("_meta").at("x402/payment-response").at("payer").as_string() == kPayer);
  CHECK(paid_error(call()).empty());
  CHECK(balance_of(dir + "/ledger.sqlite", kPayer) == "500");
  CHECK(balance_of(dir + "/ledger.sqlite", kPayTo) == "2000");  // exactly what it was paid
  CHECK_THAT(paid_error(call()), Catch::Contains("invalid_exact_evm_insufficient_balance"));
  CHECK(serve.upstream_tool_calls("add") == 2);
  CHECK_THAT(serve.proxy->output(), Catch::Contains("moves no money on any chain"));
}

TEST_CASE("the facilitator service speaks the standard API and serve can use it remotely",
          "[embedded][service]") {
  std::string dir = make_temp_dir("facilitator-service");
  FacilitatorProcess facilitator(dir);
  CHECK_THAT(facilitator.process->output(), Catch::Contains("moves no money on any chain"));

  ServeOptionsForTest options;
  options.facilitator_yaml =
      "facilitator: { url: http://127.0.0.1:" + std::to_string(facilitator.port) + " }\n";
  ServeFixture serve(options);
  auto offer = first_offer(result_of(mcp_post(serve.port, tool_call("add"))));
  auto payment = evm_payment(offer);
  auto paid = result_of(
      mcp_post(serve.port, tool_call("add", R"({"a":20,"b":22})", meta_with_payment(payment))));
  CHECK(paid.at("content").at(0).at("text").as_string() == "42");
  CHECK(paid.at("_meta").at("x402/payment-response").at("success").as_bool());
  CHECK(balance_of(dir + "/ledger.sqlite", kPayTo) == "1000");

  // Straight at the API: the same payment is now spent.
  auto requirement = offer;
  json::object body{
      {"x402Version", 2}, {"paymentPayload", payment}, {"paymentRequirements", requirement}};
  auto verify = http_request(facilitator.port, "POST", "/verify", json::serialize(body),
                             {{"Content-Type", "application/json"}});
  REQUIRE(verify.status == 200);
  auto verdict = json::parse(verify.body).as_object();
  CHECK_FALSE(verdict.at("isValid").as_bool());
  CHECK(verdict.at("invalidReason").as_string() == "invalid_exact_evm_nonce_already_used");
  auto settle = http_request(facilitator.port, "POST", "/settle", json::serialize(body),
                             {{"Content-Type", "application/json"}});
  auto settled = json::parse(settle.body).as_object();
  CHECK_FALSE(settled.at("success").as_bool());
  CHECK(settled.at("transaction").as_string() == "");

  // A fresh payment verifies and settles over the API.
  json::object fresh{{"x402Version", 2},
                     {"paymentPayload", evm_payment(offer)},
                     {"paymentRequirements", requirement}};
  auto ok =
      json::parse(http_request(facilitator.port, "POST", "/verify", json::serialize(fresh)).body)
          .as_object();
  CHECK(ok.at("isValid").as_bool());
  CHECK(ok.at("payer").as_string() == kPayer);
  auto done =
      json::parse(http_request(facilitator.port, "POST", "/settle", json::serialize(fresh)).body)
          .as_object();
  CHECK(done.at("success").as_bool());
  CHECK(done.at("transaction").as_string().size() == 66);

  auto supported =
      json::parse(http_request(facilitator.port, "GET", "/supported").body).as_object();
  bool base_sepolia = false;
  for (const auto& kind : supported.at("kinds").as_array()) {
    base_sepolia = base_sepolia || kind.at("network").as_string() == "eip155:84532";
  }
  CHECK(base_sepolia);

  CHECK(http_request(facilitator.port, "POST", "/verify", "{not json").status == 400);
  CHECK(http_request(facilitator.port, "POST", "/verify",
                     R"({"paymentPayload":{},"paymentPayload":{}})")
            .status == 400);
  auto missing = http_request(facilitator.port, "POST", "/verify", R"({"x402Version":2})");
  CHECK(missing.status == 400);
  CHECK_THAT(missing.body, Catch::Contains("paymentRequirements"));
  CHECK(http_request(facilitator.port, "POST", "/verify", std::string(70000, ' ')).status == 413);
  CHECK(http_request(facilitator.port, "GET", "/nope").status == 404);
  CHECK(http_request(facilitator.port, "GET", "/verify").status == 405);
}

TEST_CASE("the facilitator service verifies x402 v1 bodies", "[embedded][service]") {
  std::string dir = make_temp_dir("facilitator-v1");
  FacilitatorProcess facilitator(dir);
  json::object accepted{{"scheme", "exact"},
                        {"network", "eip155:84532"},
                        {"amount", "1000"},
                        {"asset", "0x036CbD53842c5426634e7929541eC2318f3dCF7e"},
                        {"payTo", kPayTo},
                        {"maxTimeoutSeconds", 60},
                        {"extra", {{"name", "USDC"}, {"version", "2"}}}};
  auto v2 = evm_payment(accepted);
  json::object v1_payload{{"x402Version", 1},
                          {"scheme", "exact"},
                          {"network", "base-sepolia"},
                          {"payload", v2.at("payload")}};
  json::object v1_requirement{{"scheme", "exact"},
                              {"network", "base-sepolia"},
                              {"maxAmountRequired", "1000"},
                              {"asset", "0x036CbD53842c5426634e7929541eC2318f3dCF7e"},
                              {"payTo", kPayTo},
                              {"resource", "mcp://tool/add"},
                              {"description", ""},
                              {"mimeType", "application/json"},
                              {"outputSchema", nullptr},
                              {"maxTimeoutSeconds", 60},
                              {"extra", {{"name", "USDC"}, {"version", "2"}}}};
  json::object body{
      {"x402Version", 1}, {"paymentPayload", v1_payload}, {"paymentRequirements", v1_requirement}};
  auto reply = http_request(facilitator.port, "POST", "/verify", json::serialize(body));
  INFO(reply.body);
  REQUIRE(reply.status == 200);
  CHECK(json::parse(reply.body).at("isValid").as_bool());
}

TEST_CASE("a Solana payment buys a call through serve and the embedded facilitator",
          "[embedded][solana]") {
  const std::string fee_payer = "EwWqGE4ZFKLofuestmU4LDdK7XM1N4ALgdZccwYugwGd";
  const std::string seller = "2wKupLR9q6wXYppw8Gr2NvWxKBUqm4PPJKkQfoxHDBg4";
  std::string dir = make_temp_dir("embedded-solana");
  ServeOptionsForTest options;
  options.facilitator_yaml =
      "facilitator: { embedded: true, ledger: " + dir +
      "/ledger.sqlite, starting_balance: \"$1\", solana_fee_payer: " + fee_payer + " }\n";
  options.payment_yaml =
      "pay_to: { solana: " + seller + " }\naccept: [ { network: solana-devnet, asset: USDC } ]\n";
  ServeFixture serve(options);
  auto offer = first_offer(result_of(mcp_post(serve.port, tool_call("add"))));
  CHECK(offer.at("network").as_string() == "solana:EtWTRABZaYq6iMfeYKouRu166VU2xqa1");
  CHECK(offer.at("extra").at("feePayer").as_string() == fee_payer);

  auto requirement = x402proxy::x402::requirements_from_json(offer, 2);
  REQUIRE(requirement.ok());
  auto buyer = x402proxy::signers::solana::SolanaKey::generate();
  REQUIRE(buyer.ok());
  auto payload = x402proxy::signers::solana::create_exact_svm_payload(*buyer, *requirement, {});
  REQUIRE(payload.ok());
  json::object payment{{"x402Version", 2}, {"accepted", offer}, {"payload", *payload}};
  auto paid = result_of(
      mcp_post(serve.port, tool_call("add", R"({"a":4,"b":5})", meta_with_payment(payment))));
  CHECK(paid.at("content").at(0).at("text").as_string() == "9");
  const auto& receipt = paid.at("_meta").at("x402/payment-response").as_object();
  CHECK(receipt.at("success").as_bool());
  CHECK(receipt.at("payer").as_string() ==
        x402proxy::signers::solana::base58_encode(buyer->public_key()));
  CHECK(balance_of(dir + "/ledger.sqlite", seller) == "1000");

  // The identical transaction again: refused by the replay guard before anything else.
  auto again = result_of(
      mcp_post(serve.port, tool_call("add", R"({"a":4,"b":5})", meta_with_payment(payment))));
  CHECK(again.at("isError").as_bool());
  CHECK(serve.upstream_tool_calls("add") == 1);
}

namespace {

const json::object kBaseSepoliaOffer{{"scheme", "exact"},
                                     {"network", "eip155:84532"},
                                     {"amount", "1000"},
                                     {"asset", "0x036CbD53842c5426634e7929541eC2318f3dCF7e"},
                                     {"payTo", kPayTo},
                                     {"maxTimeoutSeconds", 60},
                                     {"extra", {{"name", "USDC"}, {"version", "2"}}}};

json::object call_api(unsigned short port, const std::string& path, const json::object& payment,
                      const json::object& requirement, int version = 2) {
  json::object body{
      {"x402Version", version}, {"paymentPayload", payment}, {"paymentRequirements", requirement}};
  auto reply = http_request(port, "POST", path, json::serialize(body),
                            {{"Content-Type", "application/json"}});
  INFO(path << " " << reply.status << " " << reply.body);
  REQUIRE(reply.status == 200);
  return json::parse(reply.body).as_object();
}

}  // namespace

TEST_CASE("refusals name the payer whenever the payload does, with the official reason names",
          "[embedded][service][reasons]") {
  const std::string fee_payer = "EwWqGE4ZFKLofuestmU4LDdK7XM1N4ALgdZccwYugwGd";
  const std::string seller = "2wKupLR9q6wXYppw8Gr2NvWxKBUqm4PPJKkQfoxHDBg4";
  std::string dir = make_temp_dir("facilitator-refusals");
  FacilitatorProcess facilitator(dir, "$1", "solana_fee_payer: " + fee_payer + "\n", "info");

  auto refused = [&](const json::object& payment, const json::object& requirement,
                     const std::string& reason, const std::string& payer) {
    auto verdict = call_api(facilitator.port, "/verify", payment, requirement);
    CHECK_FALSE(verdict.at("isValid").as_bool());
    CHECK(verdict.at("invalidReason").as_string() == reason);
    REQUIRE(verdict.contains("payer"));
    CHECK(verdict.at("payer").as_string() == payer);
    auto settled = call_api(facilitator.port, "/settle", payment, requirement);
    CHECK_FALSE(settled.at("success").as_bool());
    CHECK(settled.at("errorReason").as_string() == reason);
    CHECK(settled.at("transaction").as_string() == "");
    REQUIRE(settled.contains("payer"));
    CHECK(settled.at("payer").as_string() == payer);
  };

  SECTION("a wrong amount: the v2 name, and the library's v1 name for a v1 payment") {
    refused(evm_payment(kBaseSepoliaOffer, {.signed_amount = "999"}), kBaseSepoliaOffer,
            "invalid_exact_evm_payload_authorization_value_mismatch", kPayer);
    auto v2 = evm_payment(kBaseSepoliaOffer, {.signed_amount = "999"});
    json::object v1_payment{{"x402Version", 1},
                            {"scheme", "exact"},
                            {"network", "base-sepolia"},
                            {"payload", v2.at("payload")}};
    json::object v1_requirement{{"scheme", "exact"},
                                {"network", "base-sepolia"},
                                {"maxAmountRequired", "1000"},
                                {"asset", "0x036CbD53842c5426634e7929541eC2318f3dCF7e"},
                                {"payTo", kPayTo},
                                {"resource", "https://example.test/paid"},
                                {"description", ""},
                                {"mimeType", "application/json"},
                                {"maxTimeoutSeconds", 60},
                                {"extra", {{"name", "USDC"}, {"version", "2"}}}};
    auto verdict = call_api(facilitator.port, "/verify", v1_payment, v1_requirement, 1);
    CHECK(verdict.at("invalidReason").as_string() == "invalid_exact_evm_authorization_value");
    CHECK(verdict.at("payer").as_string() == kPayer);
  }
  SECTION("a wrong payee") {
    refused(evm_payment(kBaseSepoliaOffer,
                        {.signed_pay_to = "0x0000000000000000000000000000000000000001"}),
            kBaseSepoliaOffer, "invalid_exact_evm_recipient_mismatch", kPayer);
  }
  SECTION("a bad signature") {
    auto payment = evm_payment(kBaseSepoliaOffer);
    std::string signature(payment["payload"].as_object()["signature"].as_string());
    signature[10] = signature[10] == 'a' ? 'b' : 'a';
    payment["payload"].as_object()["signature"] = signature;
    refused(payment, kBaseSepoliaOffer, "invalid_exact_evm_signature", kPayer);
  }
  SECTION("a malformed payload whose authorization still names its from") {
    auto payment = evm_payment(kBaseSepoliaOffer);
    payment["payload"].as_object()["authorization"].as_object()["nonce"] = "0x12";
    refused(payment, kBaseSepoliaOffer, "invalid_payload", kPayer);
  }
  SECTION("a Solana transfer for another amount") {
    json::object offer{{"scheme", "exact"},
                       {"network", "solana:EtWTRABZaYq6iMfeYKouRu166VU2xqa1"},
                       {"amount", "1000"},
                       {"asset", "4zMMC9srt5Ri5X14GAgXhaHii3GnPAEERYPJgZJDncDU"},
                       {"payTo", seller},
                       {"maxTimeoutSeconds", 60},
                       {"extra", {{"feePayer", fee_payer}}}};
    auto requirement = x402proxy::x402::requirements_from_json(offer, 2);
    REQUIRE(requirement.ok());
    auto buyer = x402proxy::signers::solana::SolanaKey::generate();
    REQUIRE(buyer.ok());
    auto payload = x402proxy::signers::solana::create_exact_svm_payload(*buyer, *requirement, {});
    REQUIRE(payload.ok());
    auto dearer = offer;
    dearer["amount"] = "2000";
    json::object payment{{"x402Version", 2}, {"accepted", dearer}, {"payload", *payload}};
    refused(payment, dearer, "invalid_exact_svm_payload_amount_mismatch",
            x402proxy::signers::solana::base58_encode(buyer->public_key()));
  }
}

TEST_CASE("GET /supported lists the facilitator's signers by CAIP-2 family",
          "[embedded][service][supported]") {
  const std::string fee_payer = "EwWqGE4ZFKLofuestmU4LDdK7XM1N4ALgdZccwYugwGd";
  const std::string evm_signer = "0x1111111111111111111111111111111111111111";
  std::string dir = make_temp_dir("facilitator-signers");
  FacilitatorProcess facilitator(
      dir, "$1", "solana_fee_payer: " + fee_payer + "\nevm_signer: \"" + evm_signer + "\"\n");

  // x402 v2 §7.3.1: signers maps CAIP-2 patterns to the facilitator's addresses.
  auto supported =
      json::parse(http_request(facilitator.port, "GET", "/supported").body).as_object();
  const json::object& signers = supported.at("signers").as_object();
  CHECK(signers.size() == 2);
  CHECK(signers.at("solana:*") == json::array{json::string(fee_payer)});
  CHECK(signers.at("eip155:*") == json::array{json::string(evm_signer)});

  // Without an EVM signer only the Solana fee payer is listed; a facilitator serving no Solana
  // network lists no fee payer.
  std::string other = make_temp_dir("facilitator-signers-evm-only");
  FacilitatorProcess evm_only(other, "$1",
                              "solana_fee_payer: " + fee_payer + "\nnetworks: [ base-sepolia ]\n");
  auto evm_supported =
      json::parse(http_request(evm_only.port, "GET", "/supported").body).as_object();
  CHECK(evm_supported.at("signers").as_object().empty());
}

TEST_CASE("each verify and settle is logged in one line and counted in /metrics",
          "[embedded][service][operations]") {
  std::string dir = make_temp_dir("facilitator-operations");
  FacilitatorProcess facilitator(dir, "$1", "", "info");

  auto payment = evm_payment(kBaseSepoliaOffer);
  const std::string signature(payment.at("payload").at("signature").as_string());
  CHECK(call_api(facilitator.port, "/verify", payment, kBaseSepoliaOffer).at("isValid").as_bool());
  auto settled = call_api(facilitator.port, "/settle", payment, kBaseSepoliaOffer);
  CHECK(settled.at("success").as_bool());
  auto replay = call_api(facilitator.port, "/verify", payment, kBaseSepoliaOffer);
  CHECK(replay.at("invalidReason").as_string() == "invalid_exact_evm_nonce_already_used");

  const std::string log = facilitator.process->output();
  INFO(log);
  const std::string about = std::string(" payer=") + kPayer +
                            " network=eip155:84532 asset=0x036CbD53842c5426634e7929541eC2318f3dCF7e"
                            " amount=1000 scheme=exact x402Version=2";
  CHECK_THAT(log, Catch::Contains("facilitator verify outcome=valid" + about));
  CHECK_THAT(log, Catch::Contains("facilitator settle outcome=settled" + about + " transaction=" +
                                  std::string(settled.at("transaction").as_string())));
  CHECK_THAT(log,
             Catch::Contains(
                 "facilitator verify outcome=invalid reason=invalid_exact_evm_nonce_already_used" +
                 about));
  // Never the signature, whole or in part.
  CHECK(log.find(signature.substr(2, 40)) == std::string::npos);

  auto metrics = http_request(facilitator.port, "GET", "/metrics");
  REQUIRE(metrics.status == 200);
  CHECK_THAT(metrics.headers["content-type"], Catch::Contains("text/plain; version=0.0.4"));
  CHECK_THAT(metrics.body,
             Catch::Contains(R"(x402_facilitator_calls_total{operation="verify",outcome="valid",)"
                             R"(network="eip155:84532",reason=""} 1)"));
  CHECK_THAT(metrics.body,
             Catch::Contains(
                 R"(x402_facilitator_calls_total{operation="verify",outcome="invalid",)"
                 R"(network="eip155:84532",reason="invalid_exact_evm_nonce_already_used"} 1)"));
  CHECK_THAT(metrics.body,
             Catch::Contains(R"(x402_facilitator_settled_atomic_total{network="eip155:84532",)"
                             R"(asset="0x036CbD53842c5426634e7929541eC2318f3dCF7e"} 1000)"));
  CHECK_THAT(metrics.body,
             Catch::Contains(R"(x402_facilitator_call_seconds_count{operation="settle"} 1)"));
}
