// Our emulation of the Java demo kit's request plaintext (TreeMap<String,Object>.toString() with ", " → "&" and
// braces removed) against the real thing: a JDK compiles and runs the kit's one-line rule (AddSign.addSign) on the
// same fields. No vendor code is needed (that is in test/fixtures/umpay/vendor-java.json, recorded with it); this
// checks the JDK's TreeMap ordering and toString on hazards, empties and non-ASCII text. Skipped only when the
// machine has no JDK (javac); the project's machines and CI have one.
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { javaRequestPlaintext, requestPlaintext, signingHazard } from '../../src/umpay/canonical.js';

const JAVA = `
import java.io.*;
import java.nio.charset.StandardCharsets;
import java.util.*;
public class Rule {
  public static void main(String[] a) throws Exception {
    BufferedReader in = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
    PrintStream out = new PrintStream(System.out, true, "UTF-8");
    TreeMap<String, Object> m = new TreeMap<String, Object>();
    String line;
    while ((line = in.readLine()) != null) {
      if (line.isEmpty()) {
        m.remove("signature");
        out.println(new StringBuilder(m.toString().replace(", ", "&").replace("{", "").replace("}", "")).toString());
        m = new TreeMap<String, Object>();
        continue;
      }
      int tab = line.indexOf('\\t');
      String v = line.substring(tab + 1);
      m.put(line.substring(0, tab), v.equals("\\u0000null") ? null : v);
    }
  }
}`;

const CASES: Record<string, string | null>[] = [
  { acqSpId: 'Y471790403', acqMerId: '41509208', orderNo: 'JD1', transactionId: '', signature: '' },
  { goodsInfo: '可乐, 冰', goodsId: 'A{1}', merPriv: 'x}y', orderNo: 'K1' },
  { b: 'x=1&y=2', a: '100%', C: 'upper before lower', _u: 'underscore', '中文': 'key', z: null },
  { orderNo: 'JD202003051057240001', goodsInfo: '口罩', txnAmt: '1', orderType: 'wechat', orderTime: '20200305105724' },
  { a: ', ', b: '{}', c: ' , ' },
];

describe('umpay: the Java rule against a real JDK', function () {
  this.timeout(60_000);
  let dir: string | undefined;
  before(function () {
    if (spawnSync('javac', ['-version']).error) {
      this.skip(); // no JDK on this machine
    }
    dir = mkdtempSync(join(tmpdir(), 'java-rule-'));
    writeFileSync(join(dir, 'Rule.java'), JAVA);
    execFileSync('javac', ['-encoding', 'UTF-8', '-d', dir, join(dir, 'Rule.java')]);
  });
  after(() => dir && rmSync(dir, { recursive: true, force: true }));

  it('javaRequestPlaintext equals the JDK\'s TreeMap.toString() rule on every case; the documented rule only where signingHazard sees nothing', () => {
    const input = CASES.map((c) => Object.entries(c).map(([k, v]) => `${k}\t${v === null ? '\u0000null' : v}\n`).join('') + '\n').join('');
    const out = execFileSync('java', ['-cp', dir!, 'Rule'], { input }).toString('utf8').split('\n').slice(0, CASES.length);
    CASES.forEach((c, i) => {
      assert.equal(javaRequestPlaintext(c), out[i], JSON.stringify(c));
      const hazard = Object.values(c).some((v) => typeof v === 'string' && signingHazard(v) !== undefined);
      const blank = Object.entries(c).some(([k, v]) => k !== 'signature' && (v === '' || v === null));
      assert.equal(requestPlaintext(c) === out[i], !hazard && !blank, `case ${i}`);
    });
  });
});
