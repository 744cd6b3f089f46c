// Client mode of the MCP example: an ordinary MCP client (the official TypeScript SDK) that knows
// nothing about payments. It launches `x402-mcp-proxy pay` as its stdio server, exactly as a
// desktop assistant would, lists the tools, and calls the ones named on the command line; pay
// pays whatever they cost within the wallet's limits. Prints one readable block per call.
//   usage: node client.mjs BINARY WALLET_YAML TOOL:JSON_ARGS [TOOL:JSON_ARGS …]
//   env:   SDK_PEERS_DIR  the folder whose node_modules holds @modelcontextprotocol/sdk
//                         (default: tests/peers of this repository)
import { createRequire } from "node:module";
import { dirname, resolve } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));
const peers = process.env.SDK_PEERS_DIR ?? resolve(here, "../../tests/peers");
const require = createRequire(resolve(peers, "package.json"));
const sdk = async (path) => import(pathToFileURL(require.resolve(`@modelcontextprotocol/sdk/${path}`)));
const { Client } = await sdk("client/index.js");
const { StdioClientTransport } = await sdk("client/stdio.js");

const [binary, wallet, ...calls] = process.argv.slice(2);
if (!binary || !wallet) {
  console.error("usage: node client.mjs BINARY WALLET_YAML TOOL:JSON_ARGS …");
  process.exit(2);
}
const transport = new StdioClientTransport({
  command: binary,
  args: ["pay", "--config", wallet],
  stderr: "inherit", // pay's log: the payment it saw, chose, signed and got a receipt for
});
const client = new Client({ name: "x402-mcp-proxy-example-client", version: "1.0.0" });
await client.connect(transport);
const { tools } = await client.listTools();
console.log(`tools: ${tools.map((t) => t.name).join(", ")}`);

let failures = 0;
for (const call of calls) {
  const at = call.indexOf(":");
  const name = at < 0 ? call : call.slice(0, at);
  const args = at < 0 ? {} : JSON.parse(call.slice(at + 1));
  console.log(`\n> call ${name} ${JSON.stringify(args)}`);
  try {
    const result = await client.callTool({ name, arguments: args });
    const text = result.content?.map((c) => c.text ?? `[${c.type}]`).join(" ");
    console.log(`  result: ${text}${result.isError ? " (tool error)" : ""}`);
    const receipt = result._meta?.["x402/payment-response"];
    if (receipt) {
      console.log(`  paid: ${receipt.amount ?? "?"} atomic units on ${receipt.network}, ` +
                  `payer ${receipt.payer}, transaction ${receipt.transaction}`);
    } else {
      console.log("  paid: nothing (free tool)");
    }
  } catch (error) {
    failures += 1;
    console.log(`  refused: ${error.message}`);
  }
}
await client.close();
console.log(`\ndone: ${calls.length - failures} of ${calls.length} calls answered`);
