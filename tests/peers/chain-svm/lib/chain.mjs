// The chain: one LiteSVM instance (the real Solana runtime: SBF loader, System, SPL Token,
// Associated Token Account and Memo programs as LiteSVM ships them) plus the bookkeeping an RPC
// node does around it (slots, signature statuses, transaction history, token balance deltas).
//
// Model, kept deliberately simple and deterministic:
// - one slot per landed transaction (the transaction lands in the current slot, then the slot
//   advances by one); block height moves with the slot;
// - LiteSVM accepts exactly one blockhash, the latest; it is replaced only by expireBlockhash()
//   (the control API's /expire_blockhash) or when the block height passes its
//   lastValidBlockHeight (150 blocks), as on a real cluster;
// - a transaction "lands" when it succeeds or fails in execution (the fee is charged, the status
//   carries the error); one rejected before execution (bad blockhash, already processed, fee payer
//   cannot pay) never lands and its status stays null, as a real leader drops it.
import { createPublicKey, randomBytes, verify as edVerify } from "node:crypto";
import { FailedTransactionMetadata, LiteSVM } from "litesvm";
import {
  appendTransactionMessageInstructions,
  createKeyPairSignerFromPrivateKeyBytes,
  createTransactionMessage,
  getTransactionDecoder,
  lamports,
  pipe,
  setTransactionMessageFeePayerSigner,
  setTransactionMessageLifetimeUsingBlockhash,
  signTransactionMessageWithSigners,
  getTransactionEncoder,
} from "@solana/kit";
import { getCreateAccountInstruction } from "@solana-program/system";
import {
  TOKEN_PROGRAM_ADDRESS,
  findAssociatedTokenPda,
  getCreateAssociatedTokenIdempotentInstruction,
  getInitializeMint2Instruction,
  getMintToInstruction,
  getTokenDecoder,
  getTransferCheckedInstruction,
} from "@solana-program/token";
import { fromBase58, parseTransaction, toBase58, toBase64 } from "./codec.mjs";

export const TOKEN_PROGRAM = "TokenkegQfeZyiNwAJbNbGKPFXCWuBvf9Ss623VQ5DA";
export const TOKEN_2022_PROGRAM = "TokenzQdBNbLqP5VEhdkAS6EPFLC1PHnBqCXEpPxuEb";
export const COMPUTE_BUDGET_PROGRAM = "ComputeBudget111111111111111111111111111111";
const SLOTS_PER_BLOCKHASH = 150n; // MAX_PROCESSING_AGE: a blockhash is valid for 150 blocks
const HEIGHT_BEHIND_SLOT = 47_552_000n; // block height trails the slot (skipped slots), as on devnet
const FINALIZED_DEPTH = 32n;
const LAMPORTS_PER_SIGNATURE = 5000n;
const DECIMALS = 6;

// TransactionError and InstructionError variants without fields, by LiteSVM's numbering
// (the order of the Rust enums solana_transaction_error::TransactionError / InstructionError).
const TX_ERRORS = [
  "AccountInUse", "AccountLoadedTwice", "AccountNotFound", "ProgramAccountNotFound",
  "InsufficientFundsForFee", "InvalidAccountForFee", "AlreadyProcessed", "BlockhashNotFound",
  "CallChainTooDeep", "MissingSignatureForFee", "InvalidAccountIndex", "SignatureFailure",
  "InvalidProgramForExecution", "SanitizeFailure", "ClusterMaintenance", "AccountBorrowOutstanding",
  "WouldExceedMaxBlockCostLimit", "UnsupportedVersion", "InvalidWritableAccount",
  "WouldExceedMaxAccountCostLimit", "WouldExceedAccountDataBlockLimit", "TooManyAccountLocks",
  "AddressLookupTableNotFound", "InvalidAddressLookupTableOwner", "InvalidAddressLookupTableData",
  "InvalidAddressLookupTableIndex", "InvalidRentPayingAccount", "WouldExceedMaxVoteCostLimit",
  "WouldExceedAccountDataTotalLimit", "MaxLoadedAccountsDataSizeExceeded", "ResanitizationNeeded",
  "InvalidLoadedAccountsDataSizeLimit", "UnbalancedTransaction", "ProgramCacheHitMaxLimit",
  "CommitCancelled",
];
const IX_ERRORS = [
  "GenericError", "InvalidArgument", "InvalidInstructionData", "InvalidAccountData",
  "AccountDataTooSmall", "InsufficientFunds", "IncorrectProgramId", "MissingRequiredSignature",
  "AccountAlreadyInitialized", "UninitializedAccount", "UnbalancedInstruction", "ModifiedProgramId",
  "ExternalAccountLamportSpend", "ExternalAccountDataModified", "ReadonlyLamportChange",
  "ReadonlyDataModified", "DuplicateAccountIndex", "ExecutableModified", "RentEpochModified",
  "NotEnoughAccountKeys", "AccountDataSizeChanged", "AccountNotExecutable", "AccountBorrowFailed",
  "AccountBorrowOutstanding", "DuplicateAccountOutOfSync", "InvalidError", "ExecutableDataModified",
  "ExecutableLamportChange", "ExecutableAccountNotRentExempt", "UnsupportedProgramId", "CallDepth",
  "MissingAccount", "ReentrancyNotAllowed", "MaxSeedLengthExceeded", "InvalidSeeds", "InvalidRealloc",
  "ComputationalBudgetExceeded", "PrivilegeEscalation", "ProgramEnvironmentSetupFailure",
  "ProgramFailedToComplete", "ProgramFailedToCompile", "Immutable", "IncorrectAuthority",
  "AccountNotRentExempt", "InvalidAccountOwner", "ArithmeticOverflow", "UnsupportedSysvar",
  "IllegalOwner", "MaxAccountsDataAllocationsExceeded", "MaxAccountsExceeded",
  "MaxInstructionTraceLengthExceeded", "BuiltinProgramsMustConsumeComputeUnits", "BorshIoError",
];
// The Display text of the common TransactionErrors, for JSON-RPC error messages.
const TX_ERROR_TEXT = {
  AccountNotFound: "Attempt to debit an account but found no record of a prior credit.",
  InsufficientFundsForFee: "Insufficient funds for fee",
  AlreadyProcessed: "This transaction has already been processed",
  BlockhashNotFound: "Blockhash not found",
  SignatureFailure: "Transaction did not pass signature verification",
  AccountInUse: "Account in use",
  InvalidAccountForFee: "This account may not be used to pay transaction fees",
};
const IX_ERROR_TEXT = {
  InsufficientFunds: "insufficient funds for instruction",
  MissingRequiredSignature: "missing required signature for instruction",
  InvalidAccountData: "invalid account data for instruction",
  InvalidInstructionData: "invalid instruction data",
  IncorrectProgramId: "incorrect program id for instruction",
};

/** The JSON form of a LiteSVM transaction error, as the Solana RPC serializes TransactionError. */
export function errorToJson(err) {
  if (err === null || err === undefined) return null;
  if (typeof err === "number") return TX_ERRORS[err] ?? `TransactionError${err}`;
  const kind = err.constructor?.name ?? "";
  if (kind.endsWith("InstructionError")) {
    const inner = typeof err.err === "function" ? err.err() : err.error;
    let ix;
    if (typeof inner === "number") ix = IX_ERRORS[inner] ?? `InstructionError${inner}`;
    else if (inner && typeof inner.code === "number") ix = { Custom: inner.code };
    else if (inner && typeof inner.msg === "string") ix = { BorshIoError: inner.msg };
    else ix = String(inner);
    return { InstructionError: [err.index, ix] };
  }
  if (kind.endsWith("DuplicateInstruction")) return { DuplicateInstruction: err.index };
  if (kind.endsWith("InsufficientFundsForRent"))
    return { InsufficientFundsForRent: { account_index: err.accountIndex } };
  if (kind.endsWith("ProgramExecutionTemporarilyRestricted"))
    return { ProgramExecutionTemporarilyRestricted: { account_index: err.accountIndex } };
  return String(err);
}

/** The Display text of an error in JSON form (what "Transaction simulation failed: …" carries). */
export function errorText(json) {
  if (typeof json === "string") return TX_ERROR_TEXT[json] ?? json;
  if (json && json.InstructionError) {
    const [index, ix] = json.InstructionError;
    let text;
    if (typeof ix === "string") text = IX_ERROR_TEXT[ix] ?? ix;
    else if (ix && ix.Custom !== undefined) text = `custom program error: 0x${ix.Custom.toString(16)}`;
    else text = JSON.stringify(ix);
    return `Error processing Instruction ${index}: ${text}`;
  }
  return JSON.stringify(json);
}

const ED25519_SPKI_PREFIX = Buffer.from("302a300506032b6570032100", "hex");
export function verifyEd25519(address, signature, message) {
  try {
    const key = createPublicKey({
      key: Buffer.concat([ED25519_SPKI_PREFIX, Buffer.from(fromBase58(address))]),
      format: "der",
      type: "spki",
    });
    return edVerify(null, message, key, signature);
  } catch {
    return false;
  }
}

/** A keypair whose 64-byte secret key (seed || public key) can be handed out. */
async function newKeypair() {
  const seed = new Uint8Array(randomBytes(32));
  const signer = await createKeyPairSignerFromPrivateKeyBytes(seed, false);
  const secret = new Uint8Array(64);
  secret.set(seed, 0);
  secret.set(fromBase58(signer.address), 32);
  return { signer, address: signer.address, secretKey: toBase58(secret) };
}

export class RpcError extends Error {
  constructor(code, message, data) {
    super(message);
    this.code = code;
    this.data = data;
  }
}

/** Compute-budget settings of a parsed message: [unit limit, unit price in micro-lamports]. */
function computeBudgetOf(message) {
  let limit = null;
  let price = 0n;
  let others = 0;
  for (const ix of message.instructions) {
    const program = message.accountKeys[ix.programIdIndex];
    if (program !== COMPUTE_BUDGET_PROGRAM) {
      others += 1;
      continue;
    }
    const view = new DataView(ix.data.buffer, ix.data.byteOffset, ix.data.byteLength);
    if (ix.data[0] === 2 && ix.data.length >= 5) limit = BigInt(view.getUint32(1, true));
    if (ix.data[0] === 3 && ix.data.length >= 9) price = view.getBigUint64(1, true);
  }
  if (limit === null) limit = BigInt(Math.min(1_400_000, 200_000 * others));
  return [limit, price];
}

/** The fee LiteSVM charges, with the base and priority parts of the Solana fee formula. */
export function feeForMessage(message) {
  const [limit, price] = computeBudgetOf(message);
  const priority = (limit * price + 999_999n) / 1_000_000n;
  return LAMPORTS_PER_SIGNATURE * BigInt(message.header.numRequiredSignatures) + priority;
}

export class Chain {
  constructor({ payers = 1, payerBalance = 1_000_000_000n, log = () => {} } = {}) {
    this.payerCount = payers;
    this.payerBalance = BigInt(payerBalance);
    this.log = log;
    this.decimals = DECIMALS;
    this.txDecoder = getTransactionDecoder();
    this.txEncoder = getTransactionEncoder();
    this.tokenDecoder = getTokenDecoder();
    this.faults = { confirmDelay: null, dropSends: 0 };
    this.timers = new Set();
  }

  async init() {
    this.authority = await newKeypair(); // mint authority, rent payer of the set-up, drain sink
    this.mintKeys = await newKeypair();
    this.feePayer = await newKeypair();
    this.payTo = await newKeypair();
    this.payers = [];
    for (let i = 0; i < this.payerCount; i += 1) this.payers.push(await newKeypair());
    this.mint = this.mintKeys.address;
    await this.build();
  }

  /**
   * A fresh LiteSVM with the start-up state, built with real transactions: the mint (System
   * createAccount + Token InitializeMint2), one associated token account per owner (ATA program,
   * CreateIdempotent) and the payers' balances (Token MintTo). Same keys every time, so /reset
   * gives back the same addresses.
   */
  async build() {
    this.svm = new LiteSVM();
    this.svm.airdrop(this.authority.address, lamports(1_000_000_000_000n));
    this.svm.airdrop(this.feePayer.address, lamports(100_000_000_000n));
    this.resetBookkeeping();

    const rent = this.svm.minimumBalanceForRentExemption(82n);
    await this.runInternal(
      [
        getCreateAccountInstruction({
          payer: this.authority.signer,
          newAccount: this.mintKeys.signer,
          lamports: rent,
          space: 82,
          programAddress: TOKEN_PROGRAM_ADDRESS,
        }),
        getInitializeMint2Instruction({
          mint: this.mint,
          decimals: DECIMALS,
          mintAuthority: this.authority.address,
        }),
      ],
      this.authority.signer,
    );
    for (const owner of [this.authority, this.payTo, ...this.payers]) {
      const ata = await this.ataOf(owner.address);
      const ixs = [
        getCreateAssociatedTokenIdempotentInstruction({
          payer: this.authority.signer,
          ata,
          owner: owner.address,
          mint: this.mint,
        }),
      ];
      if (this.payers.includes(owner) && this.payerBalance > 0n) {
        ixs.push(
          getMintToInstruction({
            mint: this.mint,
            token: ata,
            mintAuthority: this.authority.signer,
            amount: this.payerBalance,
          }),
        );
      }
      await this.runInternal(ixs, this.authority.signer);
    }
    this.resetBookkeeping(); // the set-up is not part of the history tests look at
  }

  resetBookkeeping() {
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
    this.records = new Map(); // signature -> landed transaction
    this.processedMessages = new Map(); // base64 message -> signature (the status cache)
    this.unlanded = new Map(); // signature -> why it never landed (dropped, rejected)
    this.queued = new Map(); // signature -> queued for later processing (confirm_delay)
    this.transfers = [];
    this.faults = { confirmDelay: null, dropSends: 0 };
    this.blockhashHeight = this.blockHeight();
  }

  /** Back to the state right after start-up: same keys, mint and balances, empty history. */
  async reset() {
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
    await this.build();
  }

  slot() {
    return this.svm.getClock().slot;
  }
  blockHeight() {
    return this.slot() - HEIGHT_BEHIND_SLOT;
  }
  latestBlockhash() {
    return this.svm.latestBlockhash();
  }
  lastValidBlockHeight() {
    return this.blockhashHeight + SLOTS_PER_BLOCKHASH;
  }
  isBlockhashValid(hash) {
    return hash === this.latestBlockhash();
  }

  advanceSlots(n) {
    this.svm.warpToSlot(this.slot() + BigInt(n));
    if (this.blockHeight() > this.lastValidBlockHeight()) this.rotateBlockhash();
  }
  rotateBlockhash() {
    this.svm.expireBlockhash();
    this.blockhashHeight = this.blockHeight();
  }

  /** Expires the current blockhash and moves past its lastValidBlockHeight. */
  expireBlockhash() {
    const old = { blockhash: this.latestBlockhash(), lastValidBlockHeight: this.lastValidBlockHeight() };
    this.svm.warpToSlot(this.slot() + SLOTS_PER_BLOCKHASH + 1n);
    this.rotateBlockhash();
    return {
      expired: old,
      blockhash: this.latestBlockhash(),
      lastValidBlockHeight: this.lastValidBlockHeight(),
      slot: this.slot(),
    };
  }

  /** The account as the RPC shows it, or null. */
  account(address) {
    const a = this.svm.getAccount(address);
    if (!a.exists) return null;
    return {
      lamports: a.lamports,
      owner: a.programAddress,
      executable: a.executable,
      data: a.data,
      space: BigInt(a.data.length),
    };
  }

  async ataOf(owner) {
    const [ata] = await findAssociatedTokenPda({
      mint: this.mint,
      owner,
      tokenProgram: TOKEN_PROGRAM_ADDRESS,
    });
    return ata;
  }

  /** Decoded SPL token account (mint, owner, amount…) or null when address is none. */
  tokenAccount(address) {
    const a = this.account(address);
    if (!a || (a.owner !== TOKEN_PROGRAM && a.owner !== TOKEN_2022_PROGRAM) || a.data.length < 165)
      return null;
    if (a.owner === TOKEN_PROGRAM && a.data.length !== 165) return null;
    try {
      return { ...this.tokenDecoder.decode(a.data.subarray(0, 165)), programId: a.owner };
    } catch {
      return null;
    }
  }

  async tokenBalance(owner) {
    const ata = await this.ataOf(owner);
    const t = this.tokenAccount(ata);
    return { owner, tokenAccount: ata, exists: t !== null, amount: t ? t.amount : 0n };
  }

  /** Token balances (of any mint) of the static accounts, in the RPC's pre/postTokenBalances form. */
  tokenBalancesOf(keys) {
    const out = [];
    keys.forEach((key, accountIndex) => {
      const t = this.tokenAccount(key);
      if (!t) return;
      const decimals = t.mint === this.mint ? DECIMALS : this.mintDecimals(t.mint);
      out.push({ accountIndex, mint: t.mint, owner: t.owner, programId: t.programId, amount: t.amount, decimals });
    });
    return out;
  }

  mintDecimals(mint) {
    const a = this.account(mint);
    return a && a.data.length >= 82 ? a.data[44] : 0;
  }

  /** Signs and processes a transaction of our own (set-up, drain). Throws if it fails. */
  async runInternal(instructions, feePayerSigner) {
    const message = pipe(
      createTransactionMessage({ version: 0 }),
      (m) => setTransactionMessageFeePayerSigner(feePayerSigner, m),
      (m) =>
        setTransactionMessageLifetimeUsingBlockhash(
          { blockhash: this.latestBlockhash(), lastValidBlockHeight: this.lastValidBlockHeight() },
          m,
        ),
      (m) => appendTransactionMessageInstructions(instructions, m),
    );
    const tx = await signTransactionMessageWithSigners(message);
    const wire = new Uint8Array(this.txEncoder.encode(tx));
    const parsed = parseTransaction(wire);
    const signature = toBase58(parsed.signatures[0]);
    const rec = this.execute(signature, wire, parsed);
    if (!rec || rec.err) {
      throw new Error(`internal transaction failed: ${JSON.stringify(rec ? rec.err : this.unlanded.get(signature))} ${rec ? rec.logs.join(" | ") : ""}`);
    }
    return rec;
  }

  /** Parses and checks a wire transaction as sendTransaction does before it forwards it. */
  decodeForSend(wire) {
    let parsed;
    try {
      parsed = parseTransaction(wire);
    } catch (e) {
      throw new RpcError(-32602, `failed to deserialize solana_transaction::versioned::VersionedTransaction: ${e.message}`);
    }
    return parsed;
  }

  signaturesValid(parsed) {
    return parsed.signatures.every((sig, i) =>
      verifyEd25519(parsed.message.accountKeys[i], sig, parsed.messageBytes),
    );
  }

  /**
   * sendTransaction: returns the signature (base58) or throws RpcError. Applies the
   * drop_next_send and confirm_delay faults.
   */
  send(wire, { skipPreflight = false } = {}) {
    const parsed = this.decodeForSend(wire);
    if (!this.signaturesValid(parsed)) {
      throw new RpcError(-32003, "Transaction signature verification failure");
    }
    const signature = toBase58(parsed.signatures[0]);
    if (!skipPreflight) {
      const sim = this.simulate(wire, { sigVerify: false });
      if (sim.err) {
        throw new RpcError(-32002, `Transaction simulation failed: ${errorText(sim.err)}`, {
          accounts: null,
          err: sim.err,
          innerInstructions: null,
          loadedAccountsDataSize: sim.loadedAccountsDataSize,
          logs: sim.logs,
          replacementBlockhash: null,
          returnData: null,
          unitsConsumed: sim.unitsConsumed,
        });
      }
    }
    if (this.records.has(signature) || this.queued.has(signature)) return signature;
    if (this.faults.dropSends > 0) {
      this.faults.dropSends -= 1;
      this.unlanded.set(signature, { reason: "dropped (drop_next_send)", at: Date.now() });
      this.log(`sendTransaction ${signature}: dropped by the drop_next_send fault`);
      return signature;
    }
    const delay = this.faults.confirmDelay;
    if (delay && delay.ms > 0) {
      if (delay.count !== null) {
        delay.count -= 1;
        if (delay.count <= 0) this.faults.confirmDelay = null;
      }
      this.queued.set(signature, { since: Date.now(), ms: delay.ms });
      const timer = setTimeout(() => {
        this.timers.delete(timer);
        this.queued.delete(signature);
        this.execute(signature, wire, parsed);
      }, delay.ms);
      this.timers.add(timer);
      this.log(`sendTransaction ${signature}: held ${delay.ms} ms (confirm_delay)`);
      return signature;
    }
    this.execute(signature, wire, parsed);
    return signature;
  }

  /** Runs a transaction on LiteSVM and records it if it lands. Returns the record or null. */
  execute(signature, wire, parsed) {
    const messageKey = toBase64(parsed.messageBytes);
    if (this.processedMessages.has(messageKey)) {
      this.unlanded.set(signature, { reason: "AlreadyProcessed", at: Date.now() });
      return null;
    }
    const keys = parsed.message.accountKeys;
    const feePayer = keys[0];
    const preBalances = keys.map((k) => this.account(k)?.lamports ?? 0n);
    const preTokenBalances = this.tokenBalancesOf(keys);
    let tx;
    try {
      tx = this.txDecoder.decode(wire);
    } catch (e) {
      this.unlanded.set(signature, { reason: `undecodable: ${e.message}`, at: Date.now() });
      return null;
    }
    let result;
    try {
      result = this.svm.sendTransaction(tx);
    } catch (e) {
      this.unlanded.set(signature, { reason: `rejected: ${e.message}`, at: Date.now() });
      return null;
    }
    const failed = result instanceof FailedTransactionMetadata;
    const err = failed ? errorToJson(result.err()) : null;
    const meta = failed ? result.meta() : result;
    const postFeePayer = this.account(feePayer)?.lamports ?? 0n;
    const landed = !failed || postFeePayer < preBalances[0];
    if (!landed) {
      this.unlanded.set(signature, { reason: err, at: Date.now() });
      this.log(`transaction ${signature} not landed: ${JSON.stringify(err)}`);
      return null;
    }
    const postBalances = keys.map((k) => this.account(k)?.lamports ?? 0n);
    const postTokenBalances = this.tokenBalancesOf(keys);
    const slot = this.slot();
    const record = {
      signature,
      slot,
      blockTime: BigInt(Math.floor(Date.now() / 1000)),
      err,
      fee: feeForMessage(parsed.message),
      preBalances,
      postBalances,
      preTokenBalances,
      postTokenBalances,
      logs: meta.logs(),
      innerInstructions: innerInstructionsOf(meta),
      computeUnitsConsumed: meta.computeUnitsConsumed(),
      returnData: returnDataOf(meta),
      wire,
      parsed,
    };
    this.records.set(signature, record);
    this.processedMessages.set(messageKey, signature);
    if (!err) this.recordTransfers(record);
    this.advanceSlots(1);
    return record;
  }

  recordTransfers(record) {
    const pre = new Map(record.preTokenBalances.filter((b) => b.mint === this.mint).map((b) => [b.accountIndex, b]));
    const post = record.postTokenBalances.filter((b) => b.mint === this.mint);
    const keys = record.parsed.message.accountKeys;
    const debits = [];
    const credits = [];
    const indexes = new Set([...pre.keys(), ...post.map((b) => b.accountIndex)]);
    for (const i of indexes) {
      const before = pre.get(i)?.amount ?? 0n;
      const afterEntry = post.find((b) => b.accountIndex === i);
      const after = afterEntry?.amount ?? 0n;
      const owner = afterEntry?.owner ?? pre.get(i)?.owner ?? null;
      if (after < before) debits.push({ account: keys[i], owner, amount: before - after });
      if (after > before) credits.push({ account: keys[i], owner, amount: after - before });
    }
    // Pairs debits with credits in order (a payment is one debit and one credit).
    while (debits.length || credits.length) {
      const d = debits[0];
      const c = credits[0];
      const amount = d && c ? (d.amount < c.amount ? d.amount : c.amount) : (d ?? c).amount;
      this.transfers.push({
        signature: record.signature,
        from: d ? d.owner : null,
        to: c ? c.owner : null,
        amount: amount.toString(),
        slot: record.slot,
        fromTokenAccount: d ? d.account : null,
        toTokenAccount: c ? c.account : null,
      });
      if (d) {
        d.amount -= amount;
        if (d.amount === 0n) debits.shift();
      }
      if (c) {
        c.amount -= amount;
        if (c.amount === 0n) credits.shift();
      }
    }
  }

  /**
   * simulateTransaction: runs the transaction against the current state without committing it.
   * Returns { err, logs, unitsConsumed, returnData, innerInstructions, postAccounts,
   * replacementBlockhash, loadedAccountsDataSize, fee }.
   */
  simulate(wire, { sigVerify = false, replaceRecentBlockhash = false } = {}) {
    const parsed = this.decodeForSend(wire);
    if (sigVerify && !this.signaturesValid(parsed)) {
      throw new RpcError(-32003, "Transaction signature verification failure");
    }
    const loadedAccountsDataSize = parsed.message.accountKeys.reduce(
      (n, k) => n + (this.account(k)?.data.length ?? 0),
      0,
    );
    const base = {
      loadedAccountsDataSize,
      fee: feeForMessage(parsed.message),
      replacementBlockhash: replaceRecentBlockhash
        ? { blockhash: this.latestBlockhash(), lastValidBlockHeight: this.lastValidBlockHeight() }
        : null,
    };
    if (!replaceRecentBlockhash && this.processedMessages.has(toBase64(parsed.messageBytes))) {
      return { ...base, err: "AlreadyProcessed", logs: [], unitsConsumed: 0n, returnData: null, innerInstructions: [], postAccounts: [] };
    }
    let tx;
    try {
      tx = this.txDecoder.decode(wire);
    } catch (e) {
      throw new RpcError(-32602, `invalid transaction: ${e.message}`);
    }
    this.svm.withSigverify(false);
    if (replaceRecentBlockhash) this.svm.withBlockhashCheck(false);
    let result;
    try {
      result = this.svm.simulateTransaction(tx);
    } finally {
      this.svm.withSigverify(true);
      this.svm.withBlockhashCheck(true);
    }
    if (result instanceof FailedTransactionMetadata) {
      const meta = result.meta();
      return {
        ...base,
        err: errorToJson(result.err()),
        logs: meta.logs(),
        unitsConsumed: meta.computeUnitsConsumed(),
        returnData: returnDataOf(meta),
        innerInstructions: innerInstructionsOf(meta),
        postAccounts: [],
      };
    }
    const meta = result.meta();
    return {
      ...base,
      err: null,
      logs: meta.logs(),
      unitsConsumed: meta.computeUnitsConsumed(),
      returnData: returnDataOf(meta),
      innerInstructions: innerInstructionsOf(meta),
      postAccounts: result.postAccounts(),
    };
  }

  /** getSignatureStatuses entry for one signature, or null. */
  signatureStatus(signature) {
    const rec = this.records.get(signature);
    if (!rec) return null;
    const depth = this.slot() - rec.slot;
    const finalized = depth >= FINALIZED_DEPTH;
    return {
      slot: rec.slot,
      confirmations: finalized ? null : depth,
      err: rec.err,
      status: rec.err ? { Err: rec.err } : { Ok: null },
      confirmationStatus: finalized ? "finalized" : "confirmed",
    };
  }

  /** The control API's view: processed | failed | unknown. */
  statusOf(signature) {
    const rec = this.records.get(signature);
    if (rec) return { status: rec.err ? "failed" : "processed", slot: rec.slot, err: rec.err };
    if (this.queued.has(signature)) return { status: "unknown", queued: true };
    const why = this.unlanded.get(signature);
    if (why) return { status: "unknown", neverLanded: why.reason };
    return { status: "unknown" };
  }

  airdrop(address, amount) {
    const r = this.svm.airdrop(address, lamports(BigInt(amount)));
    if (!r || r instanceof FailedTransactionMetadata) throw new RpcError(-32603, "airdrop failed");
    const signature = toBase58(r.signature());
    this.advanceSlots(1);
    return signature;
  }

  /** Moves a payer's (or payTo's) whole token balance to the authority's account (a real transfer). */
  async drain(owner) {
    const payer = [...this.payers, this.payTo].find((p) => p.address === owner);
    if (!payer) throw new Error(`not a payer (or the payTo owner) of this peer: ${owner}`);
    const source = await this.ataOf(owner);
    const t = this.tokenAccount(source);
    const amount = t ? t.amount : 0n;
    const sink = this.authority.address;
    if (amount === 0n) return { owner, to: sink, amount: "0", signature: null };
    const rec = await this.runInternal(
      [
        getTransferCheckedInstruction({
          source,
          mint: this.mint,
          destination: await this.ataOf(this.authority.address),
          authority: payer.signer,
          amount,
          decimals: DECIMALS,
        }),
      ],
      this.authority.signer,
    );
    return { owner, to: sink, amount: amount.toString(), signature: rec.signature };
  }
}

function innerInstructionsOf(meta) {
  const out = [];
  meta.innerInstructions().forEach((list, index) => {
    if (!list.length) return;
    out.push({
      index,
      instructions: list.map((inner) => {
        const ix = inner.instruction();
        return {
          programIdIndex: ix.programIdIndex(),
          accounts: Array.from(ix.accounts()),
          data: toBase58(ix.data()),
          stackHeight: inner.stackHeight(),
        };
      }),
    });
  });
  return out;
}

function returnDataOf(meta) {
  const r = meta.returnData();
  const data = r.data();
  if (!data || data.length === 0) return null;
  return { programId: toBase58(r.programId()), data: [toBase64(data), "base64"] };
}
