// deploy/Dockerfile checked without a Docker engine: what it copies exists, the binary it ships is
// the one CMake builds, it runs as a non-root user with a working health check, and every package
// its runtime stage installs exists in Debian 12 and covers the libraries the binary loads.
#include <catch2/catch.hpp>

#include <algorithm>
#include <filesystem>
#include <set>
#include <string>
#include <vector>

#include "tests/deploy/deploy_files.h"

namespace {

namespace fs = std::filesystem;
using namespace x402proxy::testing;

const std::string kSource = X402PROXY_SOURCE_DIR;

struct Dockerfile {
  std::vector<DockerStage> stages;
  const DockerStage& runtime() const { return stages.back(); }
  const DockerStage* stage(const std::string& name) const {
    for (const auto& s : stages) {
      if (s.name == name)
        return &s;
    }
    return nullptr;
  }
};

Dockerfile load_dockerfile() {
  const std::string path = kSource + "/deploy/Dockerfile";
  REQUIRE(fs::exists(path));
  Dockerfile file{parse_dockerfile(read_text_file(path))};
  REQUIRE(file.stages.size() >= 2);
  return file;
}

std::vector<DockerInstruction> all(const DockerStage& stage, const std::string& keyword) {
  std::vector<DockerInstruction> found;
  for (const auto& instruction : stage.instructions) {
    if (instruction.keyword == keyword)
      found.push_back(instruction);
  }
  return found;
}

// The last WORKDIR of a stage ("/" when none).
std::string workdir(const DockerStage& stage) {
  auto dirs = all(stage, "WORKDIR");
  return dirs.empty() ? "/" : dirs.back().arguments;
}

// The COPY --from=<build stage> that installs the x402-mcp-proxy binary.
DockerCopy binary_copy(const Dockerfile& file) {
  for (const auto& instruction : all(file.runtime(), "COPY")) {
    DockerCopy copy = parse_copy(instruction);
    if (!copy.from.empty() && copy.sources.size() == 1 &&
        fs::path(copy.destination).filename() == "x402-mcp-proxy")
      return copy;
  }
  FAIL("the runtime stage copies no x402-mcp-proxy binary from a build stage");
  return {};
}

// The packages after `apt-get install` in the stage's RUN instructions.
std::vector<std::string> installed_packages(const DockerStage& stage) {
  std::vector<std::string> packages;
  for (const auto& run : all(stage, "RUN")) {
    auto words = split_words(run.arguments);
    for (std::size_t i = 0; i + 1 < words.size(); ++i) {
      if (!words[i].ends_with("apt-get") || words[i + 1] != "install")
        continue;
      for (std::size_t j = i + 2; j < words.size(); ++j) {
        const std::string& word = words[j];
        if (word == "&&" || word == ";" || word == "||" || word == "|")
          break;
        if (!word.starts_with("-"))
          packages.push_back(word);
      }
    }
  }
  return packages;
}

}  // namespace

TEST_CASE("every file the Dockerfile copies from the build context exists in the repository") {
  const auto file = load_dockerfile();
  int copied = 0;
  for (const auto& stage : file.stages) {
    for (const auto& instruction : stage.instructions) {
      if (instruction.keyword != "COPY" && instruction.keyword != "ADD")
        continue;
      DockerCopy copy = parse_copy(instruction);
      INFO("Dockerfile line " << copy.line << ": " << instruction.arguments);
      REQUIRE_FALSE(copy.sources.empty());
      if (!copy.from.empty()) {
        CHECK(file.stage(copy.from) != nullptr);
        continue;
      }
      for (const auto& source : copy.sources) {
        CHECK(source.find_first_of("*?[") == std::string::npos);
        CHECK(fs::exists(fs::path(kSource) / source));
        ++copied;
      }
    }
  }
  CHECK(copied > 0);
}

TEST_CASE("the build stage copies every folder the top-level CMakeLists.txt adds") {
  const auto file = load_dockerfile();
  std::set<std::string> copied;
  for (const auto& stage : file.stages) {
    for (const auto& instruction : all(stage, "COPY")) {
      DockerCopy copy = parse_copy(instruction);
      if (copy.from.empty())
        copied.insert(copy.sources.begin(), copy.sources.end());
    }
  }
  // add_subdirectory(x) lines of the top CMakeLists: each x, or the folder above it, is copied.
  const std::string cmake = read_text_file(kSource + "/CMakeLists.txt");
  const std::string marker = "add_subdirectory(";
  int folders = 0;
  for (auto at = cmake.find(marker); at != std::string::npos; at = cmake.find(marker, at + 1)) {
    const auto start = at + marker.size();
    const std::string folder = cmake.substr(start, cmake.find(')', start) - start);
    const std::string top = folder.substr(0, folder.find('/'));
    INFO("add_subdirectory(" << folder << ")");
    CHECK((copied.count(folder) + copied.count(top)) > 0);
    ++folders;
  }
  CHECK(folders > 5);
  CHECK(copied.count("CMakeLists.txt") == 1);
  CHECK(copied.count("cmake") == 1);
}

TEST_CASE("the runtime stage ships the binary CMake builds, and runs it") {
  const auto file = load_dockerfile();
  const DockerCopy copy = binary_copy(file);
  const DockerStage* build = file.stage(copy.from);
  REQUIRE(build != nullptr);

  // The build stage's `cmake -S . -B <dir>`, and its `--target` list.
  std::string build_dir;
  bool builds_proxy = false;
  for (const auto& run : all(*build, "RUN")) {
    auto words = split_words(run.arguments);
    for (std::size_t i = 0; i + 1 < words.size(); ++i) {
      if (words[i] == "-B")
        build_dir = words[i + 1];
      if (words[i] == "--target") {
        for (std::size_t j = i + 1;
             j < words.size() && !words[j].starts_with("-") && words[j] != "&&"; ++j)
          builds_proxy = builds_proxy || words[j] == "x402-mcp-proxy";
      }
    }
  }
  REQUIRE_FALSE(build_dir.empty());
  CHECK(builds_proxy);

  // Where CMake puts the binary, relative to its build directory (bin/x402-mcp-proxy).
  const fs::path built = X402PROXY_BINARY;
  const fs::path relative = built.lexically_relative(X402PROXY_BUILD_DIR);
  REQUIRE_FALSE(relative.empty());
  REQUIRE(relative.native().find("..") == std::string::npos);
  fs::path expected = fs::path(build_dir).is_absolute()
                          ? fs::path(build_dir) / relative
                          : fs::path(workdir(*build)) / build_dir / relative;
  CHECK(fs::path(copy.sources[0]).lexically_normal() == expected.lexically_normal());

  // ENTRYPOINT runs that binary: by its installed path, or by name from a PATH directory.
  const fs::path installed = copy.destination;
  auto entrypoints = all(file.runtime(), "ENTRYPOINT");
  REQUIRE(entrypoints.size() == 1);
  auto entrypoint = parse_exec_form(entrypoints[0].arguments);
  REQUIRE(entrypoint);
  REQUIRE_FALSE(entrypoint->empty());
  const std::string program = (*entrypoint)[0];
  const bool on_path =
      installed.parent_path() == "/usr/local/bin" || installed.parent_path() == "/usr/bin";
  CHECK((program == installed.native() || (on_path && program == installed.filename().native())));

  // The default command serves the documented config path.
  auto commands = all(file.runtime(), "CMD");
  REQUIRE(commands.size() == 1);
  auto command = parse_exec_form(commands[0].arguments);
  REQUIRE(command);
  CHECK(*command ==
        std::vector<std::string>{"serve", "--config", "/etc/x402-mcp-proxy/proxy.yaml"});
}

TEST_CASE("the image's health check is the binary's own probe of /healthz on the exposed port") {
  const auto file = load_dockerfile();
  const DockerCopy copy = binary_copy(file);
  auto healthchecks = all(file.runtime(), "HEALTHCHECK");
  REQUIRE(healthchecks.size() == 1);
  const std::string& arguments = healthchecks[0].arguments;
  const auto cmd = arguments.find("CMD ");
  REQUIRE(cmd != std::string::npos);
  auto argv = parse_exec_form(arguments.substr(cmd + 4));
  REQUIRE(argv);
  REQUIRE(argv->size() >= 3);
  CHECK(fs::path((*argv)[0]).filename() == fs::path(copy.destination).filename());
  CHECK((*argv)[1] == "probe");
  CHECK((*argv)[2].starts_with("http://127.0.0.1:8402/"));
  CHECK((*argv)[2].ends_with("/healthz"));

  auto exposed = all(file.runtime(), "EXPOSE");
  REQUIRE(exposed.size() == 1);
  CHECK(exposed[0].arguments == "8402");
}

TEST_CASE("the runtime stage runs as a non-root user and keeps its state in a volume") {
  const auto file = load_dockerfile();
  auto users = all(file.runtime(), "USER");
  REQUIRE_FALSE(users.empty());
  const std::string user = users.back().arguments.substr(0, users.back().arguments.find(':'));
  INFO("USER " << users.back().arguments);
  CHECK(user != "root");
  CHECK(user != "0");
  // A numeric uid: Kubernetes' runAsNonRoot can only verify a number.
  CHECK(user.find_first_not_of("0123456789") == std::string::npos);

  auto volumes = all(file.runtime(), "VOLUME");
  REQUIRE(volumes.size() == 1);
  CHECK(volumes[0].arguments.find("/var/lib/x402-mcp-proxy") != std::string::npos);
}

TEST_CASE("every package the runtime stage installs exists in Debian 12") {
  const auto file = load_dockerfile();
  const auto packages = installed_packages(file.runtime());
  REQUIRE_FALSE(packages.empty());
  if (!command_exists("apt-cache")) {
    WARN("apt-cache is absent: the runtime packages are not checked against Debian 12");
    return;
  }
  if (read_text_file("/etc/os-release").find("VERSION_ID=\"12\"") == std::string::npos) {
    WARN("this machine is not Debian 12: its apt-cache cannot speak for debian:12-slim");
    return;
  }
  for (const auto& package : packages) {
    INFO("package " << package);
    auto shown = run_command("apt-cache show --no-all-versions '" + package + "'");
    CHECK(shown.exit_code == 0);
    CHECK(shown.output.find("Package: " + package + "\n") != std::string::npos);
  }
}

TEST_CASE("the runtime packages provide every shared library the binary loads") {
  const auto file = load_dockerfile();
  const auto packages = installed_packages(file.runtime());
  if (!command_exists("ldd") || !command_exists("dpkg-query") || !command_exists("apt-cache")) {
    WARN("ldd, dpkg-query or apt-cache is absent: the runtime libraries are not checked");
    return;
  }
  // What the listed packages pull in, and what every Debian image has (Priority: required).
  std::string joined;
  for (const auto& package : packages)
    joined += " '" + package + "'";
  const auto closure = run_command(
      "apt-cache depends --recurse --no-recommends --no-suggests --no-conflicts --no-breaks "
      "--no-replaces --no-enhances" +
      joined);
  REQUIRE(closure.exit_code == 0);
  std::set<std::string> available;
  for (const auto& word : split_words(closure.output)) {
    if (!word.ends_with(":") && word.find('<') == std::string::npos)
      available.insert(word);
  }

  const auto libraries = run_command(std::string("ldd '") + X402PROXY_BINARY + "'");
  REQUIRE(libraries.exit_code == 0);
  int checked = 0;
  for (const auto& word : split_words(libraries.output)) {
    if (!word.starts_with("/") || word.find(".so") == std::string::npos)
      continue;
    // The package that owns the library file (through a symlink to its real path if needed).
    std::error_code ec;
    const std::string real = fs::canonical(word, ec).native();
    auto owner = run_command("dpkg-query -S '" + word + "' || dpkg-query -S '" + real + "'");
    if (owner.exit_code != 0) {
      WARN("no Debian package owns " << word);
      continue;
    }
    const std::string package = owner.output.substr(0, owner.output.find_first_of(":\n"));
    const auto priority = run_command("dpkg-query -W -f='${Priority}' '" + package + "'");
    INFO(word << " comes from " << package << " (priority " << priority.output << ")");
    CHECK((available.count(package) > 0 || priority.output == "required"));
    ++checked;
  }
  CHECK(checked > 5);
}
