// Which transport an upstream URL speaks, for `upstream.transport: auto`, found the way MCP
// 2025-03-26 basic/transports ("Backwards Compatibility") tells clients to: POST an
// InitializeRequest to the URL; accepted, it is a Streamable HTTP server; refused with an HTTP
// 4xx, GET the URL expecting an event stream whose first event is `endpoint`: an HTTP+SSE server
// of MCP 2024-11-05.
#pragma once

#include <string>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>

#include "x402/result.h"

namespace x402proxy::proxy {

enum class DetectedTransport { streamable_http, sse };

// Reason "upstream.detect" when the URL answers neither way (or not at all); the message says
// what came.
boost::asio::awaitable<Result<DetectedTransport>> detect_transport(
    boost::asio::any_io_executor executor, std::string url);

}  // namespace x402proxy::proxy
