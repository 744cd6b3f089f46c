// The request serve sends upstream for a client request: the hop-by-hop rules of
// net/hop_by_hop.h applied, the upstream's path and Host, payment headers consumed by the paywall.
#pragma once

#include <string>
#include <string_view>

#include <boost/beast/http/fields.hpp>
#include <boost/beast/http/message.hpp>
#include <boost/beast/http/string_body.hpp>

#include "proxy/upstream/upstream_pool.h"

namespace x402proxy::proxy {

// The request the upstream receives: the client's method, the upstream's path (plus the client's
// query string), end-to-end headers, Host of the upstream, and `body` (the client's own bytes for
// anything that is not a paid call, less any payment). Payment headers never go upstream, on any
// path; nor does Expect (the proxy has read the whole body and answered 100 itself).
boost::beast::http::request<boost::beast::http::string_body> make_upstream_request(
    const boost::beast::http::request<boost::beast::http::string_body>& client_request,
    const UpstreamEndpoint& upstream, std::string body);

}  // namespace x402proxy::proxy
