// Account encodings of the Solana JSON-RPC (UiAccount): base58, base64, base64+zstd, jsonParsed
// for SPL Token mints and token accounts (falling back to base64 for everything else, as the
// real node does), and the uiTokenAmount form of token amounts.
import zlib from "node:zlib";
import { getMintDecoder, getTokenDecoder } from "@solana-program/token";
import { Float, toBase58, toBase64 } from "./codec.mjs";
import { RpcError, TOKEN_2022_PROGRAM, TOKEN_PROGRAM } from "./chain.mjs";

const U64_MAX = 18446744073709551615n; // rentEpoch of rent-exempt accounts
const MAX_BASE58_BYTES = 128;
const mintDecoder = getMintDecoder();
const tokenDecoder = getTokenDecoder();
const TOKEN_STATES = ["uninitialized", "initialized", "frozen"];

/** "1000.5" from 1000500000 at 6 decimals (trailing zeros trimmed, as the RPC prints it). */
export function uiAmountString(amount, decimals) {
  const digits = amount.toString().padStart(decimals + 1, "0");
  if (decimals === 0) return digits;
  const whole = digits.slice(0, digits.length - decimals);
  const frac = digits.slice(digits.length - decimals).replace(/0+$/, "");
  return frac ? `${whole}.${frac}` : whole;
}

export function uiTokenAmount(amount, decimals) {
  const text = uiAmountString(amount, decimals);
  return {
    amount: amount.toString(),
    decimals,
    uiAmount: new Float(Number(text)),
    uiAmountString: text,
  };
}

const optionValue = (o) => (o && o.__option === "Some" ? o.value : null);

/** Parsed SPL Token data ({program, parsed, space}) or null when it is neither mint nor account. */
export function parseTokenData(chain, owner, data) {
  if (owner !== TOKEN_PROGRAM && owner !== TOKEN_2022_PROGRAM) return null;
  const program = owner === TOKEN_PROGRAM ? "spl-token" : "spl-token-2022";
  // Token-2022 extensions are not parsed here: only the base layouts of the classic program.
  if (owner === TOKEN_2022_PROGRAM && data.length !== 82 && data.length !== 165) return null;
  try {
    if (data.length === 165) {
      const t = tokenDecoder.decode(data);
      const mint = chain.account(t.mint);
      if (!mint || mint.data.length < 82) return null; // the real node needs the mint's decimals
      const decimals = mint.data[44];
      const info = {
        isNative: optionValue(t.isNative) !== null,
        mint: t.mint,
        owner: t.owner,
        state: TOKEN_STATES[t.state] ?? "uninitialized",
        tokenAmount: uiTokenAmount(t.amount, decimals),
      };
      const delegate = optionValue(t.delegate);
      if (delegate !== null) {
        info.delegate = delegate;
        info.delegatedAmount = uiTokenAmount(t.delegatedAmount, decimals);
      }
      const reserve = optionValue(t.isNative);
      if (reserve !== null) info.rentExemptReserve = uiTokenAmount(reserve, decimals);
      const close = optionValue(t.closeAuthority);
      if (close !== null) info.closeAuthority = close;
      return { program, parsed: { info, type: "account" }, space: BigInt(data.length) };
    }
    if (data.length === 82) {
      const m = mintDecoder.decode(data);
      return {
        program,
        parsed: {
          info: {
            decimals: m.decimals,
            freezeAuthority: optionValue(m.freezeAuthority),
            isInitialized: m.isInitialized,
            mintAuthority: optionValue(m.mintAuthority),
            supply: m.supply.toString(),
          },
          type: "mint",
        },
        space: 82n,
      };
    }
  } catch {
    return null;
  }
  return null;
}

/**
 * One account in the RPC's UiAccount form. encoding: undefined (legacy "binary": a bare base58
 * string), "base58", "base64", "base64+zstd" or "jsonParsed".
 */
export function encodeAccount(chain, account, encoding, dataSlice) {
  if (!account) return null;
  let data = account.data;
  const out = {
    data: null,
    executable: account.executable,
    lamports: account.lamports,
    owner: account.owner,
    rentEpoch: U64_MAX,
    space: account.space,
  };
  if (encoding === "jsonParsed") {
    const parsed = parseTokenData(chain, account.owner, data);
    if (parsed) {
      out.data = parsed;
      return out;
    }
    encoding = "base64";
  }
  if (dataSlice && typeof dataSlice === "object") {
    const offset = Number(dataSlice.offset ?? 0);
    const length = Number(dataSlice.length ?? 0);
    data = data.subarray(Math.min(offset, data.length), Math.min(offset + length, data.length));
  }
  switch (encoding ?? "binary") {
    case "binary":
    case "base58":
      if (data.length > MAX_BASE58_BYTES) {
        throw new RpcError(
          -32600,
          `Encoded binary (base 58) data should be less than ${MAX_BASE58_BYTES} bytes, please use Base64 encoding.`,
        );
      }
      out.data = encoding === "base58" ? [toBase58(data), "base58"] : toBase58(data);
      return out;
    case "base64":
      out.data = [toBase64(data), "base64"];
      return out;
    case "base64+zstd":
      if (typeof zlib.zstdCompressSync !== "function") {
        throw new RpcError(-32602, "Invalid params: base64+zstd needs a Node with zstd (22.15 or later)");
      }
      out.data = [toBase64(zlib.zstdCompressSync(data)), "base64+zstd"];
      return out;
    default:
      throw new RpcError(
        -32602,
        `Invalid params: unknown variant \`${encoding}\`, expected one of \`binary\`, \`base58\`, \`base64\`, \`jsonParsed\`, \`base64+zstd\`.`,
      );
  }
}
