// The account side of the paywall: a priced call by a known caller is charged from their prepaid
// credit (reserve before forwarding; commit when the tool ran, release when it did not or the
// upstream was never reached), the billing tools are answered without the upstream, and tools/list
// gains the billing tools and each priced tool's price.
#pragma once

#include <string>

#include <boost/asio/awaitable.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/message.hpp>
#include <boost/beast/http/string_body.hpp>

#include "mcp/mcp_request.h"
#include "proxy/serve_state.h"

namespace x402proxy::proxy {

using HttpRequest = boost::beast::http::request<boost::beast::http::string_body>;

// A priced tools/call by `account` without an x402 payment. Insufficient credit is answered with
// the payment-required result (error "insufficient credit: …") so the caller can pay per call.
boost::asio::awaitable<bool> run_account_call(const ServeState& state,
                                              boost::beast::tcp_stream& client,
                                              const HttpRequest& request, mcp::McpPost& post,
                                              const ToolOffer& offer, const std::string& account);

// balance and history for `account` (empty: anonymous, refused with a tool error).
boost::asio::awaitable<bool> answer_billing_call(const ServeState& state,
                                                 boost::beast::tcp_stream& client,
                                                 const HttpRequest& request,
                                                 const mcp::McpPost& post,
                                                 const std::string& account);

// The top-up tool: a paid call (x402) answered by the proxy, crediting `account` once settled.
boost::asio::awaitable<bool> run_topup_call(const ServeState& state,
                                            boost::beast::tcp_stream& client,
                                            const HttpRequest& request, mcp::McpPost& post,
                                            const std::string& account);

// tools/list through the upstream, answered with the billing tools added and prices described.
boost::asio::awaitable<bool> run_tools_list(const ServeState& state,
                                            boost::beast::tcp_stream& client,
                                            const HttpRequest& request, const mcp::McpPost& post);

}  // namespace x402proxy::proxy
