// A tiny stdio MCP server for the stdio-upstream tests (MCP basic/transports "stdio"): answers
// initialize (once per process, as a real server would refuse a second one), tools/list, and the
// tools `echo`, `pid` (its process id and whether notifications/initialized arrived) and `crash`
// (exits with status 3 before answering). It says on stderr when it starts, and it ignores the end
// of stdin so that a test can tell that serve stopped it by signal.
import { createInterface } from "node:readline";

let initialized = false;
let initializedNotification = false;
process.stderr.write(`crashy: started pid ${process.pid}\n`);
setInterval(() => {}, 60_000);

function send(message) {
  process.stdout.write(JSON.stringify(message) + "\n");
}

const tools = [
  { name: "echo", description: "echoes", inputSchema: { type: "object" } },
  { name: "pid", description: "process id", inputSchema: { type: "object" } },
  { name: "crash", description: "exits with status 3", inputSchema: { type: "object" } },
];

createInterface({ input: process.stdin }).on("line", (line) => {
  const message = JSON.parse(line);
  if (message.id === undefined) {
    if (message.method === "notifications/initialized") initializedNotification = true;
    return;
  }
  const text = (t) => send({ jsonrpc: "2.0", id: message.id, result: { content: [{ type: "text", text: t }] } });
  if (message.method === "initialize") {
    if (initialized) {
      send({ jsonrpc: "2.0", id: message.id, error: { code: -32600, message: "already initialized" } });
      return;
    }
    initialized = true;
    send({
      jsonrpc: "2.0",
      id: message.id,
      result: {
        protocolVersion: message.params.protocolVersion,
        capabilities: { tools: {} },
        serverInfo: { name: "crashy", version: "1.0.0" },
      },
    });
  } else if (message.method === "tools/list") {
    send({ jsonrpc: "2.0", id: message.id, result: { tools } });
  } else if (message.method === "tools/call" && message.params.name === "echo") {
    text(String(message.params.arguments?.message ?? ""));
  } else if (message.method === "tools/call" && message.params.name === "pid") {
    text(`pid=${process.pid} initialized=${initializedNotification}`);
  } else if (message.method === "tools/call" && message.params.name === "crash") {
    process.exit(3);
  } else {
    send({ jsonrpc: "2.0", id: message.id, error: { code: -32601, message: "method not found" } });
  }
});
