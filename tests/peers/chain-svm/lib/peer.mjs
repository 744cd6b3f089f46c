// Assembles the peer: the chain (LiteSVM), its JSON-RPC front, the official facilitator and the
// control API, each on its own ephemeral loopback port.
import { Chain } from "./chain.mjs";
import { ControlServer } from "./control.mjs";
import { FacilitatorServer, NETWORK } from "./facilitator.mjs";
import { RpcFront } from "./rpc.mjs";

function newFaults() {
  return { rpcStatus: [], verifyDelay: null, settleDelay: null, settleHangup: 0 };
}

export async function startPeer({ payers = 1, payerBalance = 1_000_000_000n, log = () => {} } = {}) {
  const chain = new Chain({ payers, payerBalance, log });
  await chain.init();
  const faults = newFaults();
  const rpc = new RpcFront({ chain, faults, log });
  const rpcPort = await rpc.listen();
  const rpcUrl = `http://127.0.0.1:${rpcPort}`;
  const facilitator = new FacilitatorServer({
    feePayerSigner: chain.feePayer.signer,
    rpcUrl: `${rpcUrl}/facilitator`,
    faults,
    log,
  });
  const facilitatorPort = await facilitator.listen();
  const peer = {
    chain,
    faults,
    rpc,
    facilitator,
    async reset({ faultsOnly = false } = {}) {
      Object.assign(faults, newFaults());
      if (faultsOnly) {
        chain.faults = { confirmDelay: null, dropSends: 0 };
        return;
      }
      await chain.reset();
      facilitator.build();
      rpc.calls = [];
      log("reset: chain state, faults, facilitator caches and logs back to start-up");
    },
  };
  const control = new ControlServer({ peer, log });
  const controlPort = await control.listen();
  peer.info = {
    rpc: rpcUrl,
    facilitator: `http://127.0.0.1:${facilitatorPort}`,
    control: `http://127.0.0.1:${controlPort}`,
    network: NETWORK,
    mint: chain.mint,
    decimals: chain.decimals,
    feePayer: chain.feePayer.address,
    payers: chain.payers.map((p) => ({ address: p.address, secretKey: p.secretKey })),
    payTo: chain.payTo.address,
  };
  peer.close = async () => {
    for (const t of chain.timers) clearTimeout(t);
    await Promise.all(
      [rpc.server, facilitator.server, control.server].map(
        (s) =>
          new Promise((resolve) => {
            s.close(() => resolve());
            s.closeAllConnections?.();
          }),
      ),
    );
  };
  return peer;
}
