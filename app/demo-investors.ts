/**
 * The demo's Fabric investors: an MSP of the demo's own (`DemoInvestorsMSP`), whose root CA is
 * made in the data folder at the first start with the demo settings and trusted for logins, so
 * that anyone trying the demo can get a Fabric identity (`mosaic demo-identity NAME`), log in
 * with it or link it to the account of an Ethereum key, and trade on the Fabric venues (a
 * devnet takes any `MSPID:name` as a party; the faucet funds it).
 */
import { createPrivateKey } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { makeOnce } from '../common/index.ts';
import { issueMember, makeCa } from '../connectors/index.ts';
import { makeError } from '../gateway/index.ts';

export const DEMO_MSP = 'DemoInvestorsMSP';

/** The CA's file in the data folder: its root certificate and key (readable by the owner only). */
function caFile(dataDir: string): string {
  return path.join(dataDir, 'demo-investors-ca.json');
}

/** The demo investors' MSP as logins trust it: made in `dataDir` if it is not there yet. */
export function demoInvestorsMsp(dataDir: string): { mspId: string; rootCerts: string[] } {
  const file = caFile(dataDir);
  makeOnce(file, () => {
    const ca = makeCa(DEMO_MSP);
    const privateKey = ca.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
    return `${JSON.stringify({ mspId: DEMO_MSP, rootCert: ca.certificate, privateKey }, null, 2)}\n`;
  });
  return { mspId: DEMO_MSP, rootCerts: [read(file).rootCert] };
}

/**
 * A new demo investor identity `DemoInvestorsMSP:<name>`: a certificate issued by the CA in
 * `dataDir` and its private key (PEM). BAD_CONFIG if the exchange has not made the CA yet.
 */
export function demoIdentity(
  dataDir: string,
  name: string,
): { mspId: string; commonName: string; certificate: string; privateKey: string } {
  if (!/^[A-Za-z0-9._-]{1,48}$/.test(name)) {
    throw makeError(
      `the name must be 1 to 48 letters, digits, '.', '_' or '-', not ${JSON.stringify(name)}`,
      'BAD_CONFIG',
    );
  }
  const file = caFile(dataDir);
  if (!fs.existsSync(file)) {
    throw makeError(
      `no demo investors' CA in ${dataDir}: start the exchange with the demo settings (npm start) once, and use its data folder`,
      'BAD_CONFIG',
    );
  }
  const saved = read(file);
  const member = issueMember(
    { certificate: saved.rootCert, privateKey: createPrivateKey(saved.privateKey) },
    DEMO_MSP,
    name,
  );
  return {
    mspId: DEMO_MSP,
    commonName: name,
    certificate: member.certificate,
    privateKey: member.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
  };
}

function read(file: string): { rootCert: string; privateKey: string } {
  return JSON.parse(fs.readFileSync(file, 'utf8')) as { rootCert: string; privateKey: string };
}
