// Reading the deployment files for tests that run without a Docker engine or a cluster: a small
// Dockerfile parser (line continuations, comments, multi-stage FROM ... AS name, COPY flags, exec
// form), and running a command to read its output.
#pragma once

#include <optional>
#include <string>
#include <vector>

namespace x402proxy::testing {

struct DockerInstruction {
  std::string keyword;  // upper-cased: FROM, COPY, RUN, ...
  std::string arguments;
  int line = 0;  // where it starts
};

struct DockerStage {
  std::string image;
  std::string name;  // the `AS name`, or its index as text
  std::vector<DockerInstruction> instructions;
};

struct DockerCopy {
  std::string from;  // --from=stage, empty for the build context
  std::vector<std::string> sources;
  std::string destination;
  int line = 0;
};

std::string read_text_file(const std::string& path);
std::vector<DockerStage> parse_dockerfile(const std::string& text);
// COPY/ADD arguments: flags, then sources and destination (shell or JSON form).
DockerCopy parse_copy(const DockerInstruction& instruction);
// The exec (JSON array) form of ENTRYPOINT, CMD or a HEALTHCHECK's CMD; nullopt for shell form.
std::optional<std::vector<std::string>> parse_exec_form(const std::string& arguments);
// Whitespace-separated words (no quote handling beyond what the deployment files use).
std::vector<std::string> split_words(const std::string& text);

struct CommandOutput {
  int exit_code = -1;
  std::string output;
};
// Runs a shell command, stdout collected (stderr discarded), at most `max_bytes` of it.
CommandOutput run_command(const std::string& command, std::size_t max_bytes = 4 * 1024 * 1024);
bool command_exists(const std::string& name);

}  // namespace x402proxy::testing
