// `x402-mcp-proxy accounts`, run as the real binary against a ledger file in a temp directory.
#include <catch2/catch.hpp>

#include <chrono>
#include <optional>
#include <string>
#include <vector>

#include "tests/support/child_process.h"

namespace {

using namespace x402proxy::testing;

struct Run {
  std::optional<int> exit_status;
  std::string out;
  std::string err;
};

Run accounts(const std::string& dir, std::vector<std::string> arguments) {
  static int runs = 0;
  const std::string name = dir + "/run-" + std::to_string(++runs);
  arguments.insert(arguments.begin(), {proxy_binary(), "accounts"});
  ChildOptions options;
  options.argv = std::move(arguments);
  options.stdout_path = name + ".out";
  options.stderr_path = name + ".err";
  ChildProcess child(std::move(options));
  REQUIRE(child.started());
  Run run;
  run.exit_status = child.wait_for_exit(std::chrono::seconds(15));
  run.out = child.stdout_text();
  run.err = child.stderr_text();
  return run;
}

bool contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

}  // namespace

TEST_CASE("accounts: add-key, credit, show, revoke-key end to end, the key is shown only once",
          "[accounts]") {
  const std::string dir = make_temp_dir("accounts-cli");
  const std::string ledger = dir + "/accounts.sqlite";

  auto added = accounts(dir, {"add-key", "--account", "alice", "--ledger", ledger});
  INFO(added.out << added.err);
  REQUIRE(added.exit_status == 0);
  REQUIRE(added.out.starts_with("x402k_"));
  const std::string key = added.out.substr(0, added.out.find('\n'));
  REQUIRE(key.size() == 62);
  const std::string key_id = key.substr(6, 12);
  const std::string secret = key.substr(19);
  CHECK(contains(added.err, "Store this API key"));
  CHECK(contains(added.err, key_id));
  CHECK_FALSE(contains(added.err, secret));

  auto credited = accounts(dir, {"credit", "--account", "alice", "--amount", "$5", "--asset",
                                 "USDC", "--ledger", ledger});
  INFO(credited.out << credited.err);
  CHECK(credited.exit_status == 0);
  CHECK(contains(credited.out, "5000000"));

  auto atomic = accounts(
      dir, {"debit", "--account=alice", "--amount=1000000", "--asset=USDC", "--ledger=" + ledger});
  INFO(atomic.out << atomic.err);
  CHECK(atomic.exit_status == 0);

  auto shown = accounts(dir, {"show", "--account", "alice", "--ledger", ledger});
  INFO(shown.out << shown.err);
  CHECK(shown.exit_status == 0);
  CHECK(contains(shown.out, "4000000 USDC ($4)"));
  CHECK(contains(shown.out, key_id + " active"));
  CHECK(contains(shown.out, "credit 5000000 USDC"));
  CHECK(contains(shown.out, "debit 1000000 USDC"));

  auto listed = accounts(dir, {"list", "--ledger", ledger});
  INFO(listed.out << listed.err);
  CHECK(listed.exit_status == 0);
  CHECK(contains(listed.out, "alice: 1 active key, 4000000 USDC"));

  auto revoked = accounts(dir, {"revoke-key", "--key-id", key_id, "--ledger", ledger});
  INFO(revoked.out << revoked.err);
  CHECK(revoked.exit_status == 0);
  auto after = accounts(dir, {"show", "--account", "alice", "--ledger", ledger});
  INFO(after.out << after.err);
  CHECK(contains(after.out, key_id + " revoked"));

  for (const auto& run : {credited, atomic, shown, listed, revoked, after}) {
    CHECK_FALSE(contains(run.out, secret));
    CHECK_FALSE(contains(run.err, secret));
  }
}

TEST_CASE("accounts: errors exit 2 with a message", "[accounts]") {
  const std::string dir = make_temp_dir("accounts-cli-errors");
  const std::string ledger = dir + "/accounts.sqlite";

  auto overdraw =
      accounts(dir, {"debit", "--account", "bob", "--amount", "$1", "--ledger", ledger});
  CHECK(overdraw.exit_status == 2);
  CHECK(contains(overdraw.err, "balance of 0"));

  auto unknown_key = accounts(dir, {"revoke-key", "--key-id", "0123456789ab", "--ledger", ledger});
  CHECK(unknown_key.exit_status == 2);
  CHECK(contains(unknown_key.err, "0123456789ab"));

  auto no_ledger = accounts(dir, {"list"});
  CHECK(no_ledger.exit_status == 2);
  CHECK(contains(no_ledger.err, "--ledger"));

  auto typo = accounts(dir, {"credit", "--acount", "bob", "--amount", "5", "--ledger", ledger});
  CHECK(typo.exit_status == 2);
  CHECK(contains(typo.err, "--acount"));

  auto bad_amount =
      accounts(dir, {"credit", "--account", "bob", "--amount", "$0.0000001", "--ledger", ledger});
  CHECK(bad_amount.exit_status == 2);
  CHECK(contains(bad_amount.err, "decimal places"));

  auto dollars_for_other_asset = accounts(
      dir, {"credit", "--account", "bob", "--amount", "$1", "--asset", "WETH", "--ledger", ledger});
  CHECK(dollars_for_other_asset.exit_status == 2);

  auto unknown = accounts(dir, {"frobnicate", "--ledger", ledger});
  CHECK(unknown.exit_status == 2);
  CHECK(contains(unknown.err, "frobnicate"));
}
