#include "tests/support/child_process.h"

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>
#include <thread>

extern char** environ;

namespace x402proxy::testing {

namespace {

std::string read_file(const std::string& path) {
  std::ifstream file(path);
  std::stringstream text;
  text << file.rdbuf();
  return text.str();
}

// This process's environment with `overrides` (NAME=VALUE) set over it.
std::vector<std::string> merged_environment(const std::vector<std::string>& overrides) {
  std::vector<std::string> merged;
  for (char** entry = environ; entry && *entry; ++entry)
    merged.emplace_back(*entry);
  for (const auto& setting : overrides) {
    const auto name = setting.substr(0, setting.find('=') + 1);
    std::erase_if(merged, [&](const std::string& e) { return e.starts_with(name); });
    merged.push_back(setting);
  }
  return merged;
}

std::vector<char*> c_strings(std::vector<std::string>& strings) {
  std::vector<char*> pointers;
  for (auto& s : strings)
    pointers.push_back(s.data());
  pointers.push_back(nullptr);
  return pointers;
}

// The complete lines of `text` (a line still being written has no '\n' yet and is skipped).
std::optional<std::string> find_line(const std::string& text, const std::regex* pattern,
                                     const std::string* needle) {
  std::size_t start = 0;
  while (start < text.size()) {
    const auto end = text.find('\n', start);
    if (end == std::string::npos)
      return std::nullopt;
    std::string line = text.substr(start, end - start);
    if (!line.empty() && line.back() == '\r')
      line.pop_back();
    if ((pattern && std::regex_search(line, *pattern)) ||
        (needle && line.find(*needle) != std::string::npos)) {
      return line;
    }
    start = end + 1;
  }
  return std::nullopt;
}

int decode_status(int status) {
  return WIFEXITED(status) ? WEXITSTATUS(status) : -WTERMSIG(status);
}

}  // namespace

ChildProcess::ChildProcess(std::vector<std::string> argv, std::string log_path) {
  spawn(ChildOptions{std::move(argv), {}, std::move(log_path), {}});
}

ChildProcess::ChildProcess(ChildOptions options) {
  spawn(std::move(options));
}

void ChildProcess::spawn(ChildOptions options) {
  stdout_path_ = options.stdout_path;
  stderr_path_ = options.stderr_path;
  // X402PROXY_TEST_WRAPPER="valgrind -q" runs every child under a tool, for debugging.
  if (const char* wrapper = std::getenv("X402PROXY_TEST_WRAPPER"); wrapper && *wrapper) {
    std::vector<std::string> prefix;
    std::istringstream words(wrapper);
    for (std::string word; words >> word;)
      prefix.push_back(word);
    options.argv.insert(options.argv.begin(), prefix.begin(), prefix.end());
  }
  if (options.argv.empty())
    return;
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  int stdin_pipe[2] = {-1, -1};
  if (options.stdin_pipe && pipe2(stdin_pipe, O_CLOEXEC) == 0) {
    posix_spawn_file_actions_adddup2(&actions, stdin_pipe[0], 0);  // dup2 clears O_CLOEXEC
  } else {
    posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
  }
  posix_spawn_file_actions_addopen(&actions, 1, stdout_path_.c_str(), O_WRONLY | O_CREAT | O_TRUNC,
                                   0644);
  if (stderr_path_.empty() || stderr_path_ == stdout_path_) {
    stderr_path_.clear();
    posix_spawn_file_actions_adddup2(&actions, 1, 2);
  } else {
    posix_spawn_file_actions_addopen(&actions, 2, stderr_path_.c_str(),
                                     O_WRONLY | O_CREAT | O_TRUNC, 0644);
  }
  // Only stdin, stdout and stderr go to the child: the test's own sockets (Asio does not open
  // them close-on-exec) would otherwise stay alive in it, and a test server "gone" would still
  // accept connections through the child's copy of its listening socket.
  posix_spawn_file_actions_addclosefrom_np(&actions, 3);
  // Its own process group, so that terminate() also reaches what the child starts (a shell
  // script's node, say).
  posix_spawnattr_t attributes;
  posix_spawnattr_init(&attributes);
  posix_spawnattr_setflags(&attributes, POSIX_SPAWN_SETPGROUP);
  posix_spawnattr_setpgroup(&attributes, 0);
  auto environment = merged_environment(options.env);
  auto args = c_strings(options.argv);
  auto envp = c_strings(environment);
  if (posix_spawnp(&pid_, args[0], &actions, &attributes, args.data(), envp.data()) != 0)
    pid_ = -1;
  posix_spawnattr_destroy(&attributes);
  posix_spawn_file_actions_destroy(&actions);
  if (stdin_pipe[0] >= 0) {
    close(stdin_pipe[0]);
    stdin_fd_ = stdin_pipe[1];
  }
}

bool ChildProcess::write_stdin(const std::string& bytes) {
  // A child that exited closes the pipe; the write must fail, not kill the test with SIGPIPE.
  signal(SIGPIPE, SIG_IGN);
  std::size_t done = 0;
  while (stdin_fd_ >= 0 && done < bytes.size()) {
    const ssize_t n = ::write(stdin_fd_, bytes.data() + done, bytes.size() - done);
    if (n < 0 && errno == EINTR)
      continue;
    if (n <= 0)
      return false;
    done += static_cast<std::size_t>(n);
  }
  return stdin_fd_ >= 0;
}

void ChildProcess::close_stdin() {
  if (stdin_fd_ >= 0)
    close(stdin_fd_);
  stdin_fd_ = -1;
}

ChildProcess::~ChildProcess() {
  close_stdin();
  terminate(std::chrono::seconds(2));
}

bool ChildProcess::running() {
  if (pid_ <= 0 || exit_status_)
    return false;
  int status = 0;
  if (waitpid(pid_, &status, WNOHANG) == pid_) {
    exit_status_ = decode_status(status);
    return false;
  }
  return true;
}

std::string ChildProcess::stdout_text() const {
  return read_file(stdout_path_);
}

std::string ChildProcess::stderr_text() const {
  return stderr_path_.empty() ? std::string() : read_file(stderr_path_);
}

std::string ChildProcess::output() const {
  return stdout_text() + stderr_text();
}

std::optional<std::string> ChildProcess::wait_for(const std::regex* pattern,
                                                  const std::string* text,
                                                  std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (true) {
    // Read the state before the files: output written just before an exit is still seen.
    const bool alive = running();
    if (auto line = find_line(stdout_text(), pattern, text))
      return line;
    if (auto line = find_line(stderr_text(), pattern, text))
      return line;
    if (!alive || std::chrono::steady_clock::now() >= deadline)
      return std::nullopt;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
}

std::optional<std::string> ChildProcess::wait_for_line(const std::string& text,
                                                       std::chrono::milliseconds timeout) {
  return wait_for(nullptr, &text, timeout);
}

std::optional<std::string> ChildProcess::wait_for_line(const std::regex& pattern,
                                                       std::chrono::milliseconds timeout) {
  return wait_for(&pattern, nullptr, timeout);
}

std::optional<int> ChildProcess::wait_for_exit(std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (running()) {
    if (std::chrono::steady_clock::now() >= deadline)
      return std::nullopt;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return exit_status_;
}

int ChildProcess::terminate(std::chrono::milliseconds grace) {
  if (pid_ <= 0)
    return -1;
  if (!running())
    return *exit_status_;
  kill(-pid_, SIGTERM);
  if (auto status = wait_for_exit(grace))
    return *status;
  kill(-pid_, SIGKILL);
  int status = 0;
  if (waitpid(pid_, &status, 0) == pid_)
    exit_status_ = decode_status(status);
  else
    exit_status_ = -SIGKILL;
  return *exit_status_;
}

unsigned short port_from_listening_line(const std::string& line) {
  static const std::regex port_pattern(R"(listening on \S*:(\d+))");
  std::smatch match;
  if (!std::regex_search(line, match, port_pattern))
    return 0;
  const long port = std::strtol(match[1].str().c_str(), nullptr, 10);
  return port > 0 && port < 65536 ? static_cast<unsigned short>(port) : 0;
}

std::string proxy_binary() {
  return X402PROXY_BINARY;
}

std::string make_temp_dir(const std::string& prefix) {
  std::string pattern = "/tmp/" + prefix + "-XXXXXX";
  char* made = mkdtemp(pattern.data());
  return made ? std::string(made) : "/tmp";
}

}  // namespace x402proxy::testing
