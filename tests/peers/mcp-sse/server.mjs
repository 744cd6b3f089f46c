#!/usr/bin/env node
// An MCP server on the HTTP+SSE transport of MCP 2024-11-05, the SDK's SSEServerTransport:
// GET /sse opens the event stream (its first event, `endpoint`, names
// /messages?sessionId=...), POST /messages?sessionId=... carries each client message (answered
// 202 "Accepted"; the JSON-RPC answer goes out on the stream). One SDK Server per stream.
// Tools: echo, add, slow (progress), sample (a server-to-client request), fail (isError).
// GET /calls is the JSON list of the tool calls it ran (DELETE /calls empties it).
// Prints {"url":"http://127.0.0.1:PORT/sse","calls":"http://127.0.0.1:PORT/calls"} on stdout
// when listening; logs on stderr. Stops on SIGTERM, SIGINT, SIGHUP or a piped stdin closing.
//   usage: node server.mjs [--port 0]
import fs from "node:fs";
import http from "node:http";

const toStderr = (...args) => console.error(...args);
console.log = toStderr;
console.info = toStderr;
const log = (...args) => console.error(`[mcp-sse server ${new Date().toISOString().slice(11, 23)}]`, ...args);

let port = 0;
{
  const argv = process.argv.slice(2);
  for (let i = 0; i < argv.length; i++) {
    let [flag, value] = argv[i].split("=", 2);
    if (flag !== "--port") {
      console.error(`mcp-sse server: unknown option ${flag}`);
      process.exit(2);
    }
    if (value === undefined) value = argv[++i];
    port = Number(value);
    if (!Number.isInteger(port) || port < 0 || port > 65535) {
      console.error("mcp-sse server: --port must be 0..65535");
      process.exit(2);
    }
  }
}

const { Server } = await import("@modelcontextprotocol/sdk/server/index.js");
const { SSEServerTransport } = await import("@modelcontextprotocol/sdk/server/sse.js");
const { ListToolsRequestSchema, CallToolRequestSchema, CreateMessageResultSchema, ElicitResultSchema, McpError, ErrorCode } = await import(
  "@modelcontextprotocol/sdk/types.js"
);

const TOOLS = [
  {
    name: "echo",
    description: "Returns its text (free).",
    inputSchema: { type: "object", properties: { text: { type: "string" } }, required: ["text"] },
  },
  {
    name: "add",
    description: "Adds two numbers; answers the sum as text (the tests' priced tool).",
    inputSchema: { type: "object", properties: { a: { type: "number" }, b: { type: "number" } }, required: ["a", "b"] },
  },
  {
    name: "slow",
    description: "Sends notifications/progress for the request's progressToken `steps` times, every `interval_ms`, then answers.",
    inputSchema: {
      type: "object",
      properties: { steps: { type: "integer", minimum: 0, maximum: 1000 }, interval_ms: { type: "integer", minimum: 0, maximum: 60000 } },
    },
  },
  {
    name: "sample",
    description: "Asks the client (sampling/createMessage, or elicitation/create with kind=elicitation) and answers with its reply.",
    inputSchema: {
      type: "object",
      properties: { prompt: { type: "string" }, kind: { type: "string", enum: ["sampling", "elicitation"] } },
    },
  },
  {
    name: "fail",
    description: "Answers a tool error (isError: true).",
    inputSchema: { type: "object", properties: { message: { type: "string" } } },
  },
];

const calls = [];
let seq = 0;
const text = t => ({ content: [{ type: "text", text: t }] });
const sleep = (ms, signal) =>
  new Promise(resolve => {
    const timer = setTimeout(resolve, ms);
    signal?.addEventListener("abort", () => {
      clearTimeout(timer);
      resolve();
    }, { once: true });
  });

function needNumber(args, key) {
  if (typeof args[key] !== "number" || !Number.isFinite(args[key])) throw new McpError(ErrorCode.InvalidParams, `${key} must be a number`);
  return args[key];
}

async function runTool(name, args, extra, request) {
  switch (name) {
    case "echo":
      if (typeof args.text !== "string") throw new McpError(ErrorCode.InvalidParams, "text must be a string");
      return text(args.text);
    case "add":
      return text(String(needNumber(args, "a") + needNumber(args, "b")));
    case "slow": {
      const steps = args.steps ?? 3;
      const interval = args.interval_ms ?? 100;
      if (!Number.isInteger(steps) || steps < 0 || steps > 1000) throw new McpError(ErrorCode.InvalidParams, "steps must be 0..1000");
      if (!Number.isInteger(interval) || interval < 0 || interval > 60000) throw new McpError(ErrorCode.InvalidParams, "interval_ms must be 0..60000");
      const progressToken = request.params._meta?.progressToken;
      let sent = 0;
      for (let i = 1; i <= steps; i++) {
        await sleep(interval, extra.signal);
        if (extra.signal.aborted) return text(`cancelled after ${sent} of ${steps} steps`);
        if (progressToken !== undefined) {
          await extra.sendNotification({
            method: "notifications/progress",
            params: { progressToken, progress: i, total: steps, message: `step ${i} of ${steps}` },
          });
          sent++;
        }
      }
      return text(`done after ${steps} steps (${sent} progress notifications)`);
    }
    case "sample": {
      const prompt = args.prompt ?? "Say something";
      if (args.kind === "elicitation") {
        const reply = await extra.sendRequest(
          {
            method: "elicitation/create",
            params: {
              mode: "form",
              message: prompt,
              requestedSchema: { type: "object", properties: { answer: { type: "string" } }, required: ["answer"] },
            },
          },
          ElicitResultSchema,
        );
        return { content: [{ type: "text", text: reply.action === "accept" ? String(reply.content?.answer) : `elicitation ${reply.action}` }], structuredContent: { reply } };
      }
      const reply = await extra.sendRequest(
        {
          method: "sampling/createMessage",
          params: { messages: [{ role: "user", content: { type: "text", text: prompt } }], maxTokens: 100 },
        },
        CreateMessageResultSchema,
      );
      return { content: [{ type: "text", text: reply.content?.type === "text" ? reply.content.text : JSON.stringify(reply.content) }], structuredContent: { reply } };
    }
    case "fail":
      return { content: [{ type: "text", text: args.message ?? "this tool always fails" }], isError: true };
    default:
      throw new McpError(ErrorCode.InvalidParams, `Unknown tool: ${name}`);
  }
}

function buildServer(sessionId) {
  const server = new Server({ name: "mcp-sse-peer", version: "1.0.0" }, { capabilities: { tools: {} } });
  server.setRequestHandler(ListToolsRequestSchema, async () => ({ tools: TOOLS }));
  server.setRequestHandler(CallToolRequestSchema, async (request, extra) => {
    const { name } = request.params;
    const args = request.params.arguments ?? {};
    const entry = {
      seq: ++seq,
      sessionId,
      requestId: extra.requestId,
      tool: name,
      arguments: args,
      meta: request.params._meta ?? null,
      startedAt: new Date().toISOString(),
    };
    calls.push(entry);
    log(`tools/call #${entry.seq} ${name} ${JSON.stringify(args)}${entry.meta ? ` _meta ${JSON.stringify(entry.meta)}` : ""} (session ${sessionId}, id ${JSON.stringify(extra.requestId)})`);
    try {
      const result = await runTool(name, args, extra, request);
      entry.outcome = extra.signal.aborted ? "cancelled" : result.isError ? "tool-error" : "ok";
      return result;
    } catch (error) {
      entry.outcome = "error";
      entry.error = error.message;
      log(`tools/call #${entry.seq} ${name} failed: ${error.message}`);
      throw error;
    } finally {
      entry.finishedAt = new Date().toISOString();
    }
  });
  return server;
}

const sessions = new Map(); // sessionId -> { transport, server }

const httpServer = http.createServer(async (req, res) => {
  const url = new URL(req.url, "http://127.0.0.1");
  res.on("finish", () => {
    if (!(req.method === "GET" && url.pathname === "/sse")) log(`${req.method} ${req.url} -> ${res.statusCode}`);
  });
  try {
    if (req.method === "GET" && url.pathname === "/sse") {
      const transport = new SSEServerTransport("/messages", res);
      const server = buildServer(transport.sessionId);
      sessions.set(transport.sessionId, { transport, server });
      log(`GET /sse: session ${transport.sessionId} opened`);
      res.on("close", () => {
        sessions.delete(transport.sessionId);
        log(`session ${transport.sessionId} closed`);
      });
      server.onerror = error => log(`session ${transport.sessionId}: ${error.message}`);
      await server.connect(transport);
      return;
    }
    if (req.method === "POST" && url.pathname === "/messages") {
      const sessionId = url.searchParams.get("sessionId");
      const session = sessionId ? sessions.get(sessionId) : undefined;
      if (!session) {
        res.writeHead(400, { "Content-Type": "text/plain" }).end("No transport found for sessionId");
        return;
      }
      await session.transport.handlePostMessage(req, res);
      return;
    }
    if (url.pathname === "/calls" && req.method === "GET") {
      res.writeHead(200, { "Content-Type": "application/json" }).end(JSON.stringify(calls));
      return;
    }
    if (url.pathname === "/calls" && req.method === "DELETE") {
      calls.length = 0;
      res.writeHead(204).end();
      return;
    }
    res.writeHead(404, { "Content-Type": "text/plain" }).end("Not Found");
  } catch (error) {
    log(`${req.method} ${req.url}: ${error.message}`);
    if (!res.headersSent) res.writeHead(500, { "Content-Type": "text/plain" }).end(String(error.message));
  }
});

let stopping = false;
function stop(why) {
  if (stopping) return;
  stopping = true;
  log(`stopping (${why})`);
  setTimeout(() => process.exit(0), 2000).unref();
  for (const { transport } of sessions.values()) transport.close().catch(() => {});
  httpServer.closeAllConnections();
  httpServer.close(() => process.exit(0));
}
process.on("SIGTERM", () => stop("SIGTERM"));
process.on("SIGINT", () => stop("SIGINT"));
process.on("SIGHUP", () => stop("SIGHUP"));
try {
  const st = fs.fstatSync(0);
  if (st.isFIFO() || st.isSocket()) {
    process.stdin.on("data", () => {});
    process.stdin.on("end", () => stop("stdin closed"));
    process.stdin.on("error", () => stop("stdin error"));
    process.stdin.resume();
  }
} catch {
  // no stdin at all
}

httpServer.on("error", error => {
  log(`listen failed: ${error.message}`);
  process.exit(1);
});
httpServer.listen(port, "127.0.0.1", () => {
  const { port: actual } = httpServer.address();
  const base = `http://127.0.0.1:${actual}`;
  log(`listening on ${base} (GET /sse, POST /messages?sessionId=, GET /calls)`);
  process.stdout.write(`${JSON.stringify({ url: `${base}/sse`, calls: `${base}/calls` })}\n`);
});
