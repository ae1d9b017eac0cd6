// Records test/fixtures/umpay/vendor-java.json: the vendor demo kit's requests (signed by its own classes), the
// answers our sandbox gives them, and the vendor's verdict on each answer; plus answers signed the vendor's way
// with numbers JSON.parse would change. Needs a JDK, a built tree (npx tsc) and the kit:
//   node tools/vendor-fixtures/record.mjs /path/to/ServiceProviderPlatform
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, '../..');
const kit = process.argv[2];
if (!kit) throw new Error('usage: record.mjs PATH_TO_ServiceProviderPlatform');
const { startSandbox } = await import(join(root, 'dist/src/sandbox/index.js'));
const KEY = join(root, 'test/fixtures/umpay/test-merchant.key.p8');
const classes = mkdtempSync(join(tmpdir(), 'vendor-'));
const u = join(kit, 'src/main/java/com/umpay/util');
const cp = `${classes}:/usr/share/java/commons-io.jar`;
execFileSync('javac', ['-encoding', 'UTF-8', '-nowarn', '-cp', '/usr/share/java/commons-io.jar', '-d', classes, ...['Base64', 'StringUtil', 'SignTools', 'CertUtils'].map((c) => join(u, `${c}.java`)), join(here, 'VendorDemo.java')]);
// CertUtils.sign prints the key object to stdout: keep only our output lines.
const java = (args, input) => execFileSync('java', ['-cp', cp, 'VendorDemo', ...args], { input, stdio: ['pipe', 'pipe', 'pipe'] }).toString().split('\n').filter((l) => !l.startsWith('sun.security')).join('\n');
const requests = JSON.parse(java(['requests', KEY, 'Y471790403', '41509208', 'JD202612010930150001', 'JD202612010930150002', '20261201093015']));

// The sandbox signs with the test merchant key (its public half is in the repository) so that the recorded answers
// can be checked again without the sandbox's generated key.
const sb = await startSandbox({ merchantPublicKey: KEY, platformPrivateKey: KEY, now: () => new Date('2026-12-01T01:30:20Z') });
const served = [];
for (const r of requests) {
  let res;
  if (r.method === 'GET') {
    const q = Object.entries(JSON.parse(r.body)).map(([k, v]) => `${k}=${encodeURIComponent(v)}`).join('&');
    res = await fetch(`${sb.baseUrl}/pay/${r.call}?${q}`);
  } else {
    res = await fetch(`${sb.baseUrl}/pay/${r.call}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: r.body });
  }
  served.push({ call: r.call, httpStatus: res.status, answer: await res.text() });
}
await sb.close();
// The kit's verify needs an X.509 certificate: the sandbox made one for its key.
const certDir = mkdtempSync(join(tmpdir(), 'vendor-cert-'));
const sb2 = await startSandbox({ merchantPublicKey: KEY, platformPrivateKey: KEY, stateDir: certDir });
const cert = sb2.platformCertPath;
const json = served.filter((s) => s.answer.startsWith('{'));
const verdicts = java(['verify', cert], json.map((s) => s.answer).join('\n') + '\n').trim().split('\n');
await sb2.close();
json.forEach((s, i) => {
  const [ok, plaintext] = verdicts[i].split('\t');
  s.vendorVerifies = ok === 'true';
  s.vendorPlaintext = plaintext;
});

const numeric = [
  '{"respCode":"00","respMsg":"处理成功","platDate":"20261201","stlDate":"20261201","orderNo":"JD202612010930150001","transactionId":"2026120109300000072703","paySeq":"","txnAmt":1.50,"payerInfo":null}',
  '{"respCode":"00","respMsg":"处理成功","platDate":"20261201","orderNo":"JD202612010930150001","transactionId":20261201093000000727031,"txnAmt":"150","origRespCode":"00","payTime":"1201093015"}',
  '{"respCode":"00","respMsg":"成功","orderNo":"JD202612010930150001","txnAmt":9007199254740993,"fee":0.60,"detail":{"b":"2","a":1.10,"c":""},"stlDate":"20261201"}',
];
const vendorSigned = numeric.map((a) => {
  const out = execFileSync('java', ['-cp', cp, 'VendorDemo', 'sign-answer', KEY], { input: a, stdio: ['pipe', 'pipe', 'pipe'] });
  const answer = out.toString().split('\n').filter((l) => l.startsWith('{'))[0];
  return { answer };
});
const verdicts2 = java(['verify', cert], vendorSigned.map((v) => v.answer).join('\n') + '\n').trim().split('\n');
vendorSigned.forEach((v, i) => {
  const [ok, plaintext] = verdicts2[i].split('\t');
  v.vendorVerifies = ok === 'true';
  v.vendorPlaintext = plaintext;
});

writeFileSync(
  join(root, 'test/fixtures/umpay/vendor-java.json'),
  JSON.stringify(
    {
      about:
        'Recorded by tools/vendor-fixtures/record.mjs with the platform vendor\'s own classes (CertUtils.sign, SignTools.verify of the public demo kit umpayer/ServiceProviderPlatform) and the kit\'s AddSign rules. requests: the kit\'s demo requests as its step3-step7 classes build them (TreeMap.toString() plaintext), signed with the published test merchant key (test-merchant.key.p8). served: what our sandbox answered them, signed with the same test key standing in for the platform key, and whether the kit\'s verify accepts each answer. vendorSigned: answers signed the kit\'s way (assemSign over fastjson-parsed values, numbers keep their text) with the same key.',
      requests,
      served,
      vendorSigned,
    },
    null,
    1,
  ) + '\n',
);
console.log('served', served.map((s) => `${s.call}:${s.httpStatus}:${s.vendorVerifies ?? 'file'}`).join(' '));
console.log('vendorSigned', vendorSigned.map((v) => v.vendorVerifies).join(' '));
