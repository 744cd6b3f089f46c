#include "tests/support/fake_facilitator.h"

#include <optional>

#include <boost/json.hpp>

namespace x402proxy::testing {
namespace json = boost::json;

FakeFacilitator::FakeFacilitator()
    : server_(std::make_unique<TestHttpServer>(
          [this](const RecordedRequest& request) { return answer(request); })) {}

void FakeFacilitator::set_mode(Mode mode) {
  const Mode before = mode_.exchange(mode);
  if (mode == Mode::down && before != Mode::down)
    server_->stop_listening();
  if (mode != Mode::down && before == Mode::down)
    server_->resume_listening();
}

void FakeFacilitator::script_settle(std::vector<SettleAnswer> answers) {
  std::lock_guard lock(mutex_);
  settle_script_.assign(answers.begin(), answers.end());
}

void FakeFacilitator::set_refusal_message(std::string message) {
  std::lock_guard lock(mutex_);
  refusal_message_ = std::move(message);
}

void FakeFacilitator::set_invalid_reason(std::string reason) {
  std::lock_guard lock(mutex_);
  invalid_reason_ = std::move(reason);
}

std::size_t FakeFacilitator::verify_calls() const {
  std::size_t n = 0;
  for (const auto& r : server_->requests())
    n += r.target == "/verify";
  return n;
}

std::size_t FakeFacilitator::settle_calls() const {
  std::size_t n = 0;
  for (const auto& r : server_->requests())
    n += r.target == "/settle";
  return n;
}

TestResponse FakeFacilitator::answer(const RecordedRequest& request) {
  TestResponse response;
  response.headers = {{"Content-Type", "application/json"}};
  const Mode mode = mode_;
  if (request.target == "/supported") {
    response.body =
        R"({"kinds":[{"x402Version":2,"scheme":"exact","network":"eip155:84532"},)"
        R"({"x402Version":2,"scheme":"exact","network":"solana:EtWTRABZaYq6iMfeYKouRu166VU2xqa1",)"
        R"("extra":{"feePayer":"EwWqGE4ZFKLofuestmU4LDdK7XM1N4ALgdZccwYugwGd"}}],"extensions":[],"signers":{}})";
    return response;
  }
  std::string payer = "0x857b06519E91e3A54538791bDbb0E22373e36b66";
  std::string network = "eip155:84532";
  std::string signature;
  try {
    auto body = json::parse(request.body).as_object();
    const auto& payload = body.at("paymentPayload").as_object();
    if (auto* p = payload.if_contains("payload")) {
      if (auto* a = p->as_object().if_contains("authorization")) {
        payer = std::string(a->as_object().at("from").as_string());
      }
      if (auto* s = p->as_object().if_contains("signature"); s && s->is_string())
        signature = std::string(s->get_string());
    }
    network = std::string(body.at("paymentRequirements").at("network").as_string());
  } catch (...) {
    response.status = 400;
    response.body = R"({"error":"Missing paymentPayload or paymentRequirements"})";
    return response;
  }
  const bool verify = request.target == "/verify";
  std::string message;
  {
    std::lock_guard lock(mutex_);
    message = refusal_message_;
  }
  if (auto at = message.find("{signature}"); at != std::string::npos)
    message.replace(at, 11, signature);
  if (!verify) {
    std::optional<SettleAnswer> scripted;
    {
      std::lock_guard lock(mutex_);
      if (!settle_script_.empty()) {
        scripted = settle_script_.front();
        settle_script_.pop_front();
      }
    }
    if (scripted) {
      auto failure = [&](const char* reason, const char* transaction) {
        return json::serialize(json::object{{"success", false},
                                            {"errorReason", reason},
                                            {"transaction", transaction},
                                            {"network", network},
                                            {"payer", payer}});
      };
      switch (*scripted) {
        case SettleAnswer::pending:
          response.body = failure("settlement_pending", kTransaction);
          return response;
        case SettleAnswer::too_many_requests:
          response.status = 429;
          response.body = R"({"error":"Too Many Requests"})";
          return response;
        case SettleAnswer::unavailable:
          response.status = 503;
          response.body = R"({"error":"Service Unavailable"})";
          return response;
        case SettleAnswer::hang_up:
          response.hang_up = true;
          return response;
        case SettleAnswer::already_used:
          response.body = failure("invalid_exact_evm_nonce_already_used", "");
          return response;
        case SettleAnswer::success:
          break;
      }
    }
  }
  switch (mode) {
    case Mode::http_500:
      response.status = 500;
      response.body = R"({"error":"internal error"})";
      return response;
    case Mode::malformed:
      response.body = "{not json";
      return response;
    case Mode::hang_up:
    case Mode::down:  // a connection accepted just before going down
      response.hang_up = true;
      return response;
    case Mode::slow:
      response.delay = std::chrono::milliseconds(slow_delay_ms_.load());
      break;
    case Mode::slow_settle:
      if (!verify)
        response.delay = std::chrono::milliseconds(slow_delay_ms_.load());
      break;
    case Mode::invalid:
      if (verify) {
        std::lock_guard lock(mutex_);
        json::object answer{
            {"isValid", false}, {"invalidReason", invalid_reason_}, {"payer", payer}};
        if (!message.empty())
          answer["invalidMessage"] = message;
        response.body = json::serialize(answer);
        return response;
      }
      break;
    case Mode::settle_fails:
      if (!verify) {
        json::object answer{{"success", false},
                            {"errorReason", kSettleErrorReason},
                            {"transaction", ""},
                            {"network", network},
                            {"payer", payer}};
        if (!message.empty())
          answer["errorMessage"] = message;
        response.body = json::serialize(answer);
        return response;
      }
      break;
    case Mode::valid:
      break;
  }
  if (verify) {
    response.body = json::serialize(json::object{{"isValid", true}, {"payer", payer}});
  } else {
    response.body = json::serialize(json::object{
        {"success", true}, {"transaction", kTransaction}, {"network", network}, {"payer", payer}});
  }
  return response;
}

}  // namespace x402proxy::testing
