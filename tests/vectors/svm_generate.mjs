// Generates tests/vectors/svm_vectors.json with @solana/kit, independently of our C++ code: x402
// exact SVM transactions (compute limit, compute price, SPL TransferChecked to the payee's
// associated token account, Memo), fee payer = the facilitator, partially signed by the buyer;
// plus negative cases with the reason our verifier must give.
//   command: cd tests/vectors && npm ci && node svm_generate.mjs > svm_vectors.json
import {
  AccountRole, address, appendTransactionMessageInstructions, compileTransaction,
  createKeyPairSignerFromPrivateKeyBytes, createTransactionMessage, getAddressEncoder,
  getBase64EncodedWireTransaction, getProgramDerivedAddress, partiallySignTransaction, pipe,
  setTransactionMessageFeePayer, setTransactionMessageLifetimeUsingBlockhash,
} from "@solana/kit";

const TOKEN = address("TokenkegQfeZyiNwAJbNbGKPFXCWuBvf9Ss623VQ5DA");
const ATA_PROGRAM = address("ATokenGPvbdGVxr1b2hvZbsiqW5xWH25efTNsLJA8knL");
const COMPUTE = address("ComputeBudget111111111111111111111111111111");
const MEMO = address("MemoSq4gqABAXKb96qnH8TysNcWxMyWCqXgDLGmfcHr");
const encoder = getAddressEncoder();
const ata = async (owner, mint) =>
  (await getProgramDerivedAddress({ programAddress: ATA_PROGRAM,
    seeds: [encoder.encode(owner), encoder.encode(TOKEN), encoder.encode(mint)] }))[0];
const le = (value, bytes) => { const out = new Uint8Array(bytes); let v = BigInt(value);
  for (let i = 0; i < bytes; ++i) { out[i] = Number(v & 0xffn); v >>= 8n; } return out; };
const cat = (...parts) => Uint8Array.from(parts.flatMap((p) => [...p]));

async function build({ seed, feePayer, payTo, mint, amount, decimals, memo, blockhash, price = 1,
                       authorityOverride, mintOverride, destinationOverride, extra = [] }) {
  const buyer = await createKeyPairSignerFromPrivateKeyBytes(new Uint8Array(32).fill(seed));
  const source = await ata(buyer.address, mint);
  const destination = destinationOverride ?? await ata(payTo, mint);
  const authority = authorityOverride ?? buyer.address;
  const instructions = [
    { programAddress: COMPUTE, data: cat([2], le(20000, 4)) },
    { programAddress: COMPUTE, data: cat([3], le(price, 8)) },
    { programAddress: TOKEN, accounts: [
        { address: source, role: AccountRole.WRITABLE },
        { address: mintOverride ?? mint, role: AccountRole.READONLY },
        { address: destination, role: AccountRole.WRITABLE },
        authority === buyer.address ? { address: authority, role: AccountRole.READONLY_SIGNER, signer: buyer }
                                    : { address: authority, role: AccountRole.READONLY_SIGNER } ],
      data: cat([12], le(amount, 8), [decimals]) },
    { programAddress: MEMO, data: new TextEncoder().encode(memo) },
    ...extra,
  ];
  const message = pipe(createTransactionMessage({ version: 0 }),
    (m) => setTransactionMessageFeePayer(address(feePayer), m),
    (m) => setTransactionMessageLifetimeUsingBlockhash({ blockhash, lastValidBlockHeight: 0n }, m),
    (m) => appendTransactionMessageInstructions(instructions, m));
  const compiled = compileTransaction(message);
  const signed = authorityOverride ? compiled : await partiallySignTransaction([buyer.keyPair], compiled);
  return { buyer: buyer.address, source, destination,
           transaction: getBase64EncodedWireTransaction(signed) };
}

const FEE_PAYER = "EwWqGE4ZFKLofuestmU4LDdK7XM1N4ALgdZccwYugwGd";
const PAY_TO = address("2wKupLR9q6wXYppw8Gr2NvWxKBUqm4PPJKkQfoxHDBg4");
const DEVNET_USDC = address("4zMMC9srt5Ri5X14GAgXhaHii3GnPAEERYPJgZJDncDU");
const MAINNET_USDC = address("EPjFWdd5AufqSSqeM2qN1xzybapC8G4wEGGkZwyTDt1v");
const cases = [
  { seed: 1, mint: DEVNET_USDC, amount: 1000, memo: "pi_3abc123def456", blockhash: "11111111111111111111111111111111" },
  { seed: 2, mint: DEVNET_USDC, amount: 123456, memo: "00112233445566778899aabbccddeeff", blockhash: "4sGjMW1sUnHzSxGspuhpqLDx6wiyjNtZAMdL4VZHirAn" },
  { seed: 7, mint: MAINNET_USDC, amount: 1, memo: "order-42", blockhash: "9xQeWvG816bUx9EPjHmaT23yvVM2ZWbrrpZb9PusVFin" },
];
const vectors = [];
for (const c of cases) {
  const built = await build({ ...c, feePayer: FEE_PAYER, payTo: PAY_TO, decimals: 6 });
  vectors.push({ seed_byte: c.seed, fee_payer: FEE_PAYER, pay_to: PAY_TO, mint: c.mint, amount: String(c.amount),
                 decimals: 6, memo: c.memo, blockhash: c.blockhash, ...built });
}
const base = { seed: 3, feePayer: FEE_PAYER, payTo: PAY_TO, mint: DEVNET_USDC, amount: 1000, decimals: 6,
               memo: "neg", blockhash: "11111111111111111111111111111111" };
const negatives = [
  { name: "wrong mint", reason: "invalid_exact_svm_payload_mint_mismatch",
    ...(await build({ ...base, mint: MAINNET_USDC })) },
  { name: "wrong destination", reason: "invalid_exact_svm_payload_recipient_mismatch",
    ...(await build({ ...base, destinationOverride: address("H1AviagU5Y17z77v1F9qZPJ9kCbCsL4ewiZABNfGYoRs") })) },
  { name: "wrong amount", reason: "invalid_exact_svm_payload_amount_mismatch", ...(await build({ ...base, amount: 999 })) },
  { name: "fee payer as the transfer authority", reason: "invalid_exact_svm_payload_transaction_fee_payer_transferring_funds",
    ...(await build({ ...base, authorityOverride: address(FEE_PAYER) })) },
  { name: "unknown extra instruction", reason: "invalid_exact_svm_payload_unknown_fifth_instruction",
    ...(await build({ ...base, extra: [{ programAddress: address("11111111111111111111111111111111"), data: new Uint8Array([2, 0, 0, 0]) }] })) },
  { name: "compute price too high", reason: "invalid_exact_svm_payload_transaction_instructions_compute_price_instruction_too_high",
    ...(await build({ ...base, price: 6_000_000 })) },
];
// A flipped bit in the buyer's signature (slot 1, after the count byte and slot 0).
const good = Buffer.from((await build(base)).transaction, "base64");
good[1 + 64 + 5] ^= 1;
negatives.push({ name: "flipped bit in the buyer's signature", reason: "invalid_exact_svm_payload_signature_invalid",
                 transaction: good.toString("base64") });
for (const n of negatives) { n.requirement = { mint: DEVNET_USDC, amount: "1000", pay_to: PAY_TO, fee_payer: FEE_PAYER }; }
console.log(JSON.stringify({ generator: "@solana/kit 8.4.0", vectors, negatives }, null, 1));
