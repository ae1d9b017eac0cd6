// The files a `fleet` section names: broker CA, client certificate and key, password file, and the
// operators' Ed25519 public keys. Each problem names the file and what is wrong, never its contents.
// Shared by the config check (kiosk doctor, kiosk run) and the fleet client.
import { createPrivateKey, createPublicKey, X509Certificate, type KeyObject } from 'node:crypto';
import { readFileSync, statSync } from 'node:fs';
import type { FleetConfig } from '../config/fleet.js';

export class FleetFileError extends Error {
  readonly code = 'E_FLEET_FILE';
  constructor(
    readonly field: string,
    readonly file: string,
    readonly problem: string,
  ) {
    super(`${file}: ${problem}`);
    this.name = 'FleetFileError';
  }
}

export interface FleetFiles {
  ca?: Buffer;
  cert?: Buffer;
  key?: Buffer;
  password?: Buffer;
  operatorKeys: KeyObject[];
}

const MAX_FILE = 1 << 20;

function read(field: string, file: string, secret: boolean): Buffer {
  let st;
  try {
    st = statSync(file);
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    throw new FleetFileError(field, file, e.code === 'ENOENT' ? 'no such file' : e.message);
  }
  // A device (/dev/zero) would be read until memory runs out.
  if (!st.isFile()) throw new FleetFileError(field, file, 'not a regular file');
  if (st.size > MAX_FILE) throw new FleetFileError(field, file, `${st.size} bytes: too big for a key or certificate`);
  if (secret && st.mode & 0o077) {
    throw new FleetFileError(field, file, `readable by group or others (mode ${(st.mode & 0o777).toString(8).padStart(4, '0')}); run: chmod 600 ${file}`);
  }
  try {
    return readFileSync(file);
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    throw new FleetFileError(field, file, e.code === 'EACCES' ? 'permission denied (is the daemon running as the kiosk user?)' : e.message);
  }
}

const PEM_BLOCK = /-----BEGIN ([A-Z0-9 ]+)-----[\s\S]*?-----END \1-----/g;

/** Every Ed25519 public key in a PEM file (one per operator). */
export function parseOperatorKeys(text: string, file: string, field = 'fleet.operatorKeys'): KeyObject[] {
  const blocks = [...text.matchAll(PEM_BLOCK)];
  if (blocks.length === 0) throw new FleetFileError(field, file, 'no PEM block found: expected one or more "-----BEGIN PUBLIC KEY-----" Ed25519 keys (kiosk fleet keygen writes them)');
  return blocks.map((b, i) => {
    let key: KeyObject;
    try {
      key = createPublicKey(b[0]);
    } catch {
      throw new FleetFileError(field, file, `PEM block ${i + 1} (${b[1]}) is not a public key`);
    }
    if (key.asymmetricKeyType !== 'ed25519') throw new FleetFileError(field, file, `key ${i + 1} is ${key.asymmetricKeyType}, expected ed25519`);
    return key;
  });
}

/** Reads and checks every file the section names; throws FleetFileError for the first bad one. */
export function loadFleetFiles(fleet: FleetConfig): FleetFiles {
  const out: FleetFiles = { operatorKeys: [] };
  if (fleet.ca) {
    out.ca = read('fleet.ca', fleet.ca, false);
    try {
      new X509Certificate(out.ca);
    } catch {
      throw new FleetFileError('fleet.ca', fleet.ca, 'not a PEM certificate');
    }
  }
  if (fleet.cert) {
    out.cert = read('fleet.cert', fleet.cert, false);
    try {
      new X509Certificate(out.cert);
    } catch {
      throw new FleetFileError('fleet.cert', fleet.cert, 'not a PEM certificate');
    }
  }
  if (fleet.key) {
    out.key = read('fleet.key', fleet.key, true);
    try {
      createPrivateKey(out.key);
    } catch {
      throw new FleetFileError('fleet.key', fleet.key, 'not a PEM private key');
    }
  }
  if (fleet.passwordFile) {
    const raw = read('fleet.passwordFile', fleet.passwordFile, true);
    // An editor's trailing newline is not part of the password.
    // Stryker disable next-line StringLiteral: an encoding '' is utf8 too (Buffer's default); the emptied '' is tested
    out.password = Buffer.from(raw.toString('utf8').replace(/\r?\n$/, ''), 'utf8');
    if (out.password.length === 0) throw new FleetFileError('fleet.passwordFile', fleet.passwordFile, 'is empty');
  }
  if (fleet.operatorKeys) out.operatorKeys = parseOperatorKeys(read('fleet.operatorKeys', fleet.operatorKeys, false).toString('utf8'), fleet.operatorKeys);
  return out;
}

/** The same checks as a list of problems (the config check reports rather than throws). */
export function checkFleetFiles(fleet: FleetConfig): Array<{ field: string; value: string; problem: string }> {
  try {
    loadFleetFiles(fleet);
    return [];
  } catch (err) {
    if (!(err instanceof FleetFileError)) throw err;
    return [{ field: err.field, value: err.file, problem: err.problem }];
  }
}

/** The operator's Ed25519 private key (kiosk fleet cmd): refused when group/world-readable. */
export function loadOperatorPrivateKey(file: string): KeyObject {
  const data = read('--key', file, true);
  let key: KeyObject;
  try {
    key = createPrivateKey(data);
  } catch {
    throw new FleetFileError('--key', file, 'not a PEM private key (kiosk fleet keygen makes one)');
  }
  if (key.asymmetricKeyType !== 'ed25519') throw new FleetFileError('--key', file, `a ${key.asymmetricKeyType} key; operator keys are Ed25519 (kiosk fleet keygen)`);
  return key;
}
