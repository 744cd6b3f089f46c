// Generates tests/vectors/evm_tx_vectors.json with viem, an implementation independent of ours:
// signed EIP-1559 (type 2) transactions calling FiatToken's transferWithAuthorization (the v,r,s
// overload, selector 0xe3ee160e) from fixed keys, with their unsigned serialization, signing hash,
// signed serialization and transaction hash, plus RLP encodings of edge-case values.
//   command: cd tests/vectors && npm ci && node evm_tx_generate.mjs > evm_tx_vectors.json
import { encodeFunctionData, keccak256, serializeTransaction, toRlp, toHex, parseSignature } from "viem";
import { privateKeyToAccount } from "viem/accounts";

const abi = [{
  type: "function", name: "transferWithAuthorization", stateMutability: "nonpayable", outputs: [],
  inputs: [
    { name: "from", type: "address" }, { name: "to", type: "address" },
    { name: "value", type: "uint256" }, { name: "validAfter", type: "uint256" },
    { name: "validBefore", type: "uint256" }, { name: "nonce", type: "bytes32" },
    { name: "v", type: "uint8" }, { name: "r", type: "bytes32" }, { name: "s", type: "bytes32" },
  ],
}];
const keys = [
  "0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80",  // Anvil/Hardhat #0
  "0x0101010101010101010101010101010101010101010101010101010101010101",
];
const token = "0x036CbD53842c5426634e7929541eC2318f3dCF7e";
const authorizationSignature =
  "0x2d6a7588d6acca505cbf0d9a4a227e0c52c6c34008c8e8986a1283259764173608a2ce6496642e377d6da8dbbf5836e9bd15092f9ecab05ded3d6293af148b571c";
const { r, s, v } = parseSignature(authorizationSignature);

const transactions = [];
let n = 0;
for (const key of keys) {
  const account = privateKeyToAccount(key);
  for (const [chainId, nonce, priority, maxFee, gas] of [
    [84532, 0, 1000000n, 2000000000n, 120000n],
    [8453, 7, 0n, 30000000000n, 95000n],
    [31337, 300, 1500000000n, 875000000000n, 1000000n],
  ]) {
    const data = encodeFunctionData({
      abi, functionName: "transferWithAuthorization",
      args: ["0x857b06519E91e3A54538791bDbb0E22373e36b66", "0x209693Bc6afc0C5328bA36FaF03C514EF312287C",
             BigInt(10000 + n), 1740672089n, 1740672154n,
             keccak256(toHex(`x402-mcp-proxy tx vector ${n}`)), Number(v), r, s],
    });
    const tx = { type: "eip1559", chainId, nonce, maxPriorityFeePerGas: priority, maxFeePerGas: maxFee,
                 gas, to: token, value: 0n, data, accessList: [] };
    const unsigned = serializeTransaction(tx);
    const signed = await account.signTransaction(tx);
    transactions.push({
      key, from: account.address, chainId, nonce, maxPriorityFeePerGas: priority.toString(),
      maxFeePerGas: maxFee.toString(), gas: gas.toString(), to: token, data,
      unsigned, signingHash: keccak256(unsigned), signed, hash: keccak256(signed),
    });
    ++n;
  }
}
const rlp = [
  { name: "empty string", input: "0x", encoded: toRlp("0x") },
  { name: "one byte below 0x80", input: "0x7f", encoded: toRlp("0x7f") },
  { name: "one byte 0x80", input: "0x80", encoded: toRlp("0x80") },
  { name: "55 bytes", input: toHex(new Uint8Array(55).fill(0xaa)), encoded: toRlp(toHex(new Uint8Array(55).fill(0xaa))) },
  { name: "56 bytes", input: toHex(new Uint8Array(56).fill(0xbb)), encoded: toRlp(toHex(new Uint8Array(56).fill(0xbb))) },
  { name: "1024 bytes", input: toHex(new Uint8Array(1024).fill(0xcc)), encoded: toRlp(toHex(new Uint8Array(1024).fill(0xcc))) },
];
console.log(JSON.stringify({
  generator: "viem 2.57.20 serializeTransaction / signTransaction / toRlp",
  command: "cd tests/vectors && npm ci && node evm_tx_generate.mjs > evm_tx_vectors.json",
  transactions, rlp,
}, (k, value) => typeof value === "bigint" ? value.toString() : value, 2));
