// TLS to a facilitator: verified by default (a self-signed certificate is refused), and accepted
// only when tls_verify is turned off.
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include <optional>
#include <thread>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <catch2/catch.hpp>

#include "facilitator/remote_facilitator.h"

using namespace x402proxy;
namespace asio = boost::asio;
namespace ssl = asio::ssl;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;

namespace {

// A throwaway self-signed certificate for 127.0.0.1, made with OpenSSL at test time.
std::pair<std::string, std::string> self_signed_pem() {
  EVP_PKEY* key = EVP_EC_gen("P-256");
  X509* certificate = X509_new();
  X509_set_version(certificate, 2);
  ASN1_INTEGER_set(X509_get_serialNumber(certificate), 1);
  X509_gmtime_adj(X509_getm_notBefore(certificate), -60);
  X509_gmtime_adj(X509_getm_notAfter(certificate), 3600);
  X509_set_pubkey(certificate, key);
  X509_NAME* name = X509_get_subject_name(certificate);
  X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
                             reinterpret_cast<const unsigned char*>("127.0.0.1"), -1, -1, 0);
  X509_set_issuer_name(certificate, name);
  X509_sign(certificate, key, EVP_sha256());
  auto to_pem = [](auto write) {
    BIO* bio = BIO_new(BIO_s_mem());
    write(bio);
    char* data = nullptr;
    long size = BIO_get_mem_data(bio, &data);
    std::string out(data, static_cast<std::size_t>(size));
    BIO_free(bio);
    return out;
  };
  std::string cert_pem = to_pem([&](BIO* bio) { PEM_write_bio_X509(bio, certificate); });
  std::string key_pem = to_pem(
      [&](BIO* bio) { PEM_write_bio_PrivateKey(bio, key, nullptr, nullptr, 0, nullptr, nullptr); });
  X509_free(certificate);
  EVP_PKEY_free(key);
  return {cert_pem, key_pem};
}

// Answers every HTTPS request with a valid verify response, on its own thread.
struct TlsServer {
  TlsServer()
      : tls(ssl::context::tls_server),
        acceptor(context, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0)) {
    auto [cert, key] = self_signed_pem();
    tls.use_certificate_chain(asio::buffer(cert));
    tls.use_private_key(asio::buffer(key), ssl::context::pem);
    port = acceptor.local_endpoint().port();
    asio::co_spawn(context, serve(), asio::detached);
    thread = std::thread([this] { context.run(); });
  }
  ~TlsServer() {
    context.stop();
    thread.join();
  }
  asio::awaitable<void> serve() {
    while (true) {
      boost::system::error_code ec;
      tcp::socket socket =
          co_await acceptor.async_accept(asio::redirect_error(asio::use_awaitable, ec));
      if (ec)
        co_return;
      beast::ssl_stream<beast::tcp_stream> stream(std::move(socket), tls);
      co_await stream.async_handshake(ssl::stream_base::server,
                                      asio::redirect_error(asio::use_awaitable, ec));
      if (ec)
        continue;  // the client refused our certificate
      beast::flat_buffer buffer;
      http::request<http::string_body> request;
      co_await http::async_read(stream, buffer, request,
                                asio::redirect_error(asio::use_awaitable, ec));
      http::response<http::string_body> response{http::status::ok, 11};
      response.set(http::field::content_type, "application/json");
      response.body() = R"({"isValid":true,"payer":"0xabc"})";
      response.keep_alive(false);
      response.prepare_payload();
      co_await http::async_write(stream, response, asio::redirect_error(asio::use_awaitable, ec));
    }
  }
  asio::io_context context;
  ssl::context tls;
  tcp::acceptor acceptor;
  unsigned short port = 0;
  std::thread thread;
};

const x402::PaymentPayload kPayment{};
const x402::PaymentRequirements kRequirements{};

facilitator::FacilitatorResult<x402::VerifyResponse> verify_over_tls(unsigned short port,
                                                                     bool tls_verify) {
  asio::io_context context;
  facilitator::RemoteFacilitatorOptions options;
  options.url = "https://127.0.0.1:" + std::to_string(port);
  options.tls_verify = tls_verify;
  options.verify_timeout = std::chrono::seconds(3);
  auto remote = facilitator::RemoteFacilitator::create(context.get_executor(), options);
  REQUIRE(remote.ok());
  std::optional<facilitator::FacilitatorResult<x402::VerifyResponse>> out;
  asio::co_spawn(
      context,
      [&]() -> asio::awaitable<void> {
        out.emplace(co_await (*remote)->verify(kPayment, kRequirements));
      },
      asio::detached);
  context.run();
  REQUIRE(out);
  return std::move(*out);
}

}  // namespace

TEST_CASE("TLS peers are verified by default, an untrusted certificate is refused",
          "[remote_facilitator][tls]") {
  TlsServer server;
  auto refused = verify_over_tls(server.port, true);
  REQUIRE_FALSE(refused.ok());
  CHECK(refused.error().kind == facilitator::FailureKind::unreachable);
  CHECK_THAT(refused.error().message, Catch::Contains("TLS handshake"));
  auto accepted = verify_over_tls(server.port, false);
  REQUIRE(accepted.ok());
  CHECK(accepted->payer == std::optional<std::string>("0xabc"));
}
