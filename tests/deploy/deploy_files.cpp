#include "tests/deploy/deploy_files.h"

#include <sys/wait.h>

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <fstream>
#include <sstream>

#include <boost/json.hpp>

namespace x402proxy::testing {
namespace json = boost::json;

namespace {

std::string trim(const std::string& text) {
  const auto first = text.find_first_not_of(" \t\r\n");
  if (first == std::string::npos)
    return {};
  const auto last = text.find_last_not_of(" \t\r\n");
  return text.substr(first, last - first + 1);
}

std::string upper(std::string text) {
  std::transform(text.begin(), text.end(), text.begin(),
                 [](unsigned char c) { return static_cast<char>(std::toupper(c)); });
  return text;
}

}  // namespace

std::string read_text_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

std::vector<std::string> split_words(const std::string& text) {
  std::istringstream in(text);
  std::vector<std::string> words;
  for (std::string word; in >> word;)
    words.push_back(word);
  return words;
}

std::vector<DockerStage> parse_dockerfile(const std::string& text) {
  std::vector<DockerStage> stages;
  std::istringstream in(text);
  std::string line;
  int line_number = 0;
  std::string pending;  // an instruction continued with a trailing backslash
  int pending_line = 0;
  auto finish = [&](const std::string& whole, int at) {
    std::string instruction = trim(whole);
    if (instruction.empty())
      return;
    const auto space = instruction.find_first_of(" \t");
    DockerInstruction parsed{upper(instruction.substr(0, space)),
                             space == std::string::npos ? "" : trim(instruction.substr(space)), at};
    if (parsed.keyword == "FROM") {
      auto words = split_words(parsed.arguments);
      DockerStage stage;
      stage.image = words.empty() ? "" : words[0];
      stage.name =
          words.size() >= 3 && upper(words[1]) == "AS" ? words[2] : std::to_string(stages.size());
      stages.push_back(stage);
      return;
    }
    if (!stages.empty())
      stages.back().instructions.push_back(parsed);
  };
  while (std::getline(in, line)) {
    ++line_number;
    const std::string trimmed = trim(line);
    // Comment lines are dropped, also in the middle of a continued instruction (as Docker does).
    if (!trimmed.empty() && trimmed[0] == '#')
      continue;
    if (pending.empty())
      pending_line = line_number;
    if (!trimmed.empty() && trimmed.back() == '\\') {
      pending += trimmed.substr(0, trimmed.size() - 1) + " ";
      continue;
    }
    pending += trimmed;
    finish(pending, pending_line);
    pending.clear();
  }
  finish(pending, pending_line);
  return stages;
}

std::optional<std::vector<std::string>> parse_exec_form(const std::string& arguments) {
  const std::string text = trim(arguments);
  if (text.empty() || text[0] != '[')
    return std::nullopt;
  boost::system::error_code ec;
  json::value value = json::parse(text, ec);
  if (ec || !value.is_array())
    return std::nullopt;
  std::vector<std::string> argv;
  for (const auto& item : value.as_array()) {
    if (!item.is_string())
      return std::nullopt;
    argv.emplace_back(item.as_string());
  }
  return argv;
}

DockerCopy parse_copy(const DockerInstruction& instruction) {
  DockerCopy copy;
  copy.line = instruction.line;
  std::string rest = instruction.arguments;
  std::vector<std::string> words = split_words(rest);
  std::size_t i = 0;
  for (; i < words.size() && words[i].starts_with("--"); ++i) {
    if (words[i].starts_with("--from="))
      copy.from = words[i].substr(7);
  }
  std::vector<std::string> paths(words.begin() + static_cast<std::ptrdiff_t>(i), words.end());
  if (!paths.empty() && paths[0].starts_with("[")) {
    std::string joined;
    for (const auto& word : paths)
      joined += word + " ";
    paths = parse_exec_form(joined).value_or(std::vector<std::string>{});
  }
  if (paths.size() >= 2) {
    copy.destination = paths.back();
    paths.pop_back();
    copy.sources = paths;
  }
  return copy;
}

CommandOutput run_command(const std::string& command, std::size_t max_bytes) {
  CommandOutput result;
  FILE* pipe = ::popen(("(" + command + ") 2>/dev/null").c_str(), "r");
  if (pipe == nullptr)
    return result;
  char buffer[4096];
  std::size_t got = 0;
  while ((got = std::fread(buffer, 1, sizeof buffer, pipe)) > 0) {
    if (result.output.size() < max_bytes)
      result.output.append(buffer, std::min(got, max_bytes - result.output.size()));
  }
  const int status = ::pclose(pipe);
  result.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return result;
}

bool command_exists(const std::string& name) {
  return run_command("command -v " + name).exit_code == 0;
}

}  // namespace x402proxy::testing
