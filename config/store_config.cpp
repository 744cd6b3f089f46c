#include "config/store_config.h"

namespace x402proxy::config {
namespace {

// postgresql://user:secret@host/... holds a password: refused, so that it never sits in a file
// an operator shares or a log line quotes.
bool url_has_password(const std::string& url) {
  const auto scheme = url.find("://");
  const auto at = url.find('@', scheme + 3);
  if (at == std::string::npos)
    return url.find("password=") != std::string::npos;
  const auto colon = url.find(':', scheme + 3);
  return (colon != std::string::npos && colon < at) || url.find("password=") != std::string::npos;
}

Status read_url(const YamlFields& fields, const YAML::Node& node, const std::string& key,
                StoreConfig& out) {
  auto v = fields.scalar(node, key, "a postgresql:// URL");
  if (!v.ok())
    return v.error();
  if (!is_postgres_url(*v))
    return fields.error_at(node, key, "expected a postgresql:// URL, got " + quote_value(*v));
  if (url_has_password(*v))
    return fields.error_at(node, key,
                           "the URL holds a password: put it in store.password_env or "
                           "store.password_file instead");
  out.postgres_url = *v;
  return ok_status();
}

}  // namespace

bool is_postgres_url(const std::string& text) {
  return text.starts_with("postgresql://") || text.starts_with("postgres://");
}

Status read_store_config(const YamlFields& fields, const YAML::Node& root, StoreConfig& out,
                         std::string& journal_path) {
  YAML::Node node = root["store"];
  if (!node)
    return ok_status();
  if (node.IsScalar()) {
    auto v = fields.scalar(node, "store", "a SQLite file path or a postgresql:// URL");
    if (!v.ok())
      return v.error();
    if (!is_postgres_url(*v)) {
      if (v->find("://") != std::string::npos)
        return fields.error_at(
            node, "store",
            "expected a SQLite file path or a postgresql:// URL, got " + quote_value(*v));
      journal_path = *v;
      return ok_status();
    }
    return read_url(fields, node, "store", out);
  }
  if (auto s = fields.only_keys(node, "store",
                                {"url", "url_env", "password_env", "password_file", "pool",
                                 "statement_timeout", "connect_timeout", "replica", "lease"});
      !s.ok())
    return s;
  if (node["url"] && node["url_env"])
    return fields.error_at(node, "store", "expected one of url or url_env, not both");
  if (auto value = node["url_env"]) {
    auto v = fields.scalar(value, "store.url_env", "an environment variable name");
    if (!v.ok())
      return v.error();
    out.url_env = *v;
  } else if (!node["url"]) {
    return fields.error_at(node, "store.url", "missing: the postgresql:// URL (or url_env)");
  } else if (auto s = read_url(fields, node["url"], "store.url", out); !s.ok()) {
    return s;
  }
  for (auto [key, target] :
       {std::pair{"password_env", &out.password_env},
        std::pair{"password_file", &out.password_file}, std::pair{"replica", &out.replica}}) {
    if (auto value = node[key]) {
      auto v = fields.scalar(value, std::string("store.") + key, "a string");
      if (!v.ok())
        return v.error();
      *target = *v;
    }
  }
  if (!out.password_env.empty() && !out.password_file.empty())
    return fields.error_at(node, "store",
                           "expected one of password_env or password_file, not both");
  if (auto value = node["pool"]) {
    auto v = fields.unsigned_integer(value, "store.pool");
    if (!v.ok())
      return v.error();
    if (*v == 0 || *v > 64)
      return fields.error_at(value, "store.pool", "expected 1 to 64 connections");
    out.pool = *v;
  }
  for (auto [key, target] :
       {std::pair{"statement_timeout", &out.statement_timeout},
        std::pair{"connect_timeout", &out.connect_timeout}, std::pair{"lease", &out.lease}}) {
    if (auto value = node[key]) {
      auto v = fields.duration(value, std::string("store.") + key);
      if (!v.ok())
        return v.error();
      if (v->count() <= 0)
        return fields.error_at(value, std::string("store.") + key, "expected more than 0");
      *target = *v;
    }
  }
  if (out.lease < std::chrono::seconds(3))
    return fields.error_at(node["lease"], "store.lease", "expected at least 3s");
  return ok_status();
}

}  // namespace x402proxy::config
