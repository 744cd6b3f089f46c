#include "sqlite/database.h"

#include <fcntl.h>
#include <sqlite3.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>

namespace x402proxy::sqlite {

Statement& Statement::operator=(Statement&& other) noexcept {
  if (this != &other) {
    sqlite3_finalize(statement_);
    statement_ = other.statement_;
    other.statement_ = nullptr;
  }
  return *this;
}

Statement::~Statement() {
  sqlite3_finalize(statement_);
}

sqlite3* Statement::db() const {
  return sqlite3_db_handle(statement_);
}

Statement& Statement::bind(int index, std::string_view text) {
  sqlite3_bind_text(statement_, index, text.data(), static_cast<int>(text.size()),
                    SQLITE_TRANSIENT);
  return *this;
}

Statement& Statement::bind(int index, std::int64_t value) {
  sqlite3_bind_int64(statement_, index, value);
  return *this;
}

Statement& Statement::bind_null(int index) {
  sqlite3_bind_null(statement_, index);
  return *this;
}

Statement& Statement::bind_blob(int index, std::span<const unsigned char> bytes) {
  sqlite3_bind_blob(statement_, index, bytes.data(), static_cast<int>(bytes.size()),
                    SQLITE_TRANSIENT);
  return *this;
}

Statement& Statement::bind_amount(int index, const x402::Amount& amount) {
  return bind(index, x402::to_string(amount));
}

Statement& Statement::bind_optional(int index, const std::optional<std::string>& text) {
  if (text)
    return bind(index, *text);
  return bind_null(index);
}

Result<bool> Statement::step() {
  int rc = sqlite3_step(statement_);
  if (rc == SQLITE_ROW)
    return true;
  if (rc == SQLITE_DONE)
    return false;
  return make_error("sql", sqlite3_errmsg(db()));
}

Status Statement::run() {
  auto stepped = step();
  if (!stepped.ok())
    return stepped.error();
  return ok_status();
}

Result<bool> Statement::try_insert() {
  const int rc = sqlite3_step(statement_);
  if (rc == SQLITE_DONE)
    return true;
  const int extended = sqlite3_extended_errcode(db());
  if (extended == SQLITE_CONSTRAINT_UNIQUE || extended == SQLITE_CONSTRAINT_PRIMARYKEY)
    return false;
  return make_error("sql", sqlite3_errmsg(db()));
}

void Statement::reset() {
  sqlite3_reset(statement_);
}

std::string Statement::text(int column) const {
  const unsigned char* text = sqlite3_column_text(statement_, column);
  if (text == nullptr)
    return {};
  return std::string(reinterpret_cast<const char*>(text),
                     static_cast<std::size_t>(sqlite3_column_bytes(statement_, column)));
}

std::int64_t Statement::integer(int column) const {
  return sqlite3_column_int64(statement_, column);
}

bool Statement::is_null(int column) const {
  return sqlite3_column_type(statement_, column) == SQLITE_NULL;
}

std::span<const unsigned char> Statement::blob(int column) const {
  const void* bytes = sqlite3_column_blob(statement_, column);
  const int size = sqlite3_column_bytes(statement_, column);
  if (bytes == nullptr || size <= 0)
    return {};
  return {static_cast<const unsigned char*>(bytes), static_cast<std::size_t>(size)};
}

std::optional<x402::Amount> Statement::amount(int column) const {
  auto parsed = x402::parse_amount(text(column));
  if (!parsed.ok())
    return std::nullopt;
  return *parsed;
}

namespace {

// Creates the file 0600 before SQLite opens it: SQLite gives its -wal and -shm files the main
// file's permissions, so all three stay private. An existing file keeps its content; if others
// may read it, it is tightened and the caller is told.
Result<std::string> secure_file(const std::string& path, const std::string& what) {
  if (path.empty() || path == ":memory:" || path.starts_with("file:"))
    return std::string();
  int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  if (fd < 0) {
    return make_error("sql.open", "cannot open " + what + " " + path + ": " + std::strerror(errno));
  }
  struct stat info {};
  std::string note;
  if (::fstat(fd, &info) == 0 && (info.st_mode & 077) != 0) {
    if (::fchmod(fd, info.st_mode & 0700) == 0) {
      note = what + " " + path + " was readable by other users; its mode is now 0600";
    }
  }
  ::close(fd);
  return note;
}

}  // namespace

Result<std::unique_ptr<Database>> Database::open(const std::string& path, std::string what) {
  auto secured = secure_file(path, what);
  if (!secured.ok())
    return secured.error();
  sqlite3* db = nullptr;
  int rc = sqlite3_open_v2(
      path.c_str(), &db,
      SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_FULLMUTEX | SQLITE_OPEN_URI,
      nullptr);
  if (rc != SQLITE_OK) {
    std::string message = db ? sqlite3_errmsg(db) : sqlite3_errstr(rc);
    sqlite3_close(db);
    return make_error("sql.open", "cannot open " + what + " " + path + ": " + message);
  }
  std::unique_ptr<Database> database(new Database(db, path, std::move(what)));
  database->permission_note_ = std::move(secured).value();
  sqlite3_busy_timeout(db, 5000);
  // WAL with synchronous=NORMAL survives a process crash; only a power loss can drop the last
  // commits.
  for (const char* sql : {"PRAGMA journal_mode=WAL", "PRAGMA synchronous=NORMAL"}) {
    if (auto status = database->exec(sql); !status.ok()) {
      return make_error("sql.open", "cannot open " + database->what_ + " " + path + ": " +
                                        status.error().message);
    }
  }
  return database;
}

Result<std::unique_ptr<Database>> Database::open_read_only(const std::string& path,
                                                           std::string what) {
  sqlite3* db = nullptr;
  int rc =
      sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READONLY | SQLITE_OPEN_FULLMUTEX, nullptr);
  if (rc != SQLITE_OK) {
    std::string message = db ? sqlite3_errmsg(db) : sqlite3_errstr(rc);
    sqlite3_close(db);
    return make_error("sql.open", "cannot open " + what + " " + path + ": " + message);
  }
  // A writer may hold the lock for a moment.
  sqlite3_busy_timeout(db, 5000);
  return std::unique_ptr<Database>(new Database(db, path, std::move(what)));
}

Database::~Database() {
  sqlite3_close(db_);
}

Result<Statement> Database::prepare(std::string_view sql) {
  sqlite3_stmt* raw = nullptr;
  if (sqlite3_prepare_v2(db_, sql.data(), static_cast<int>(sql.size()), &raw, nullptr) !=
      SQLITE_OK) {
    return error();
  }
  return Statement(raw);
}

Status Database::exec(const char* sql) {
  char* message = nullptr;
  if (sqlite3_exec(db_, sql, nullptr, nullptr, &message) != SQLITE_OK) {
    std::string text = message ? message : sqlite3_errmsg(db_);
    sqlite3_free(message);
    return make_error("sql", what_ + ": " + text);
  }
  return ok_status();
}

std::int64_t Database::last_insert_id() const {
  return sqlite3_last_insert_rowid(db_);
}

int Database::changes() const {
  return sqlite3_changes(db_);
}

Error Database::error(std::string_view reason) const {
  return make_error(std::string(reason), what_ + ": " + sqlite3_errmsg(db_));
}

Result<int> Database::schema_version() {
  auto statement = prepare("PRAGMA user_version");
  if (!statement.ok())
    return statement.error();
  auto row = statement->step();
  if (!row.ok())
    return row.error();
  return static_cast<int>(*row ? statement->integer(0) : 0);
}

Result<std::set<std::string>> Database::columns(std::string_view table) {
  auto query = prepare("SELECT name FROM pragma_table_info(?1)");
  if (!query.ok())
    return query.error();
  query->bind(1, table);
  std::set<std::string> names;
  for (;;) {
    auto row = query->step();
    if (!row.ok())
      return row.error();
    if (!*row)
      return names;
    names.insert(query->text(0));
  }
}

Status Database::adopt_unversioned(
    std::string_view table,
    const std::function<int(const std::set<std::string>& columns)>& version_of) {
  auto version = schema_version();
  if (!version.ok())
    return version.error();
  if (*version != 0)
    return ok_status();
  auto names = columns(table);
  if (!names.ok())
    return names.error();
  if (names->empty())
    return ok_status();  // a new file
  const std::string sql = "PRAGMA user_version = " + std::to_string(version_of(*names));
  return exec(sql.c_str());
}

Status Database::migrate(std::span<const char* const> steps) {
  for (;;) {
    Transaction transaction(*this);
    if (auto s = transaction.begin_write(); !s.ok())
      return s;
    auto version = schema_version();
    if (!version.ok())
      return version.error();
    if (*version > static_cast<int>(steps.size())) {
      return make_error("sql.version", what_ + " " + path_ + " has schema version " +
                                           std::to_string(*version) + ", newer than the " +
                                           std::to_string(steps.size()) +
                                           " this binary knows; use a newer x402-mcp-proxy");
    }
    if (*version == static_cast<int>(steps.size()))
      return ok_status();
    if (auto s = exec(steps[static_cast<std::size_t>(*version)]); !s.ok()) {
      return make_error("sql.migrate", "migrating " + what_ + " " + path_ + " to schema version " +
                                           std::to_string(*version + 1) + ": " + s.error().message);
    }
    std::string bump = "PRAGMA user_version = " + std::to_string(*version + 1);
    if (auto s = exec(bump.c_str()); !s.ok())
      return s;
    if (auto s = transaction.commit(); !s.ok())
      return s;
  }
}

Transaction::~Transaction() {
  if (open_)
    sqlite3_exec(db_.handle(), "ROLLBACK", nullptr, nullptr, nullptr);
}

Status Transaction::begin_write() {
  auto status = db_.exec("BEGIN IMMEDIATE");
  open_ = status.ok();
  return status;
}

Status Transaction::begin_read() {
  auto status = db_.exec("BEGIN DEFERRED");
  open_ = status.ok();
  return status;
}

Status Transaction::commit() {
  auto status = db_.exec("COMMIT");
  open_ = !status.ok();
  return status;
}

std::int64_t unix_millis() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

std::int64_t unix_seconds() {
  return std::chrono::duration_cast<std::chrono::seconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

}  // namespace x402proxy::sqlite
