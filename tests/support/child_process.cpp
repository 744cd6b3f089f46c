#include "tests/support/child_process.h"

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <sstream>
#include <thread>

extern char** environ;

namespace x402proxy::testing {

ChildProcess::ChildProcess(std::vector<std::string> argv, std::string log_path)
    : log_path_(std::move(log_path)) {
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 1, log_path_.c_str(), O_WRONLY | O_CREAT | O_TRUNC,
                                   0644);
  posix_spawn_file_actions_adddup2(&actions, 1, 2);
  posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
  // X402PROXY_TEST_WRAPPER="valgrind -q" runs every child under a tool, for debugging.
  if (const char* wrapper = std::getenv("X402PROXY_TEST_WRAPPER"); wrapper && *wrapper) {
    std::vector<std::string> prefix;
    std::istringstream words(wrapper);
    for (std::string word; words >> word;)
      prefix.push_back(word);
    argv.insert(argv.begin(), prefix.begin(), prefix.end());
  }
  std::vector<char*> args;
  for (auto& arg : argv)
    args.push_back(arg.data());
  args.push_back(nullptr);
  if (posix_spawnp(&pid_, args[0], &actions, nullptr, args.data(), environ) != 0)
    pid_ = -1;
  posix_spawn_file_actions_destroy(&actions);
}

ChildProcess::~ChildProcess() {
  stop(std::chrono::seconds(2));
}

bool ChildProcess::running() {
  if (pid_ <= 0 || exit_status_)
    return false;
  int status = 0;
  if (waitpid(pid_, &status, WNOHANG) == pid_) {
    exit_status_ = WIFEXITED(status) ? WEXITSTATUS(status) : -WTERMSIG(status);
    return false;
  }
  return true;
}

std::string ChildProcess::output() const {
  std::ifstream file(log_path_);
  std::stringstream text;
  text << file.rdbuf();
  return text.str();
}

std::optional<std::string> ChildProcess::wait_for_line(const std::string& text,
                                                       std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    std::string all = output();
    if (auto at = all.find(text); at != std::string::npos) {
      auto start = all.rfind('\n', at);
      start = start == std::string::npos ? 0 : start + 1;
      auto end = all.find('\n', at);
      if (end != std::string::npos)
        return all.substr(start, end - start);
    }
    if (!running())
      return std::nullopt;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return std::nullopt;
}

int ChildProcess::stop(std::chrono::milliseconds grace) {
  if (pid_ <= 0)
    return -1;
  if (exit_status_)
    return *exit_status_;
  kill(pid_, SIGTERM);
  const auto deadline = std::chrono::steady_clock::now() + grace;
  while (std::chrono::steady_clock::now() < deadline) {
    if (!running())
      return *exit_status_;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  kill(pid_, SIGKILL);
  int status = 0;
  waitpid(pid_, &status, 0);
  exit_status_ = -SIGKILL;
  return *exit_status_;
}

unsigned short port_from_listening_line(const std::string& line) {
  auto colon = line.rfind(':');
  return static_cast<unsigned short>(std::atoi(line.c_str() + colon + 1));
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
