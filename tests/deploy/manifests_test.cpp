// deploy/compose.yaml, deploy/kubernetes/sidecar.yaml and deploy/config/proxy.yaml checked without
// Docker or a cluster: the files and paths they name exist and agree with the image, the configs
// they carry pass `x402-mcp-proxy check`, and only the proxy's port is ever exposed.
#include <catch2/catch.hpp>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <map>
#include <set>
#include <string>
#include <vector>

#include <yaml-cpp/yaml.h>

#include "tests/support/child_process.h"

namespace {

namespace fs = std::filesystem;
using namespace x402proxy::testing;

const std::string kSource = X402PROXY_SOURCE_DIR;
const std::string kConfigInImage = "/etc/x402-mcp-proxy/proxy.yaml";
const std::string kStateInImage = "/var/lib/x402-mcp-proxy";

// Runs `x402-mcp-proxy check --config path`; its exit status (its output in the test's INFO).
int run_check(const std::string& config_path) {
  const std::string dir = make_temp_dir("deploy-check");
  ChildProcess check({proxy_binary(), "check", "--config", config_path}, dir + "/check.log");
  REQUIRE(check.started());
  auto status = check.wait_for_exit(std::chrono::seconds(20));
  INFO("check output:\n" << check.output());
  REQUIRE(status.has_value());
  return *status;
}

std::vector<std::string> strings(const YAML::Node& sequence) {
  std::vector<std::string> out;
  for (const auto& item : sequence)
    out.push_back(item.as<std::string>());
  return out;
}

std::map<std::string, YAML::Node> kubernetes_objects() {
  std::map<std::string, YAML::Node> objects;  // "Kind/name"
  for (const auto& document : YAML::LoadAllFromFile(kSource + "/deploy/kubernetes/sidecar.yaml")) {
    if (document.IsNull())
      continue;
    objects[document["kind"].as<std::string>() + "/" +
            document["metadata"]["name"].as<std::string>()] = document;
  }
  return objects;
}

YAML::Node find_object(const std::map<std::string, YAML::Node>& objects, const std::string& kind) {
  for (const auto& [key, object] : objects) {
    if (key.starts_with(kind + "/"))
      return object;
  }
  FAIL("sidecar.yaml has no " << kind);
  return {};
}

YAML::Node named(const YAML::Node& sequence, const std::string& name) {
  for (const auto& item : sequence) {
    if (item["name"] && item["name"].as<std::string>() == name)
      return item;
  }
  return YAML::Node();
}

}  // namespace

TEST_CASE("the compose config is one that x402-mcp-proxy check accepts") {
  const std::string config = kSource + "/deploy/config/proxy.yaml";
  REQUIRE(fs::exists(config));
  CHECK(run_check(config) == 0);
  // Its state goes to the image's volume, where the non-root user may write.
  const YAML::Node parsed = YAML::LoadFile(config);
  CHECK(parsed["journal"].as<std::string>().starts_with(kStateInImage + "/"));
  CHECK(parsed["facilitator"]["ledger"].as<std::string>().starts_with(kStateInImage + "/"));
  CHECK(parsed["listen"].as<std::string>() == "0.0.0.0:8402");
}

TEST_CASE("compose runs the proxy in the upstream's network namespace with existing files") {
  const fs::path deploy = fs::path(kSource) / "deploy";
  const YAML::Node compose = YAML::LoadFile((deploy / "compose.yaml").native());
  const YAML::Node services = compose["services"];
  REQUIRE(services["upstream"]);
  REQUIRE(services["proxy"]);

  for (const char* name : {"upstream", "proxy"}) {
    const YAML::Node build = services[name]["build"];
    INFO("service " << name);
    REQUIRE(build);
    const fs::path context = deploy / build["context"].as<std::string>();
    CHECK(fs::exists(context / "CMakeLists.txt"));
    CHECK(fs::exists(context / build["dockerfile"].as<std::string>()));
  }
  CHECK(strings(services["upstream"]["entrypoint"]) ==
        std::vector<std::string>{"example-upstream"});
  CHECK(services["proxy"]["network_mode"].as<std::string>() == "service:upstream");
  CHECK_FALSE(services["proxy"]["ports"]);

  // Only the proxy's port is published (on the service whose namespace it shares).
  auto ports = strings(services["upstream"]["ports"]);
  REQUIRE(ports.size() == 1);
  CHECK(ports[0].ends_with(":8402"));

  // Every bind mount's host side exists; the config lands where the image's CMD reads it.
  bool config_mounted = false;
  bool state_mounted = false;
  for (const auto& volume : strings(services["proxy"]["volumes"])) {
    const std::string host = volume.substr(0, volume.find(':'));
    const std::string rest = volume.substr(volume.find(':') + 1);
    const std::string target = rest.substr(0, rest.find(':'));
    INFO("volume " << volume);
    if (host.starts_with(".") || host.starts_with("/")) {
      CHECK(fs::exists(deploy / host));
    } else {
      CHECK(compose["volumes"][host].IsDefined());
    }
    if (target == kConfigInImage) {
      config_mounted = true;
      CHECK(volume.ends_with(":ro"));
      CHECK(fs::equivalent(deploy / host, deploy / "config" / "proxy.yaml"));
    }
    state_mounted = state_mounted || target == kStateInImage;
  }
  CHECK(config_mounted);
  CHECK(state_mounted);
}

TEST_CASE("the Kubernetes sidecar's proxy.yaml passes check and its objects refer to each other") {
  const auto objects = kubernetes_objects();
  const YAML::Node config_map = find_object(objects, "ConfigMap");
  const YAML::Node secret = find_object(objects, "Secret");
  const YAML::Node deployment = find_object(objects, "Deployment");
  const YAML::Node service = find_object(objects, "Service");

  const std::string dir = make_temp_dir("deploy-k8s");
  const std::string config = dir + "/proxy.yaml";
  std::ofstream(config) << config_map["data"]["proxy.yaml"].as<std::string>();
  CHECK(run_check(config) == 0);

  const YAML::Node pod = deployment["spec"]["template"]["spec"];
  CHECK(pod["securityContext"]["runAsNonRoot"].as<bool>());
  REQUIRE(pod["containers"].size() == 2);
  const YAML::Node proxy = named(pod["containers"], "x402-mcp-proxy");
  REQUIRE(proxy);
  CHECK(strings(proxy["args"]) == std::vector<std::string>{"serve", "--config", kConfigInImage});
  CHECK(proxy["livenessProbe"]["httpGet"]["path"].as<std::string>() == "/healthz");
  CHECK(proxy["readinessProbe"]["httpGet"]["path"].as<std::string>() == "/readyz");
  const YAML::Node port =
      named(proxy["ports"], proxy["livenessProbe"]["httpGet"]["port"].as<std::string>());
  REQUIRE(port);
  CHECK(port["containerPort"].as<int>() == 8402);
  CHECK(proxy["resources"]["requests"]);
  CHECK(proxy["resources"]["limits"]);
  for (const auto& container : pod["containers"]) {
    INFO("container " << container["name"].as<std::string>());
    CHECK(container["securityContext"]["readOnlyRootFilesystem"].as<bool>());
    CHECK_FALSE(container["securityContext"]["allowPrivilegeEscalation"].as<bool>());
  }

  // Mounts name existing volumes; the config volume carries this ConfigMap and Secret.
  std::set<std::string> mount_paths;
  for (const auto& mount : proxy["volumeMounts"]) {
    const YAML::Node volume = named(pod["volumes"], mount["name"].as<std::string>());
    INFO("mount " << mount["name"].as<std::string>());
    REQUIRE(volume);
    const std::string path = mount["mountPath"].as<std::string>();
    mount_paths.insert(path);
    if (path == kStateInImage)
      CHECK(volume["emptyDir"]);
    if (path != "/etc/x402-mcp-proxy")
      continue;
    bool has_config = false;
    bool has_secrets = false;
    for (const auto& source : volume["projected"]["sources"]) {
      if (source["configMap"]) {
        CHECK(source["configMap"]["name"].as<std::string>() ==
              config_map["metadata"]["name"].as<std::string>());
        has_config = source["configMap"]["items"][0]["path"].as<std::string>() == "proxy.yaml";
      }
      if (source["secret"]) {
        CHECK(source["secret"]["name"].as<std::string>() ==
              secret["metadata"]["name"].as<std::string>());
        for (const auto& item : source["secret"]["items"]) {
          has_secrets = has_secrets || item["path"].as<std::string>().starts_with("secrets/");
          CHECK(secret["stringData"][item["key"].as<std::string>()]);
        }
      }
    }
    CHECK(has_config);
    CHECK(has_secrets);
  }
  CHECK(mount_paths.count("/etc/x402-mcp-proxy") == 1);
  CHECK(mount_paths.count(kStateInImage) == 1);

  // The Service selects this pod and exposes only the proxy's port.
  const YAML::Node labels = deployment["spec"]["template"]["metadata"]["labels"];
  for (const auto& selector : service["spec"]["selector"]) {
    const std::string key = selector.first.as<std::string>();
    const std::string value = selector.second.as<std::string>();
    INFO("selector " << key << "=" << value);
    CHECK(labels[key].as<std::string>() == value);
  }
  REQUIRE(service["spec"]["ports"].size() == 1);
  CHECK(service["spec"]["ports"][0]["port"].as<int>() == 8402);
}

TEST_CASE("the systemd unit runs serve with the documented config, state and reload") {
  const std::string unit = [] {
    std::ifstream in(kSource + "/deploy/systemd/x402-mcp-proxy.service");
    return std::string(std::istreambuf_iterator<char>(in), {});
  }();
  REQUIRE_FALSE(unit.empty());
  CHECK(unit.find("\nExecStart=/usr/local/bin/x402-mcp-proxy serve --config " + kConfigInImage +
                  "\n") != std::string::npos);
  CHECK(unit.find("\nStateDirectory=x402-mcp-proxy\n") != std::string::npos);
  CHECK(unit.find("\nExecReload=/bin/kill -HUP $MAINPID\n") != std::string::npos);
  CHECK(unit.find("\nProtectSystem=strict\n") != std::string::npos);
  CHECK(unit.find("\nNoNewPrivileges=yes\n") != std::string::npos);
}

TEST_CASE("the replicas manifest runs three proxies on a PostgreSQL store from its Secret") {
  std::map<std::string, YAML::Node> objects;
  for (const auto& document : YAML::LoadAllFromFile(kSource + "/deploy/kubernetes/replicas.yaml")) {
    if (!document.IsNull())
      objects[document["kind"].as<std::string>() + "/" +
              document["metadata"]["name"].as<std::string>()] = document;
  }
  const YAML::Node config_map = objects["ConfigMap/x402-mcp-proxy-replicas-config"];
  const YAML::Node secret = objects["Secret/x402-mcp-proxy-store"];
  const YAML::Node deployment = objects["Deployment/x402-mcp-proxy"];
  const YAML::Node budget = objects["PodDisruptionBudget/x402-mcp-proxy"];
  const YAML::Node upstream_service = objects["Service/mcp-server"];
  REQUIRE(config_map);
  REQUIRE(secret);
  REQUIRE(deployment);
  REQUIRE(budget);
  REQUIRE(upstream_service);

  const std::string dir = make_temp_dir("deploy-k8s-replicas");
  const std::string config = dir + "/proxy.yaml";
  std::ofstream(config) << config_map["data"]["proxy.yaml"].as<std::string>();
  CHECK(run_check(config) == 0);
  const YAML::Node proxy_config = YAML::Load(config_map["data"]["proxy.yaml"].as<std::string>());
  const std::string url_env = proxy_config["store"]["url_env"].as<std::string>();
  CHECK(proxy_config["upstream"]["url"].as<std::string>().starts_with(
      "http://" + upstream_service["metadata"]["name"].as<std::string>() + ":"));

  CHECK(deployment["spec"]["replicas"].as<int>() == 3);
  const YAML::Node pod = deployment["spec"]["template"]["spec"];
  const YAML::Node proxy = named(pod["containers"], "x402-mcp-proxy");
  REQUIRE(proxy);
  // The store URL reaches the container from the Secret, under the name the config reads.
  const YAML::Node env = named(proxy["env"], url_env);
  REQUIRE(env);
  const YAML::Node ref = env["valueFrom"]["secretKeyRef"];
  CHECK(ref["name"].as<std::string>() == secret["metadata"]["name"].as<std::string>());
  CHECK(secret["stringData"][ref["key"].as<std::string>()].as<std::string>().starts_with(
      "postgresql://"));
  CHECK(proxy["readinessProbe"]["httpGet"]["path"].as<std::string>() == "/readyz");
  // The budget covers these pods and keeps all but one.
  const YAML::Node labels = deployment["spec"]["template"]["metadata"]["labels"];
  for (const auto& selector : budget["spec"]["selector"]["matchLabels"])
    CHECK(labels[selector.first.as<std::string>()].as<std::string>() ==
          selector.second.as<std::string>());
  CHECK(budget["spec"]["minAvailable"].as<int>() == 2);
}

TEST_CASE("the replicas compose file runs two proxies behind nginx on one store and facilitator") {
  const fs::path deploy = fs::path(kSource) / "deploy";
  const YAML::Node compose = YAML::LoadFile((deploy / "compose-replicas.yaml").native());
  const YAML::Node services = compose["services"];
  for (const char* name : {"postgres", "upstream", "facilitator", "proxy-a", "proxy-b", "nginx"}) {
    INFO("service " << name);
    CHECK(services[name]);
  }
  const std::string config = (deploy / "config" / "proxy-replicas.yaml").native();
  CHECK(run_check(config) == 0);
  const YAML::Node parsed = YAML::LoadFile(config);
  CHECK(parsed["store"]["url"].as<std::string>().starts_with("postgresql://x402@postgres:"));
  CHECK(parsed["facilitator"]["url"].as<std::string>() == "http://facilitator:4020");
  // Both replicas mount that config; nginx balances over both.
  for (const char* name : {"proxy-a", "proxy-b"}) {
    INFO("service " << name);
    bool mounted = false;
    for (const auto& volume : strings(services[name]["volumes"]))
      mounted = mounted || volume.starts_with("./config/proxy-replicas.yaml:" + kConfigInImage);
    CHECK(mounted);
  }
  std::ifstream nginx(deploy / "config" / "nginx-replicas.conf");
  const std::string text((std::istreambuf_iterator<char>(nginx)), std::istreambuf_iterator<char>());
  CHECK(text.find("server proxy-a:8402") != std::string::npos);
  CHECK(text.find("server proxy-b:8402") != std::string::npos);
  CHECK(fs::exists(deploy / "config" / "facilitator-replicas.yaml"));
}
