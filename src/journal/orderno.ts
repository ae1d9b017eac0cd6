// The form of an order number, in one place (the journal makes them; settlement tools read them).
//
//   <device prefix><yyyyMMdd><sequence, 6+ digits>_<run id, 10 chars>      e.g. K0120261201000007_k3m9q2x7ab
//
// Unique without trusting the journal: the run id is drawn at random (50 bits) each time a journal is opened
// for writing and is never stored anywhere it could be copied from to make new numbers. A journal that is
// fresh (lost SD card), restored from an older backup (its sequence goes back) or cloned onto a second kiosk
// (the same sequence twice) gets a new run id when it is opened, so it cannot make a number any journal made
// before. The sequence orders a run's numbers; the date is there for people and the settlement file.
// Numbers made before the run id existed (schema < 3) have no suffix; they are still read as ours.
import { randomBytes } from 'node:crypto';

/** Crockford's base32 in lower case (no i, l, o, u; never an R, which marks refund serials). */
const ALPHABET = '0123456789abcdefghjkmnpqrstvwxyz';
export const RUN_ID_LENGTH = 10;

/** A fresh random run id (10 × 5 bits). */
export function newRunId(random: (n: number) => Buffer = randomBytes): string {
  const bytes = random(RUN_ID_LENGTH);
  let out = '';
  for (let i = 0; i < RUN_ID_LENGTH; i++) out += ALPHABET[bytes[i]! & 31];
  return out;
}

export class OrderNoError extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = 'OrderNoError';
  }
}

/** Only letters and digits, at most 32: the device part of every order number. */
export function orderNoPrefix(deviceId: string): string {
  const clean = deviceId.replace(/[^A-Za-z0-9]/g, '').slice(0, 32);
  if (!clean) throw new OrderNoError('BAD_DEVICE_ID', `deviceId ${JSON.stringify(deviceId)} has no letters or digits to build order numbers from`);
  return clean;
}

/** The platform's limit for orderNo; a refund serial appends R<n>, so order numbers stay well under it. */
export const MAX_ORDER_NO = 64;
const MAX_OWN_ORDER_NO = MAX_ORDER_NO - 6;

export function formatOrderNo(deviceId: string, date: string, seq: number, runId: string): string {
  const no = `${orderNoPrefix(deviceId)}${date}${String(seq).padStart(6, '0')}_${runId}`;
  if (!/^[0-9]{8}$/.test(date)) throw new OrderNoError('BAD_DATE', `order date ${JSON.stringify(date)} is not yyyyMMdd`);
  if (no.length > MAX_OWN_ORDER_NO) throw new OrderNoError('ORDER_NO_TOO_LONG', `order number ${no} is longer than ${MAX_OWN_ORDER_NO} characters`);
  return no;
}

export interface ParsedOrderNo {
  date: string;
  seq: number;
  /** Absent on numbers made before run ids (schema < 3). */
  runId?: string;
}

/** The parts of an order number of this device's form, or undefined when it is not one. */
export function parseOrderNo(orderNo: string, deviceId: string): ParsedOrderNo | undefined {
  let prefix: string;
  try {
    prefix = orderNoPrefix(deviceId);
  } catch {
    return undefined;
  }
  if (!orderNo.startsWith(prefix)) return undefined;
  const m = /^(([0-9]{4})([0-9]{2})([0-9]{2}))([0-9]{6,})(?:_([0-9a-z]{10}))?$/.exec(orderNo.slice(prefix.length));
  if (!m || Number(m[3]) < 1 || Number(m[3]) > 12 || Number(m[4]) < 1 || Number(m[4]) > 31) return undefined;
  return m[6] ? { date: m[1]!, seq: Number(m[5]), runId: m[6] } : { date: m[1]!, seq: Number(m[5]) };
}
