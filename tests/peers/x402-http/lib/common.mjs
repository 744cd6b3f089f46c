// Shared plumbing of the x402-http peer scripts: stdout discipline (exactly one JSON line),
// option parsing, and the stop rules every peer in tests/peers follows (SIGTERM, SIGINT,
// SIGHUP, or a piped stdin closing).
import fs from "node:fs";

// stdout carries exactly one line: whatever a library prints goes to stderr.
const toStderr = (...args) => console.error(...args);
console.log = toStderr;
console.info = toStderr;
console.debug = toStderr;

/** Writes the one JSON line on stdout; resolves once it is flushed. */
export function printLine(object) {
  return new Promise(resolve => process.stdout.write(`${JSON.stringify(object)}\n`, () => resolve()));
}

/** A stderr logger with the peer's name and a clock. */
export function logger(name) {
  return (...args) => console.error(`[${name} ${new Date().toISOString().slice(11, 23)}]`, ...args);
}

/**
 * Parses `--flag value` / `--flag=value` options. `spec` maps a flag to
 * { key, required?, boolean?, default? }; an unknown flag is an error.
 */
export function parseArgs(argv, spec) {
  const opts = {};
  for (const [flag, s] of Object.entries(spec)) if (s.default !== undefined) opts[s.key] = s.default;
  for (let i = 0; i < argv.length; i++) {
    const eq = argv[i].indexOf("=");
    const flag = eq > 0 ? argv[i].slice(0, eq) : argv[i];
    const s = spec[flag];
    if (!s) throw new Error(`unknown option ${flag}`);
    if (s.boolean) {
      opts[s.key] = eq > 0 ? argv[i].slice(eq + 1) !== "false" : true;
      continue;
    }
    const value = eq > 0 ? argv[i].slice(eq + 1) : argv[++i];
    if (value === undefined) throw new Error(`${flag} needs a value`);
    opts[s.key] = value;
  }
  for (const [flag, s] of Object.entries(spec)) {
    if (s.required && opts[s.key] === undefined) throw new Error(`${flag} is required`);
  }
  return opts;
}

/**
 * Calls `stop(why)` on SIGTERM, SIGINT, SIGHUP, and when stdin closes if stdin is a pipe or a
 * socket (a /dev/null or terminal stdin would end at once or never, so it is not watched).
 */
export function stopRules(stop) {
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
}

/** Decodes a base64 (or base64url) JSON header value; null when absent, the raw text when not JSON. */
export function decodeJsonHeader(value) {
  if (value === undefined || value === null || value === "") return null;
  try {
    return JSON.parse(Buffer.from(String(value), "base64").toString("utf8"));
  } catch {
    return { undecodable: String(value) };
  }
}

/** Parses a body text as JSON when it is JSON, else returns the text. */
export function bodyOf(text) {
  if (text === undefined || text === null || text === "") return null;
  if (typeof text !== "string") return text;
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}
