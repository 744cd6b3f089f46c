// The refusal reasons the embedded facilitator emits (facilitator/rules/reason_names.h), checked
// against their sources: each library name must be in the installed @x402/evm / @x402/svm 2.27
// dist (tests/peers/x402-http, installed by tests/peers/install.sh), each spec name in the x402 v2
// specification's §9 table and in neither library, and the sources must emit no name the list
// lacks.
#include "facilitator/rules/reason_names.h"

#include <filesystem>
#include <fstream>
#include <regex>
#include <set>
#include <sstream>
#include <string>

#include <catch2/catch.hpp>

using namespace x402proxy::facilitator;
namespace fs = std::filesystem;

namespace {

const std::string kSource = X402PROXY_SOURCE_DIR;

std::string read_text(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

// The package's CommonJS build, all files (source maps excluded: they also hold the TypeScript
// comments, which name reasons the code does not emit).
struct LibraryText {
  std::string text;
  bool contains(const std::string& name) const {
    return text.find("\"" + name + "\"") != std::string::npos;
  }
};

LibraryText library_strings(const std::string& package) {
  const fs::path dist =
      fs::path(kSource) / "tests/peers/x402-http/node_modules/@x402" / package / "dist/cjs";
  INFO("@x402/" << package << " is not installed at " << dist << ": run tests/peers/install.sh");
  REQUIRE(fs::is_directory(dist));
  LibraryText library;
  for (const auto& entry : fs::recursive_directory_iterator(dist)) {
    if (entry.is_regular_file() && entry.path().extension() == ".js")
      library.text += read_text(entry.path());
  }
  REQUIRE_FALSE(library.text.empty());
  return library;
}

// x402-specification-v2.md §9 "Error Handling" (x402-foundation/x402, commit 0022a09a).
const std::set<std::string> kSpecReasons = {
    "insufficient_funds",
    "invalid_exact_evm_payload_authorization_valid_after",
    "invalid_exact_evm_payload_authorization_valid_before",
    "invalid_exact_evm_payload_authorization_value_mismatch",
    "invalid_exact_evm_payload_signature",
    "invalid_exact_evm_payload_recipient_mismatch",
    "invalid_network",
    "invalid_payload",
    "invalid_payment_requirements",
    "invalid_scheme",
    "unsupported_scheme",
    "invalid_x402_version",
    "invalid_transaction_state",
    "unexpected_verify_error",
    "unexpected_settle_error",
};

// The reason literals in the files that produce the facilitator's refusals.
std::set<std::string> emitted_by_sources() {
  std::set<std::string> names;
  const std::regex literal(
      "\"((invalid_[a-z0-9_]*[a-z0-9])|duplicate_settlement|insufficient_funds)\"");
  for (const char* file :
       {"facilitator/rules/evm_exact_rules.cpp", "facilitator/rules/payment_identity.cpp",
        "facilitator/embedded/embedded_facilitator.cpp", "facilitator/embedded/ledger.cpp",
        "signers/evm/exact_evm_payment.cpp", "signers/solana/transaction.cpp",
        "signers/solana/exact_svm_payment.cpp", "facilitator/rules/svm_exact_rules.cpp"}) {
    const std::string text = read_text(fs::path(kSource) / file);
    REQUIRE_FALSE(text.empty());
    for (std::sregex_iterator it(text.begin(), text.end(), literal), end; it != end; ++it)
      names.insert((*it)[1]);
  }
  // svm_exact_rules.cpp names its reasons without the "invalid_exact_svm_" prefix it adds.
  const std::string svm = read_text(fs::path(kSource) / "facilitator/rules/svm_exact_rules.cpp");
  const std::regex refused(
      R"re((?:refuse\(|\{|,)\s*"((?:payload|fee_payer|unsupported|network)_[a-z0-9_]+)")re");
  for (std::sregex_iterator it(svm.begin(), svm.end(), refused), end; it != end; ++it)
    names.insert("invalid_exact_svm_" + std::string((*it)[1]));
  return names;
}

}  // namespace

TEST_CASE("every reason name comes from @x402/evm, @x402/svm 2.27 or the v2 spec's table",
          "[reasons]") {
  const auto evm = library_strings("evm");
  const auto svm = library_strings("svm");
  for (const ReasonName& reason : kEmittedReasons) {
    const std::string name(reason.name);
    INFO(name);
    switch (reason.source) {
      case ReasonSource::evm_library:
        CHECK(evm.contains(name));
        break;
      case ReasonSource::svm_library:
        CHECK(svm.contains(name));
        break;
      case ReasonSource::spec:
        CHECK(kSpecReasons.contains(name));
        // A name both libraries lack: else the library's would have to be used.
        CHECK_FALSE(evm.contains(name));
        CHECK_FALSE(svm.contains(name));
        break;
    }
  }
}

TEST_CASE("the sources emit exactly the listed reasons", "[reasons]") {
  std::set<std::string> listed;
  for (const ReasonName& reason : kEmittedReasons)
    listed.insert(std::string(reason.name));
  const auto emitted = emitted_by_sources();
  for (const auto& name : emitted) {
    INFO("emitted but not in reason_names.h: " << name);
    CHECK(listed.contains(name));
  }
  for (const auto& name : listed) {
    INFO("listed but emitted nowhere: " << name);
    CHECK(emitted.contains(name));
  }
}

TEST_CASE("where spec and library disagree the library's name is used", "[reasons]") {
  std::set<std::string> listed;
  for (const ReasonName& reason : kEmittedReasons)
    listed.insert(std::string(reason.name));
  // v2 value mismatch: spec and @x402/evm v2 agree; the v1 name only for v1 payments.
  CHECK(listed.contains("invalid_exact_evm_payload_authorization_value_mismatch"));
  // spec names the library does not use, and the library's names in their place
  CHECK_FALSE(listed.contains("invalid_exact_evm_payload_recipient_mismatch"));
  CHECK(listed.contains("invalid_exact_evm_recipient_mismatch"));
  CHECK_FALSE(listed.contains("invalid_exact_evm_payload_signature"));
  CHECK(listed.contains("invalid_exact_evm_signature"));
  CHECK(listed.contains("invalid_exact_evm_insufficient_balance"));
}
