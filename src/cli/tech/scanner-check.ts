// kiosk doctor's scanner device check: present, a character device, and usable by the kiosk user (udev's
// group and mode on a real device; a pseudo-terminal of a kiosk dev rig or a test is checked as what it is).
import { accessSync, constants, readFileSync, realpathSync, statSync } from 'node:fs';
import type { Config } from '../../config/index.js';
import type { Check } from './format.js';
import { rooted, type Roots } from './probe.js';

/** Group name of a gid from <etc>/group. */
function groupName(roots: Roots, gid: number): string {
  try {
    for (const line of readFileSync(rooted(roots, '/etc/group'), 'utf8').split('\n')) {
      const [name, , id] = line.split(':');
      if (id !== undefined && Number(id) === gid) return name!;
    }
  } catch {
    /* no group file: show the number */
  }
  return `gid ${gid}`;
}

export function scannerCheck(config: Config, roots: Roots): Check {
  const name = 'scanner';
  if (config.scanner.driver === 'hid') {
    const path = config.scanner.path;
    try {
      const st = statSync(rooted(roots, path));
      if (!st.isCharacterDevice()) return { name, ok: false, detail: `${path} is not a character device`, fix: 'scanner.path must name the input device, e.g. /dev/input/by-id/usb-…-event-kbd' };
      const group = groupName(roots, st.gid);
      return (st.mode & 0o060) === 0o060
        ? { name, ok: true, detail: `${path} present (HID), group ${group}` }
        : { name, ok: false, detail: `${path} present, group ${group}, mode ${(st.mode & 0o777).toString(8)}`, fix: 'install device/99-kiosk-scanner.rules (rule 3: this device only, GROUP="dialout", MODE="0660")' };
    } catch {
      return { name, ok: false, detail: `${path} missing`, fix: 'plug the scanner in; ls /dev/input/by-id/ shows its -event-kbd name' };
    }
  }
  if (config.scanner.driver !== 'serial') return { name, ok: true, detail: `driver ${config.scanner.driver} (no device)` };
  return serialNodeCheck(name, config.scanner.path, roots, 'scanner.path', 'plug the scanner in; install device/udev rules (the /dev/kiosk-scanner symlink); for the UART enable it in /boot/firmware/config.txt');
}

/** A serial device node the kiosk opens (the scanner's, the MDB HAT's): present, a character device, usable. */
function serialNodeCheck(name: string, path: string, roots: Roots, field: string, missingFix: string): Check {
  const real = rooted(roots, path);
  let st;
  try {
    st = statSync(real);
  } catch {
    return { name, ok: false, detail: `${path} missing`, fix: missingFix };
  }
  if (!st.isCharacterDevice()) return { name, ok: false, detail: `${path} is not a character device`, fix: `${field} must name the serial device (e.g. /dev/kiosk-scanner, /dev/serial0, /dev/ttyACM0)` };
  const pty = ptyOf(real, st.rdev);
  if (pty) {
    // A kiosk dev rig (socat) or a test: the pty belongs to whoever made it; udev's group and mode never apply.
    try {
      accessSync(real, constants.R_OK | constants.W_OK);
      return { name, ok: true, detail: `${path} present: a pseudo-terminal (${pty}, a kiosk dev rig's or a test's ${name}), readable and writable by this user` };
    } catch {
      return { name, ok: false, detail: `${path} is a pseudo-terminal (${pty}) this user cannot read and write`, fix: 'run the command as the user that started the rig (kiosk dev) or the program that made the pty' };
    }
  }
  const group = groupName(roots, st.gid);
  const m = st.mode & 0o777;
  if (group !== 'dialout' || (m & 0o060) !== 0o060) {
    return { name, ok: false, detail: `${path} present, group ${group}, mode ${m.toString(8).padStart(4, '0')}`, fix: 'install the udev rule (GROUP="dialout", MODE="0660") and add the kiosk user to dialout: sudo usermod -aG dialout kiosk' };
  }
  return { name, ok: true, detail: `${path} present, group dialout, mode ${m.toString(8).padStart(4, '0')}` };
}

/**
 * kiosk doctor's check of the MDB HAT's port (docs/mdb.md): the device node as for the scanner, and on the Pi's UART
 * no serial console on it (a console writes login prompts into the HAT and eats its lines).
 */
export function mdbCheck(config: Config, roots: Roots): Check {
  const name = 'mdb HAT port';
  const mdb = config.mdb!;
  if (mdb.driver === 'sim') return { name, ok: true, detail: 'driver sim (no device)' };
  const node = serialNodeCheck(name, mdb.path, roots, 'mdb.path', 'seat the HAT (or plug the MDB-USB in); for the UART: enable_uart=1 in /boot/firmware/config.txt and reboot (docs/mdb.md)');
  if (!node.ok || !/^\/dev\/(serial0|ttyAMA0|ttyS0)$/.test(mdb.path)) return node;
  for (const file of ['/boot/firmware/cmdline.txt', '/boot/cmdline.txt']) {
    let text: string;
    try {
      text = readFileSync(rooted(roots, file), 'utf8');
    } catch {
      continue;
    }
    const console = /(?:^|\s)console=(serial0|ttyAMA0|ttyS0)\b/.exec(text);
    if (console) return { name, ok: false, detail: `${mdb.path} present, but ${file} puts the serial console on ${console[1]}`, fix: `remove console=${console[1]},… from ${file} (or sudo raspi-config nonint do_serial_cons 1) and reboot` };
    return { ...node, detail: `${node.detail}; no serial console in ${file}` };
  }
  return node;
}

/** The pty behind `path` (Unix98 pty slaves: /dev/pts/N, majors 136–143), or undefined for a real device. */
function ptyOf(path: string, rdev: number): string | undefined {
  let target = path;
  try {
    target = realpathSync(path);
  } catch {
    /* stat worked: keep the name */
  }
  const major = (rdev >> 8) & 0xfff;
  return target.startsWith('/dev/pts/') || (major >= 136 && major <= 143) ? target : undefined;
}
