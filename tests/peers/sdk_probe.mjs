// A real MCP client (the TypeScript SDK pinned in package.json) against a Streamable HTTP server:
// connects (initialize + initialized), lists the tools, calls add, and calls slow_progress with a
// progress handler; prints one "key: value" line per finding, for tests to read.
//   usage: node sdk_probe.mjs URL
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";

const url = new URL(process.argv[2]);
const client = new Client({ name: "x402-mcp-proxy-sdk-probe", version: "1.0.0" });
const transport = new StreamableHTTPClientTransport(url);
await client.connect(transport);
console.log(`session: ${transport.sessionId ?? ""}`);
console.log(`tools: ${(await client.listTools()).tools.map((t) => t.name).join(",")}`);
const sum = await client.callTool({ name: "add", arguments: { a: 2, b: 40 } });
console.log(`add: ${sum.content[0].text}`);
const progress = [];
const slow = await client.callTool(
  { name: "slow_progress", arguments: { steps: 3, interval_ms: 50 } },
  undefined,
  { onprogress: (p) => progress.push(p.progress) },
);
console.log(`slow_progress: ${slow.content[0].text} after progress ${progress.join(",")}`);
await transport.terminateSession();
await client.close();
console.log("done");
