// A self-signed X.509 certificate for the sandbox's platform key, so a kiosk loads the sandbox exactly like the
// real platform (a certificate file). Node has no certificate builder, hence this tiny ASN.1 DER writer.
import { sign, type KeyObject } from 'node:crypto';

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
