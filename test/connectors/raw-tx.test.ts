/**
 * The batch transactions signed in buffers (`raw-tx.ts`) are byte for byte those ethers signs,
 * at every RLP length boundary the call data can cross, and their hash is the transaction's.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Transaction, Wallet } from 'ethers';
import { type Eip1559Fields, signEip1559 } from '../../connectors/evm/raw-tx.ts';

const wallet = new Wallet('0x59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d');
const base: Eip1559Fields = {
  chainId: 31337n,
  nonce: 7,
  maxPriorityFeePerGas: 1_000_000_000n,
  maxFeePerGas: 2_875_000_000n,
  gasLimit: 45_150_000n,
  to: '0x5FC8d32690cc91D4c39d9d3abcBD16989F875707',
  data: '0x',
};
const bytes = (n: number, fill = 0xab) => `0x${Buffer.alloc(n, fill).toString('hex')}`;

describe('EIP-1559 transactions signed in buffers', () => {
  const cases: Array<[string, Partial<Eip1559Fields>]> = [
    ['no call data', {}],
    ['one byte below 0x80', { data: '0x7f' }],
    ['one byte of 0x80', { data: '0x80' }],
    ['55 bytes (the last short string)', { data: bytes(55) }],
    ['56 bytes (the first long one)', { data: bytes(56) }],
    ['256 bytes (a two-byte length)', { data: bytes(256) }],
    ['a 500-trade batch (48 KB)', { data: bytes(48_164, 0x01) }],
    ['nonce 0 and a one-byte chain id', { nonce: 0, chainId: 1n }],
    ['nonce 127 and fees of 127 and 128', { nonce: 127, maxPriorityFeePerGas: 127n, maxFeePerGas: 128n }],
    ['a large chain id and fee', { chainId: 2n ** 40n + 3n, maxFeePerGas: 10n ** 21n, nonce: 2 ** 31 }],
    ['a lower-case address', { to: base.to.toLowerCase() }],
  ];
  for (const [name, change] of cases) {
    it(`signs ${name} as ethers does`, async () => {
      const fields = { ...base, ...change };
      const expected = await wallet.signTransaction({ type: 2, ...fields });
      const { raw, hash } = signEip1559(fields, wallet.signingKey);
      assert.equal(raw, expected);
      const parsed = Transaction.from(raw);
      assert.equal(hash, parsed.hash);
      assert.equal(parsed.from, wallet.address);
    });
  }

  it('refuses call data that is not hex bytes', () => {
    for (const data of ['0xabc', 'abcd', '0xzz']) {
      assert.throws(() => signEip1559({ ...base, data }, wallet.signingKey), RangeError, data);
    }
  });
});
