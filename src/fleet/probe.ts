// `kiosk doctor`'s fleet check: the files the section names, then one MQTT connection to the broker
// (its own client id: the daemon's session is left alone) that must be accepted within a few seconds.
import { connect } from 'mqtt';
import type { FleetConfig } from '../config/fleet.js';
import { FleetFileError, loadFleetFiles } from './files.js';

export async function probeBroker(fleet: FleetConfig, deviceId: string, timeoutMs = 5000): Promise<{ ok: boolean; detail: string; fix?: string }> {
  let files;
  try {
    files = loadFleetFiles(fleet);
  } catch (err) {
    if (err instanceof FleetFileError) return { ok: false, detail: `${err.field}: ${err.message}`, fix: 'see docs/fleet.md, "Config"' };
    throw err;
  }
  const started = Date.now();
  const client = connect(fleet.url, {
    protocolVersion: fleet.protocolVersion,
    clientId: `kiosk-${deviceId}-doctor-${process.pid}`,
    reconnectPeriod: 0,
    // Ours (below) says it, also while the TCP connect itself hangs; MQTT.js's is only a backstop.
    connectTimeout: 2 * timeoutMs,
    ...(fleet.username ? { username: fleet.username } : {}),
    ...(files.password ? { password: files.password } : {}),
    ...(files.ca ? { ca: files.ca } : {}),
    ...(files.cert ? { cert: files.cert } : {}),
    ...(files.key ? { key: files.key } : {}),
  });
  const r = await new Promise<{ ok: boolean; detail: string }>((resolve) => {
    const timer = setTimeout(() => resolve({ ok: false, detail: `${fleet.url}: no answer within ${timeoutMs} ms` }), timeoutMs);
    client.once('connect', () => {
      clearTimeout(timer);
      resolve({ ok: true, detail: `${fleet.url}: connected in ${Date.now() - started} ms (MQTT ${fleet.protocolVersion === 5 ? '5' : '3.1.1'}), ${files.operatorKeys.length} operator key(s)` });
    });
    client.once('error', (err) => {
      clearTimeout(timer);
      resolve({ ok: false, detail: `${fleet.url}: ${err.message}` });
    });
  });
  await new Promise<void>((res) => client.end(true, {}, () => res()));
  return r.ok ? r : { ...r, fix: 'check fleet.url, the network to the broker, and the broker login (username/passwordFile or client certificate)' };
}
