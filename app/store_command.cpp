#include "app/store_command.h"

#include <cstdio>
#include <filesystem>

#include "config/serve_config.h"
#include "proxy/paywall/replay_locks.h"
#include "proxy/settlement/payment_journal.h"
#include "proxy/settlement/store_factory.h"
#include "sqlite/database.h"
#include "store/schema_migrations.h"

namespace x402proxy::app {
namespace {

int fail(const std::string& message) {
  std::fprintf(stderr, "x402-mcp-proxy store: %s\n", message.c_str());
  return 1;
}

struct Part {
  const char* name;
  int current;
  int latest;
};

int print(const std::string& where, const std::vector<Part>& parts) {
  std::printf("store: %s\n", where.c_str());
  bool due = false;
  for (const auto& part : parts) {
    std::printf("  %-13s schema version %d of %d%s\n", part.name, part.current, part.latest,
                part.current < part.latest ? " (migration due)" : "");
    due = due || part.current < part.latest;
  }
  return due ? 3 : 0;
}

int sqlite_status(const std::string& path) {
  const int latest = proxy::PaymentJournal::latest_schema_version(store::Engine::sqlite);
  if (!std::filesystem::exists(path))
    return print("SQLite " + path + " (not created yet)", {{"journal", 0, latest}});
  auto db = sqlite::Database::open_read_only(path, "payment journal");
  if (!db.ok())
    return fail(db.error().message);
  auto version = (*db)->schema_version();
  if (!version.ok())
    return fail(version.error().message);
  return print("SQLite " + path, {{"journal", *version, latest}});
}

}  // namespace

int run_store_command(const std::string& action, const std::string& config_path) {
  if (action != "status" && action != "migrate") {
    std::fprintf(stderr, "usage: x402-mcp-proxy store status|migrate --config FILE\n");
    return 2;
  }
  auto loaded = config::load_serve_config(config_path);
  if (!loaded.ok())
    return fail(loaded.error().message);
  const config::ServeConfig& config = **loaded;
  if (action == "status" && !config.store.postgres())
    return sqlite_status(config.journal);
  if (action == "migrate") {
    auto setup = proxy::make_store(config);
    if (!setup.ok())
      return fail(setup.error().message);
    if (!config.store.postgres())
      return sqlite_status(config.journal);
  }
  auto location = proxy::store_location(config);
  if (!location.ok())
    return fail(location.error().message);
  const std::string where = store::redacted_url(location->postgres.url);
  auto opened = store::Store::open(std::move(location).value());
  if (!opened.ok())
    return fail(opened.error().message);
  auto session = (*opened)->session();
  auto journal = store::postgres_schema_version(*session, "journal");
  if (!journal.ok())
    return fail(journal.error().message);
  auto locks = store::postgres_schema_version(*session, "replay_locks");
  if (!locks.ok())
    return fail(locks.error().message);
  return print("PostgreSQL " + where,
               {{"journal", *journal,
                 proxy::PaymentJournal::latest_schema_version(store::Engine::postgresql)},
                {"replay_locks", *locks, proxy::StoreReplayLocks::latest_schema_version()}});
}

}  // namespace x402proxy::app
