// Sign+verify throughput of our signer (signRequest + verifyResponse, canonical strings included) against raw
// crypto.sign/crypto.verify with the same KeyObjects on precomputed bytes (target >= 0.9x), and node-rsa's own
// PKCS#1 v1.5 SHA-1 sign+verify for the record. Rounds are interleaved so drift hits all three alike.
import { sign as cryptoSign, verify as cryptoVerify } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import NodeRSA from 'node-rsa';
import { parsePrivateKey, parsePublicKey } from '../src/umpay/keys.js';
import { requestPlaintext, responsePlaintext } from '../src/umpay/canonical.js';
import { signRequest, verifyResponse } from '../src/umpay/signature.js';
import type { WireValue } from '../src/umpay/canonical.js';
import { median, p99, runStandalone, type BenchRow } from './lib.js';

const here = path.dirname(fileURLToPath(import.meta.url));

function loadVectors(): { key: string; cert: string; request: Record<string, string>; answer: Record<string, WireValue> } {
  // dist/bench/sign.js → repo root is two levels up; the platform's published test material is in test/fixtures.
  const file = path.resolve(here, '..', '..', 'test', 'fixtures', 'umpay', 'vectors.json');
  const v = JSON.parse(readFileSync(file, 'utf8')) as {
    merchantPrivateKeyPkcs8DerBase64: string;
    platformCertificateDerBase64: string;
    requestSignatures: { fields: Record<string, string> }[];
    responseSignatures: { response: Record<string, WireValue>; valid: boolean }[];
  };
  return { key: v.merchantPrivateKeyPkcs8DerBase64, cert: v.platformCertificateDerBase64, request: v.requestSignatures[0]!.fields, answer: v.responseSignatures[1]!.response };
}

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 30);
const PER_ROUND = Number(process.env.BENCH_OPS ?? 200);

export async function run(): Promise<BenchRow[]> {
  const v = loadVectors();
  const privateKey = parsePrivateKey(Buffer.from(v.key), 'vectors');
  const platformKey = parsePublicKey(Buffer.from(v.cert), 'vectors');
  // Raw baseline: the same work minus our code (bytes and signature prepared once).
  const reqBytes = Buffer.from(requestPlaintext(v.request), 'utf8');
  const ansBytes = Buffer.from(responsePlaintext(v.answer), 'utf8');
  const ansSig = Buffer.from(v.answer.signature as string, 'base64');
  // node-rsa on the same merchant key, PKCS#1 v1.5 SHA-1; it verifies its own signature (it has no X.509 reader).
  const rsa = new NodeRSA(Buffer.from(v.key, 'base64'), 'pkcs8-private-der', { signingScheme: 'pkcs1-sha1' });
  const reqText = requestPlaintext(v.request);

  const candidates: [string, () => void][] = [
    ['crypto.sign+verify (raw, same KeyObject)', () => {
      cryptoSign('sha1', reqBytes, privateKey).toString('base64');
      if (!cryptoVerify('sha1', ansBytes, platformKey, ansSig)) throw new Error('raw verify failed');
    }],
    ['signRequest+verifyResponse (ours)', () => {
      signRequest(v.request, privateKey);
      if (!verifyResponse(v.answer, platformKey).valid) throw new Error('verifyResponse failed');
    }],
    ['node-rsa sign+verify (for the record)', () => {
      const sig = rsa.sign(reqText, 'base64');
      if (!rsa.verify(reqText, sig, 'utf8', 'base64')) throw new Error('node-rsa verify failed');
    }],
  ];
  const samples = candidates.map(() => [] as number[]);
  for (const [, fn] of candidates) for (let i = 0; i < 20; i++) fn(); // warm-up
  for (let r = 0; r < ROUNDS; r++) {
    // Each round starts with another candidate, so that a position effect (GC, CPU clock) is shared.
    for (let j = 0; j < candidates.length; j++) {
      const i = (r + j) % candidates.length;
      const fn = candidates[i]![1];
      const start = process.hrtime.bigint();
      for (let k = 0; k < PER_ROUND; k++) fn();
      const secs = Number(process.hrtime.bigint() - start) / 1e9;
      samples[i]!.push(PER_ROUND / secs);
    }
  }
  const base = median(samples[0]!);
  return candidates.map(([name], i): BenchRow => {
    const s = samples[i]!;
    // For a throughput, the bad tail is the low end: "p99" is the rate that 99% of rounds beat.
    const row: BenchRow = { name, unit: 'ops/s', median: median(s), p99: -p99(s.map((x) => -x)) };
    if (i > 0) {
      row.baseline = candidates[0]![0];
      row.ratio = median(s) / base;
      if (i === 1) {
        row.budget = '>= 0.9x';
        row.ok = row.ratio >= 0.9;
      }
    }
    return row;
  });
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  await runStandalone(run);
}
