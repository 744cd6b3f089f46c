// Helpers of the paywall's black-box tests (serve_paywall_test, serve_tool_outcome_test): ask for
// the offer, pay it, read what the client reads, and read the journal the run wrote.
#pragma once

#include <sqlite3.h>

#include <string>
#include <vector>

#include "tests/support/serve_fixture.h"

namespace x402proxy::testing {

inline boost::json::object payment_required(ServeFixture& serve, const std::string& tool) {
  auto result = result_of(mcp_post(serve.port, tool_call(tool)));
  REQUIRE(result.at("isError").as_bool());
  return result;
}

inline HttpReply pay(ServeFixture& serve, const std::string& tool,
                     const boost::json::object& payment,
                     const std::string& arguments = R"({"a":2,"b":3})") {
  return mcp_post(serve.port, tool_call(tool, arguments, meta_with_payment(payment)));
}

inline std::string error_text(const boost::json::object& result) {
  return std::string(result.at("structuredContent").at("error").as_string());
}

// The text a client reads of an answer the proxy wrote itself (content[0].text).
inline std::string answer_text(const boost::json::object& result) {
  return std::string(result.at("content").at(0).at("text").as_string());
}

// The receipt in result._meta["x402/payment-response"].
inline boost::json::object receipt_of(const boost::json::object& result) {
  return result.at("_meta").at("x402/payment-response").as_object();
}

// One column of the journal (state by default), in row order.
inline std::vector<std::string> journal_states(const ServeFixture& serve,
                                               const std::string& column = "state") {
  sqlite3* db = nullptr;
  std::vector<std::string> states;
  REQUIRE(sqlite3_open_v2((serve.dir + "/payments.sqlite").c_str(), &db, SQLITE_OPEN_READONLY,
                          nullptr) == SQLITE_OK);
  sqlite3_stmt* statement = nullptr;
  const std::string query = "SELECT " + column + " FROM payments ORDER BY id";
  sqlite3_prepare_v2(db, query.c_str(), -1, &statement, nullptr);
  while (sqlite3_step(statement) == SQLITE_ROW) {
    states.emplace_back(reinterpret_cast<const char*>(sqlite3_column_text(statement, 0)));
  }
  sqlite3_finalize(statement);
  sqlite3_close(db);
  return states;
}

}  // namespace x402proxy::testing
