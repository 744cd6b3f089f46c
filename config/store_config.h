// The `store:` setting of a serve config: where the payment journal and the replay locks live.
// A SQLite file (the default, one replica; `journal:` names the same file) or a PostgreSQL URL
// (several replicas sharing one journal and one set of replay locks). The password never sits in
// the YAML or the URL: it comes from an environment variable or a file (a mounted secret), or
// libpq's own PGPASSWORD / ~/.pgpass; TLS options are libpq's URL parameters (sslmode,
// sslrootcert, ...).
//
//   store: postgresql://x402@db.internal:5432/x402?sslmode=verify-full
//   store:
//     url: postgresql://x402@db.internal:5432/x402?sslmode=verify-full
//     # or url_env: X402_STORE_URL            # the whole URL from the environment (a Secret);
//     #                                         it may hold the password there
//     password_env: X402_STORE_PASSWORD      # or password_file: /run/secrets/store-password
//     pool: 4                                # connections per replica
//     statement_timeout: 5s
//     connect_timeout: 5s
//     replica: serve-0                       # default: host name and process id
//     lease: 30s                             # how long a replica's claim lasts unrenewed
#pragma once

#include <chrono>
#include <cstddef>
#include <string>

#include <yaml-cpp/yaml.h>

#include "config/yaml_fields.h"
#include "x402/result.h"

namespace x402proxy::config {

struct StoreConfig {
  std::string postgres_url;  // empty (and no url_env): SQLite (the journal file)
  std::string url_env;       // or the URL from this environment variable
  std::string password_env;
  std::string password_file;
  std::size_t pool = 4;
  std::chrono::milliseconds statement_timeout{std::chrono::seconds(5)};
  std::chrono::milliseconds connect_timeout{std::chrono::seconds(5)};
  std::string replica;
  std::chrono::milliseconds lease{std::chrono::seconds(30)};
  bool postgres() const { return !postgres_url.empty() || !url_env.empty(); }
};

// Reads `store` (when present) into `out`; a SQLite path goes to `journal_path`.
Status read_store_config(const YamlFields& fields, const YAML::Node& root, StoreConfig& out,
                         std::string& journal_path);

// Whether `text` is a PostgreSQL URL (libpq's postgresql:// or postgres://).
bool is_postgres_url(const std::string& text);

}  // namespace x402proxy::config
