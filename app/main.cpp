// x402-mcp-proxy: subcommand dispatch only; each subcommand lives in its own module.
#include <cstdio>
#include <string_view>

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: x402-mcp-proxy <serve|check|facilitator|keygen|pay> [options]\n");
    return 2;
  }
  std::fprintf(stderr, "x402-mcp-proxy: unknown command '%s'\n", argv[1]);
  return 2;
}
