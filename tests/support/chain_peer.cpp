#include "tests/support/chain_peer.h"

#include <boost/json.hpp>
#include <catch2/catch.hpp>

namespace x402proxy::testing {
namespace json = boost::json;

unsigned short port_of(const std::string& url) {
  const auto colon = url.rfind(':');
  if (colon == std::string::npos)
    return 0;
  return static_cast<unsigned short>(std::stoi(url.substr(colon + 1)));
}

ChainPeer::ChainPeer(Kind kind, const std::string& dir, std::vector<std::string> args)
    : kind_(kind) {
  const std::string folder = kind == Kind::evm ? "chain-evm" : "chain-svm";
  const std::string script =
      std::string(X402PROXY_SOURCE_DIR) + "/tests/peers/" + folder + "/start.sh";
  std::vector<std::string> argv{script};
  argv.insert(argv.end(), args.begin(), args.end());
  ChildOptions options;
  options.argv = std::move(argv);
  options.stdout_path = dir + "/" + folder + ".out";
  options.stderr_path = dir + "/" + folder + ".log";
  options.stdin_pipe = true;  // the peer exits when this process dies and the pipe closes
  process_ = std::make_unique<ChildProcess>(std::move(options));
  REQUIRE(process_->started());
  auto line = process_->wait_for_line("\"control\"", std::chrono::seconds(60));
  INFO("the chain peer did not start (is tests/peers/install.sh run?): " << process_->output());
  REQUIRE(line);
  auto parsed = json::parse(*line);
  REQUIRE(parsed.is_object());
  info_ = parsed.as_object();
  network_ = std::string(info_.at("network").as_string());
  facilitator_url_ = std::string(info_.at("facilitator").as_string());
  rpc_url_ = std::string(info_.at("rpc").as_string());
  control_port_ = port_of(std::string(info_.at("control").as_string()));
  REQUIRE(control_port_ != 0);
}

std::string ChainPeer::str(const char* field) const {
  return std::string(info_.at(field).as_string());
}

std::string ChainPeer::payer_key(std::size_t i) const {
  const auto& payer = info_.at("payers").as_array().at(i).as_object();
  return std::string(payer.at(kind_ == Kind::evm ? "privateKey" : "secretKey").as_string());
}

std::string ChainPeer::payer_address(std::size_t i) const {
  return std::string(info_.at("payers").as_array().at(i).at("address").as_string());
}

json::value ChainPeer::control_post(const std::string& path, const std::string& body) {
  auto reply = post(control_port_, path, body, {{"Content-Type", "application/json"}},
                    std::chrono::seconds(60));
  INFO("chain peer " << path << ": " << reply.status << " " << reply.body << " " << reply.error);
  REQUIRE(reply.status / 100 == 2);
  return reply.body.empty() ? json::value() : json::parse(reply.body);
}

json::value ChainPeer::control_get(const std::string& path) {
  auto reply = get(control_port_, path, {}, std::chrono::seconds(30));
  INFO("chain peer " << path << ": " << reply.status << " " << reply.body << " " << reply.error);
  REQUIRE(reply.status / 100 == 2);
  return json::parse(reply.body);
}

std::string ChainPeer::balance(const std::string& address) {
  auto answer = kind_ == Kind::evm ? control_get("/balance?address=" + address)
                                   : control_get("/balance?owner=" + address);
  const json::value& amount =
      answer.as_object().contains("balance") ? answer.at("balance") : answer.at("amount");
  return std::string(amount.as_string());
}

json::array ChainPeer::transfers() {
  return control_get("/transfers").as_array();
}

}  // namespace x402proxy::testing
