// A login with an injected Ethereum wallet (EIP-1193 `window.ethereum`): `eth_requestAccounts`,
// then `eth_signTypedData_v4` of the server's EIP-712 challenge; the signature is exchanged for a
// bearer token (session.js).

import { challenge, logIn } from './session.js';

/** Whether the browser has a wallet to log in with. */
export const hasWallet = () => window.ethereum !== undefined;

/** Asks the wallet for an account, signs the server's challenge with it, keeps the session. */
export async function loginWithWallet() {
  const wallet = window.ethereum;
  const [address] = await wallet.request({ method: 'eth_requestAccounts' });
  const { nonce, typedData } = await challenge();
  // eth_signTypedData_v4 wants the domain's own type beside the message's.
  const domainType = [
    { name: 'name', type: 'string' },
    { name: 'version', type: 'string' },
  ];
  const data = { ...typedData, types: { EIP712Domain: domainType, ...typedData.types } };
  const signature = await wallet.request({
    method: 'eth_signTypedData_v4',
    params: [address, JSON.stringify(data)],
  });
  await logIn({ scheme: 'eip712', nonce, address, signature });
}
