#!/usr/bin/env node
// Self-test of the mcp-sse peer: starts server.mjs, looks at the HTTP+SSE wire by hand (the
// GET /sse stream and its endpoint event, POST /messages answers, the error answers), then runs
// client.mjs for echo, add, slow with progress, sample (sampling and elicitation) and checks
// GET /calls and the stop rules. Exits non-zero on any failure. `--json FILE` writes every
// observation to FILE.
//   usage: node selftest.mjs [--json observed.json]
import { spawn } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import readline from "node:readline";
import { fileURLToPath } from "node:url";

const here = path.dirname(fileURLToPath(import.meta.url));
const jsonOut = (() => {
  const i = process.argv.indexOf("--json");
  return i > 0 ? process.argv[i + 1] : null;
})();
let passed = 0;
let failed = 0;
const observed = {};
function check(condition, what, detail) {
  if (condition) {
    passed++;
    console.log(`  ok   ${what}`);
  } else {
    failed++;
    console.log(`  FAIL ${what}${detail !== undefined ? `: ${typeof detail === "string" ? detail : JSON.stringify(detail)}` : ""}`);
  }
  return condition;
}
function show(label, value) {
  observed[label] = value;
  console.log(`  ${label}: ${JSON.stringify(value)}`);
}
function exitOf(child, ms = 5000) {
  return new Promise(resolve => {
    if (child.exitCode !== null || child.signalCode !== null) return resolve({ code: child.exitCode, signal: child.signalCode });
    const timer = setTimeout(() => resolve({ timeout: true }), ms);
    child.once("exit", (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal });
    });
  });
}
function startServer() {
  const child = spawn(process.execPath, [path.join(here, "server.mjs"), "--port", "0"], { stdio: ["pipe", "pipe", "pipe"] });
  const logs = [];
  child.stderr.on("data", d => logs.push(d.toString()));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`server printed no line within 20 s:\n${logs.join("")}`)), 20_000);
    readline.createInterface({ input: child.stdout }).once("line", line => {
      clearTimeout(timer);
      resolve({ child, info: JSON.parse(line), logs });
    });
    child.once("exit", code => reject(new Error(`server exited (${code}):\n${logs.join("")}`)));
  });
}
function runClient(args) {
  return new Promise(resolve => {
    const child = spawn(process.execPath, [path.join(here, "client.mjs"), ...args], { stdio: ["ignore", "pipe", "pipe"] });
    let out = "";
    let err = "";
    child.stdout.on("data", d => (out += d));
    child.stderr.on("data", d => (err += d));
    child.once("exit", code => {
      const lines = out.split("\n").filter(Boolean);
      let json = null;
      try {
        json = JSON.parse(lines[0]);
      } catch {}
      resolve({ code, lines, json, stderr: err });
    });
  });
}

/** Opens GET /sse by hand; yields parsed SSE events as they arrive. */
async function openStream(url) {
  const controller = new AbortController();
  const response = await fetch(url, { headers: { Accept: "text/event-stream" }, signal: controller.signal });
  const reader = response.body.getReader();
  const decoder = new TextDecoder();
  let buffer = "";
  let raw = "";
  const queue = [];
  const waiters = [];
  (async () => {
    try {
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        const chunk = decoder.decode(value, { stream: true });
        raw += chunk;
        buffer += chunk;
        let i;
        while ((i = buffer.indexOf("\n\n")) >= 0) {
          const block = buffer.slice(0, i);
          buffer = buffer.slice(i + 2);
          const event = { event: "message", data: "" , raw: `${block}\n\n` };
          for (const line of block.split("\n")) {
            if (line.startsWith("event: ")) event.event = line.slice(7);
            else if (line.startsWith("data: ")) event.data += line.slice(6);
          }
          const w = waiters.shift();
          if (w) w(event);
          else queue.push(event);
        }
      }
    } catch {}
  })();
  const next = (ms = 5000) =>
    queue.length
      ? Promise.resolve(queue.shift())
      : new Promise((resolve, reject) => {
          const timer = setTimeout(() => reject(new Error("no SSE event within 5 s")), ms);
          waiters.push(e => {
            clearTimeout(timer);
            resolve(e);
          });
        });
  return { response, next, close: () => controller.abort(), raw: () => raw };
}
async function post(url, body, headers = { "Content-Type": "application/json" }) {
  const response = await fetch(url, { method: "POST", headers, body: typeof body === "string" ? body : JSON.stringify(body) });
  const { date, ...rest } = Object.fromEntries(response.headers);
  return { status: response.status, headers: rest, body: await response.text() };
}

let server;
try {
  server = await startServer();
  show("ready_line", server.info);
  check(/^http:\/\/127\.0\.0\.1:\d+\/sse$/.test(server.info.url) && server.info.calls === server.info.url.replace(/\/sse$/, "/calls"), "server prints {url: .../sse, calls: .../calls}");
  const base = server.info.url.replace(/\/sse$/, "");

  // ---- the wire, by hand -------------------------------------------------------------------------
  console.log("HTTP+SSE wire by hand");
  const stream = await openStream(server.info.url);
  const { date, ...sseHeaders } = Object.fromEntries(stream.response.headers);
  show("sse_status", stream.response.status);
  show("sse_headers", sseHeaders);
  check(stream.response.status === 200 && sseHeaders["content-type"] === "text/event-stream", "GET /sse: 200 text/event-stream");
  const endpoint = await stream.next();
  show("endpoint_event_raw", endpoint.raw);
  check(endpoint.event === "endpoint" && /^\/messages\?sessionId=[0-9a-f-]{36}$/.test(endpoint.data), "first event: endpoint, data /messages?sessionId=<uuid>", endpoint);
  const messagesUrl = `${base}${endpoint.data}`;
  const init = await post(messagesUrl, { jsonrpc: "2.0", id: 1, method: "initialize", params: { protocolVersion: "2024-11-05", capabilities: {}, clientInfo: { name: "selftest", version: "0" } } });
  show("post_initialize_answer", init);
  check(init.status === 202 && init.body === "Accepted", "POST initialize: 202, body \"Accepted\"");
  const initAnswer = await stream.next();
  show("initialize_answer_event_raw", initAnswer.raw);
  const initResult = JSON.parse(initAnswer.data);
  check(initAnswer.event === "message" && initResult.id === 1 && initResult.result?.protocolVersion === "2024-11-05", "the answer comes on the stream as `event: message`, protocolVersion 2024-11-05 echoed");
  const notified = await post(messagesUrl, { jsonrpc: "2.0", method: "notifications/initialized" });
  show("post_notification_answer", notified);
  check(notified.status === 202, "POST a notification: 202");
  const list = await post(messagesUrl, { jsonrpc: "2.0", id: 2, method: "tools/list" });
  const listAnswer = JSON.parse((await stream.next()).data);
  show("tools_list_names", listAnswer.result?.tools?.map(t => t.name));
  check(list.status === 202 && ["echo", "add", "slow", "sample"].every(n => listAnswer.result?.tools?.some(t => t.name === n)), "tools/list on the stream: echo, add, slow, sample");
  const wrongType = await post(messagesUrl, { jsonrpc: "2.0", id: 3, method: "ping" }, { "Content-Type": "text/plain" });
  show("post_wrong_content_type", wrongType);
  check(wrongType.status === 400, "POST text/plain: 400");
  const notJson = await post(messagesUrl, "{nope");
  show("post_not_json", notJson);
  check(notJson.status === 400, "POST invalid JSON: 400");
  const notRpc = await post(messagesUrl, { hello: "world" });
  show("post_not_jsonrpc", notRpc);
  check(notRpc.status === 400, "POST JSON that is no JSON-RPC message: 400");
  const unknown = await post(`${base}/messages?sessionId=00000000-0000-0000-0000-000000000000`, { jsonrpc: "2.0", id: 4, method: "ping" });
  show("post_unknown_session", unknown);
  check(unknown.status === 400, "POST with an unknown sessionId: 400");
  const noSession = await post(`${base}/messages`, { jsonrpc: "2.0", id: 5, method: "ping" });
  show("post_without_session", noSession);
  check(noSession.status === 400, "POST without sessionId: 400");
  const batch = await post(messagesUrl, [{ jsonrpc: "2.0", id: 6, method: "ping" }]);
  show("post_batch_array", batch);
  await post(messagesUrl, { jsonrpc: "2.0", id: 7, method: "tools/call", params: { name: "slow", arguments: { steps: 2, interval_ms: 10 }, _meta: { progressToken: "tok" } } });
  const slowEvents = [];
  for (;;) {
    const e = await stream.next();
    const m = JSON.parse(e.data);
    slowEvents.push(m);
    if (m.id === 7) break;
  }
  show("slow_stream_messages", slowEvents);
  check(slowEvents.filter(m => m.method === "notifications/progress" && m.params.progressToken === "tok").length === 2, "slow: two notifications/progress with the string token, then the answer");
  stream.close();
  await new Promise(r => setTimeout(r, 200));
  const afterClose = await post(messagesUrl, { jsonrpc: "2.0", id: 8, method: "ping" });
  show("post_after_stream_closed", afterClose);
  check(afterClose.status >= 400, `POST after the stream closed: ${afterClose.status}`);
  await fetch(server.info.calls, { method: "DELETE" });

  // ---- the client --------------------------------------------------------------------------------
  console.log("client.mjs");
  const url = server.info.url;
  const echo = await runClient(["--url", url, "--call", "echo", "--args", '{"text":"hello"}', "--meta", '{"x402/payment":{"x402Version":2}}']);
  show("client_echo_line", echo.json);
  check(echo.code === 0 && echo.lines.length === 1 && echo.json?.result?.content?.[0]?.text === "hello", "echo: exit 0, one line, the text back", echo);
  const add = await runClient(["--url", url, "--call", "add", "--args", '{"a":2,"b":40}']);
  show("client_add_line", add.json);
  check(add.code === 0 && add.json?.result?.content?.[0]?.text === "42", "add 2+40: \"42\"", add.json);
  const slow = await runClient(["--url", url, "--call", "slow", "--args", '{"steps":4,"interval_ms":50}', "--progress"]);
  show("client_slow_line", slow.json);
  check(slow.code === 0 && slow.json?.progress?.length === 4 && slow.json.progress.every((p, i) => p.progress === i + 1 && p.total === 4), "slow 4 steps with --progress: 4 notifications/progress received", slow.json);
  show("client_slow_delivered_by_sdk", slow.json?.progressDelivered);
  const sample = await runClient(["--url", url, "--call", "sample", "--args", '{"prompt":"What is 6*7?"}', "--answer-sampling", "forty-two"]);
  show("client_sample_line", sample.json);
  check(sample.code === 0 && sample.json?.result?.content?.[0]?.text === "forty-two" && sample.json.serverRequests?.[0]?.method === "sampling/createMessage", "sample: the server asked sampling/createMessage, answered with the client's text", sample.json);
  const elicit = await runClient(["--url", url, "--call", "sample", "--args", '{"prompt":"Your name?","kind":"elicitation"}', "--answer-sampling", "Ada"]);
  show("client_elicitation_line", elicit.json);
  check(elicit.code === 0 && elicit.json?.result?.content?.[0]?.text === "Ada" && elicit.json.serverRequests?.[0]?.method === "elicitation/create", "sample kind=elicitation: elicitation/create answered", elicit.json);
  const unanswered = await runClient(["--url", url, "--call", "sample"]);
  show("client_sample_without_answer_line", unanswered.json);
  check(unanswered.code === 1 && unanswered.json?.code === -32601, "sample without --answer-sampling: the client answers -32601, the tool call fails, exit 1", unanswered.json);
  const tFail = await runClient(["--url", url, "--call", "fail"]);
  check(tFail.code === 0 && tFail.json?.result?.isError === true, "fail: a CallToolResult with isError true, exit 0", tFail.json);
  const unknownTool = await runClient(["--url", url, "--call", "nope"]);
  show("client_unknown_tool_line", unknownTool.json);
  check(unknownTool.code === 1 && unknownTool.json?.code === -32602, "unknown tool: JSON-RPC error -32602, exit 1", unknownTool.json);
  const old = await runClient(["--url", url, "--call", "echo", "--args", '{"text":"x"}', "--protocol-version", "2024-11-05"]);
  check(old.code === 0 && old.json?.protocolVersion === "2024-11-05", "--protocol-version 2024-11-05 is negotiated", old.json?.protocolVersion);
  const dead = await runClient(["--url", "http://127.0.0.1:9/sse", "--call", "echo", "--args", '{"text":"x"}']);
  show("client_dead_server_line", dead.json);
  check(dead.code === 1 && typeof dead.json?.error === "string", "a dead server: exit 1, JSON error line", dead.lines);
  const badArgs = await runClient(["--url", url, "--call", "echo", "--args", "{nope"]);
  check(badArgs.code === 1 && typeof badArgs.json?.error === "string", "--args that is no JSON: exit 1, JSON error line", badArgs.lines);

  const calls = await (await fetch(server.info.calls)).json();
  show("calls", calls);
  check(calls.length === 9 && JSON.stringify(calls.map(c => c.tool)) === JSON.stringify(["echo", "add", "slow", "sample", "sample", "sample", "fail", "nope", "echo"]), "GET /calls lists the 9 tool calls in order", calls.map(c => c.tool));
  check(calls[0].meta?.["x402/payment"]?.x402Version === 2, "the _meta of a call is recorded");
  check(/tools\/call #\d+ echo \{"text":"hello"\} _meta \{"x402\/payment"/.test(server.logs.join("")), "stderr logs each tools/call with its arguments");

  // ---- stop rules --------------------------------------------------------------------------------
  server.child.stdin.end();
  check(!(await exitOf(server.child)).timeout, "server exits when its stdin pipe closes");
  const second = await startServer();
  second.child.kill("SIGTERM");
  check(!(await exitOf(second.child)).timeout, "server exits on SIGTERM");
} catch (error) {
  failed++;
  console.log(`  FAIL ${error.stack ?? error}`);
} finally {
  if (server && server.child.exitCode === null && server.child.signalCode === null) server.child.kill("SIGTERM");
}
if (jsonOut) fs.writeFileSync(jsonOut, `${JSON.stringify({ passed, failed, observed }, null, 2)}\n`);
console.log(`${passed} passed, ${failed} failed`);
process.exit(failed ? 1 : 0);
