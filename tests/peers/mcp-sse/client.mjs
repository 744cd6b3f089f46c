#!/usr/bin/env node
// An MCP client on the HTTP+SSE transport of MCP 2024-11-05 (the SDK's SSEClientTransport):
// connects to --url (the GET /sse stream), calls one tool and prints one JSON line
//   {"result":<the full CallToolResult>,"progress":[<notifications/progress params>],
//    "progressDelivered":N (with --progress), "serverRequests":[{"method","params","answer"}],
//    "protocolVersion","serverInfo","endpoint"}
// and exits 0 (a result with isError: true is a result too). A JSON-RPC error or a transport
// failure prints {"error":..., "code"?, "data"?} and exits 1.
//   usage: node client.mjs --url URL --call TOOL [--args JSON] [--meta JSON] [--progress]
//          [--answer-sampling TEXT] [--timeout-ms MS] [--protocol-version V] [--header 'K: V']...
import fs from "node:fs";

const toStderr = (...args) => console.error(...args);
console.log = toStderr;
console.info = toStderr;
const log = (...args) => console.error(`[mcp-sse client ${new Date().toISOString().slice(11, 23)}]`, ...args);
const print = object => new Promise(resolve => process.stdout.write(`${JSON.stringify(object)}\n`, () => resolve()));
async function fail(error, extra = {}) {
  const line = { error: error?.message ?? String(error), ...extra };
  if (error?.code !== undefined) line.code = error.code;
  if (error?.data !== undefined) line.data = error.data;
  await print(line);
  process.exit(1);
}

const opts = { args: "{}", progress: false, timeoutMs: "120000", headers: [] };
try {
  const keys = {
    "--url": "url",
    "--call": "call",
    "--args": "args",
    "--meta": "meta",
    "--answer-sampling": "answer",
    "--timeout-ms": "timeoutMs",
    "--protocol-version": "protocolVersion",
    "--header": "headers",
  };
  const argv = process.argv.slice(2);
  for (let i = 0; i < argv.length; i++) {
    const eq = argv[i].indexOf("=");
    const flag = eq > 0 ? argv[i].slice(0, eq) : argv[i];
    if (flag === "--progress") {
      opts.progress = true;
      continue;
    }
    if (!(flag in keys)) throw new Error(`unknown option ${flag}`);
    const value = eq > 0 ? argv[i].slice(eq + 1) : argv[++i];
    if (value === undefined) throw new Error(`${flag} needs a value`);
    if (flag === "--header") opts.headers.push(value);
    else opts[keys[flag]] = value;
  }
  if (!opts.url) throw new Error("--url is required");
  if (!opts.call) throw new Error("--call is required");
  opts.args = JSON.parse(opts.args);
  if (opts.meta !== undefined) opts.meta = JSON.parse(opts.meta);
  opts.timeoutMs = Number(opts.timeoutMs);
  if (!(opts.timeoutMs > 0)) throw new Error("--timeout-ms must be positive");
} catch (error) {
  await fail(error);
}

const { Client } = await import("@modelcontextprotocol/sdk/client/index.js");
const { SSEClientTransport } = await import("@modelcontextprotocol/sdk/client/sse.js");
const { CreateMessageRequestSchema, ElicitRequestSchema, CallToolResultSchema } = await import("@modelcontextprotocol/sdk/types.js");

const headers = {};
for (const h of opts.headers) {
  const i = h.indexOf(":");
  if (i <= 0) await fail(new Error(`--header must be 'Name: value', not ${h}`));
  headers[h.slice(0, i).trim()] = h.slice(i + 1).trim();
}

// --protocol-version rewrites the version the SDK client offers in initialize (the SDK always
// offers its latest); everything else goes out as the SDK sends it.
const transportFetch = opts.protocolVersion
  ? async (url, init) => {
      if (init?.method === "POST" && typeof init.body === "string") {
        const message = JSON.parse(init.body);
        if (message.method === "initialize") {
          message.params.protocolVersion = opts.protocolVersion;
          init = { ...init, body: JSON.stringify(message) };
        }
      }
      return fetch(url, init);
    }
  : undefined;

const transport = new SSEClientTransport(new URL(opts.url), {
  requestInit: { headers },
  ...(transportFetch && { fetch: transportFetch }),
});
const capabilities = opts.answer !== undefined ? { sampling: {}, elicitation: {} } : {};
const client = new Client({ name: "mcp-sse-peer-client", version: "1.0.0" }, { capabilities });
const progress = []; // notifications/progress params as received on the stream
const delivered = []; // the ones the SDK delivered to onprogress
const serverRequests = [];
if (opts.answer !== undefined) {
  client.setRequestHandler(CreateMessageRequestSchema, async request => {
    const answer = { role: "assistant", content: { type: "text", text: opts.answer }, model: "mcp-sse-peer-client", stopReason: "endTurn" };
    serverRequests.push({ method: request.method, params: request.params, answer });
    log(`answered ${request.method}`);
    return answer;
  });
  client.setRequestHandler(ElicitRequestSchema, async request => {
    const answer = { action: "accept", content: { answer: opts.answer } };
    serverRequests.push({ method: request.method, params: request.params, answer });
    log(`answered ${request.method}`);
    return answer;
  });
}
client.fallbackNotificationHandler = async notification => log(`notification ${JSON.stringify(notification)}`);

const timer = setTimeout(() => fail(new Error(`no answer within ${opts.timeoutMs + 5000} ms`)), opts.timeoutMs + 5000);
try {
  await client.connect(transport);
  // Progress is recorded as it arrives on the stream, before the SDK dispatches it: the SDK
  // hands notifications to their handlers a microtask later than responses, so a progress
  // notification that arrives in the same chunk as the final answer never reaches onprogress.
  const dispatch = transport.onmessage;
  transport.onmessage = (message, extra) => {
    if (message.method === "notifications/progress") {
      const { progressToken, ...rest } = message.params ?? {};
      if (opts.progress) progress.push({ progressToken, ...rest });
    } else if (message.method !== undefined && message.id !== undefined && opts.answer === undefined) {
      serverRequests.push({ method: message.method, params: message.params, answer: null });
    }
    return dispatch?.(message, extra);
  };
  const params = { name: opts.call, arguments: opts.args, ...(opts.meta !== undefined && { _meta: opts.meta }) };
  const result = await client.callTool(params, CallToolResultSchema, {
    timeout: opts.timeoutMs,
    resetTimeoutOnProgress: true,
    ...(opts.progress && {
      onprogress: p => {
        delivered.push(p);
        log(`progress ${JSON.stringify(p)}`);
      },
    }),
  });
  clearTimeout(timer);
  await print({
    result,
    progress,
    ...(opts.progress && { progressDelivered: delivered.length }),
    serverRequests,
    protocolVersion: client.getNegotiatedProtocolVersion?.() ?? transport._protocolVersion ?? null,
    serverInfo: client.getServerVersion() ?? null,
    endpoint: transport._endpoint?.href ?? null,
  });
  await client.close().catch(() => {});
  process.exit(0);
} catch (error) {
  clearTimeout(timer);
  log(error.stack ?? error);
  await client.close().catch(() => {});
  await fail(error, { progress, serverRequests });
}
