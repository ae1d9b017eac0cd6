// A self-signed X.509 certificate for the sandbox's platform key, so a kiosk loads the sandbox exactly like the
// real platform (a certificate file); and for `kiosk sandbox --tls` a CA and the server certificate it signs.
// Node has no certificate builder, hence this tiny ASN.1 DER writer.
import { createHash, createPrivateKey, createPublicKey, generateKeyPairSync, randomBytes, sign, type KeyObject } from 'node:crypto';
import { isIP, isIPv4 } from 'node:net';

function length(n: number): Buffer {
  if (n < 0x80) return Buffer.from([n]);
  const bytes: number[] = [];
  for (let v = n; v > 0; v = Math.floor(v / 256)) bytes.unshift(v & 0xff);
  return Buffer.from([0x80 | bytes.length, ...bytes]);
}

function tlv(tag: number, content: Buffer): Buffer {
  return Buffer.concat([Buffer.from([tag]), length(content.length), content]);
}

const seq = (...items: Buffer[]): Buffer => tlv(0x30, Buffer.concat(items));
const set = (...items: Buffer[]): Buffer => tlv(0x31, Buffer.concat(items));
const derNull = (): Buffer => Buffer.from([0x05, 0x00]);
const utf8 = (s: string): Buffer => tlv(0x0c, Buffer.from(s, 'utf8'));
const bitString = (bytes: Buffer): Buffer => tlv(0x03, Buffer.concat([Buffer.from([0]), bytes]));
const explicit = (n: number, inner: Buffer): Buffer => tlv(0xa0 + n, inner);

function integer(value: number): Buffer {
  const bytes: number[] = [];
  for (let v = value; v > 0; v = Math.floor(v / 256)) bytes.unshift(v & 0xff);
  if (bytes.length === 0 || bytes[0]! & 0x80) bytes.unshift(0);
  return tlv(0x02, Buffer.from(bytes));
}

function oid(dotted: string): Buffer {
  const parts = dotted.split('.').map(Number);
  const out: number[] = [40 * parts[0]! + parts[1]!];
  for (const p of parts.slice(2)) {
    const chunk: number[] = [p & 0x7f];
    for (let v = Math.floor(p / 128); v > 0; v = Math.floor(v / 128)) chunk.unshift(0x80 | (v & 0x7f));
    out.push(...chunk);
  }
  return tlv(0x06, Buffer.from(out));
}

/** UTCTime `YYMMDDHHMMSSZ` (years 1950–2049). */
function utcTime(d: Date): Buffer {
  const p = (n: number) => String(n).padStart(2, '0');
  const s = `${p(d.getUTCFullYear() % 100)}${p(d.getUTCMonth() + 1)}${p(d.getUTCDate())}${p(d.getUTCHours())}${p(d.getUTCMinutes())}${p(d.getUTCSeconds())}Z`;
  return tlv(0x17, Buffer.from(s, 'latin1'));
}

const SHA256_WITH_RSA = '1.2.840.113549.1.1.11';
const COMMON_NAME = '2.5.4.3';

export interface CertificateOptions {
  commonName?: string;
  serial?: number;
  notBefore?: Date;
  notAfter?: Date;
}

/**
 * A DER-encoded self-signed certificate for `publicKey`, signed with `privateKey`. Fixed default dates make
 * the certificate a pure function of the key pair (the same file on every start).
 */
export function selfSignedCertificate(publicKey: KeyObject, privateKey: KeyObject, options: CertificateOptions = {}): Buffer {
  const name = seq(set(seq(oid(COMMON_NAME), utf8(options.commonName ?? 'UMPay sandbox platform'))));
  const algorithm = seq(oid(SHA256_WITH_RSA), derNull());
  const spki = publicKey.export({ type: 'spki', format: 'der' });
  const tbs = seq(
    explicit(0, integer(2)), // version 3
    integer(options.serial ?? 1),
    algorithm,
    name,
    seq(utcTime(options.notBefore ?? new Date(Date.UTC(2024, 0, 1))), utcTime(options.notAfter ?? new Date(Date.UTC(2049, 11, 31)))),
    name,
    spki,
  );
  return seq(tbs, algorithm, bitString(sign('sha256', tbs, privateKey)));
}

/** PEM armour around a DER certificate. */
export function certificatePem(der: Buffer): string {
  const b64 = der.toString('base64').replace(/(.{64})/g, '$1\n').replace(/\n$/, '');
  return `-----BEGIN CERTIFICATE-----\n${b64}\n-----END CERTIFICATE-----\n`;
}

// ---- TLS: a CA and a server certificate it signs, for `kiosk sandbox --tls` (tls.ts) ----

const ECDSA_WITH_SHA256 = '1.2.840.10045.4.3.2';
const octets = (b: Buffer): Buffer => tlv(0x04, b);
const bool = (v: boolean): Buffer => Buffer.from([0x01, 0x01, v ? 0xff : 0x00]);

function extension(id: string, critical: boolean, value: Buffer): Buffer {
  return seq(oid(id), ...(critical ? [bool(true)] : []), octets(value));
}

/** SHA-1 of the public key's bits (RFC 5280 §4.2.1.2 method 1 over the whole SPKI, enough for matching). */
function keyId(publicKey: KeyObject): Buffer {
  return createHash('sha1').update(publicKey.export({ type: 'spki', format: 'der' })).digest();
}

function ipBytes(ip: string): Buffer {
  if (isIPv4(ip)) return Buffer.from(ip.split('.').map(Number));
  const [head = '', tail = ''] = ip.split('::');
  const words = (s: string) => (s ? s.split(':').map((w) => parseInt(w, 16)) : []);
  const h = words(head);
  const t = ip.includes('::') ? words(tail) : [];
  const all = [...h, ...new Array<number>(8 - h.length - t.length).fill(0), ...t];
  return Buffer.from(all.flatMap((w) => [w >> 8, w & 0xff]));
}

export interface IssuedCertificate {
  /** PEM of the certificate. */
  cert: string;
  /** PKCS#8 PEM of its private key. */
  key: string;
}

const CA_NAME = 'UMPay sandbox CA';

/**
 * A certificate authority (ECDSA P-256, CA:TRUE, keyCertSign) whose certificate a client configures as the one
 * it trusts (gateway.ca), and server certificates it signs for `hosts` (names and IP addresses). `existing`: the
 * same CA again (its files from an earlier start), so a client configured with it keeps working.
 */
export function certificateAuthority(existing?: IssuedCertificate): { ca: IssuedCertificate; issue(hosts: string[]): IssuedCertificate } {
  const caPrivate = existing ? createPrivateKey(existing.key) : generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey;
  const caKeys = { privateKey: caPrivate, publicKey: createPublicKey(caPrivate) };
  const caName = seq(set(seq(oid(COMMON_NAME), utf8(CA_NAME))));
  const caId = keyId(caKeys.publicKey);
  const make = (subject: Buffer, publicKey: KeyObject, extensions: Buffer[]): string => {
    const algorithm = seq(oid(ECDSA_WITH_SHA256));
    const tbs = seq(
      explicit(0, integer(2)),
      tlv(0x02, Buffer.concat([Buffer.from([0x01]), randomBytes(15)])), // 16-byte positive serial, unique per issue
      algorithm,
      caName,
      seq(utcTime(new Date(Date.UTC(2024, 0, 1))), utcTime(new Date(Date.UTC(2049, 11, 31)))),
      subject,
      publicKey.export({ type: 'spki', format: 'der' }),
      explicit(3, seq(...extensions)),
    );
    return certificatePem(seq(tbs, algorithm, bitString(sign('sha256', tbs, caKeys.privateKey))));
  };
  const ca: IssuedCertificate = existing ?? {
    cert: make(caName, caKeys.publicKey, [
      extension('2.5.29.19', true, seq(bool(true))), // basicConstraints CA:TRUE
      extension('2.5.29.15', true, Buffer.from([0x03, 0x02, 0x01, 0x06])), // keyUsage keyCertSign, cRLSign
      extension('2.5.29.14', false, octets(caId)), // subjectKeyIdentifier
    ]),
    key: caKeys.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
  };
  const issue = (hosts: string[]): IssuedCertificate => {
    const keys = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const names = hosts.map((h) => (isIP(h) ? tlv(0x87, ipBytes(h)) : tlv(0x82, Buffer.from(h, 'ascii'))));
    const subject = seq(set(seq(oid(COMMON_NAME), utf8(hosts[0] ?? 'localhost'))));
    const cert = make(subject, keys.publicKey, [
      extension('2.5.29.19', true, seq()), // basicConstraints CA:FALSE
      extension('2.5.29.15', true, Buffer.from([0x03, 0x02, 0x07, 0x80])), // keyUsage digitalSignature
      extension('2.5.29.37', false, seq(oid('1.3.6.1.5.5.7.3.1'))), // extKeyUsage serverAuth
      extension('2.5.29.17', false, seq(...names)), // subjectAltName
      extension('2.5.29.35', false, seq(tlv(0x80, caId))), // authorityKeyIdentifier
    ]);
    return { cert, key: keys.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString() };
  };
  return { ca, issue };
}
