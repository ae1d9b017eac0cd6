// Which release of the kiosk this process runs, and where the other installed releases are.
// device/install.sh installs each version into /opt/kiosk/releases/<id>, writes release.json there and
// switches /opt/kiosk/current (and /opt/kiosk/previous) atomically; a checkout has no release.json.
import { readFileSync, readlinkSync, realpathSync, readdirSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export interface ReleaseInfo {
  /** The release id install.sh gave it (`<package version>-<content hash>`), or `<version> (checkout)`. */
  id: string;
  /** package.json's version. */
  version: string;
  /** The package root, symlinks resolved (/opt/kiosk/releases/<id> when installed). */
  root: string;
  /** Source commit when install.sh could read one. */
  commit?: string;
  installedAt?: string;
  /** True when root is a folder of <app>/releases/. */
  installed: boolean;
}

/** This program's package root: dist/src/release.js → ../../ */
export function packageRoot(): string {
  const here = dirname(fileURLToPath(import.meta.url));
  return realpathSafe(resolve(here, '../..'));
}

function realpathSafe(p: string): string {
  try {
    return realpathSync(p);
  } catch {
    return p;
  }
}

function readJson(file: string): Record<string, unknown> | undefined {
  try {
    const v = JSON.parse(readFileSync(file, 'utf8')) as unknown;
    return v && typeof v === 'object' ? (v as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

export function releaseInfo(root = packageRoot()): ReleaseInfo {
  const v = readJson(join(root, 'package.json'))?.version;
  const version = typeof v === 'string' ? v : '?';
  const rel = readJson(join(root, 'release.json'));
  const installed = basename(dirname(root)) === 'releases';
  return {
    id: typeof rel?.id === 'string' ? rel.id : installed ? basename(root) : `${version} (checkout)`,
    version,
    root,
    ...(typeof rel?.commit === 'string' && rel.commit ? { commit: rel.commit } : {}),
    ...(typeof rel?.installedAt === 'string' ? { installedAt: rel.installedAt } : {}),
    installed,
  };
}

export interface Releases {
  /** The install folder (/opt/kiosk), when this program is an installed release. */
  appDir?: string;
  current?: ReleaseInfo;
  previous?: ReleaseInfo;
  /** Every folder under releases/, oldest name first (install.sh prunes to a few). */
  kept: string[];
}

function linkTarget(appDir: string, name: string): ReleaseInfo | undefined {
  try {
    const target = readlinkSync(join(appDir, name));
    return releaseInfo(realpathSafe(resolve(appDir, target)));
  } catch {
    return undefined;
  }
}

/** The current and previous releases beside this one (nothing when run from a checkout). */
export function installedReleases(self: ReleaseInfo = releaseInfo()): Releases {
  if (!self.installed) return { kept: [] };
  const appDir = dirname(dirname(self.root));
  let kept: string[] = [];
  try {
    kept = readdirSync(join(appDir, 'releases'), { withFileTypes: true })
      .filter((d) => d.isDirectory() && !d.name.startsWith('.'))
      .map((d) => d.name)
      .sort();
  } catch {
    /* unreadable: listed as none */
  }
  const current = linkTarget(appDir, 'current');
  const previous = linkTarget(appDir, 'previous');
  return { appDir, ...(current ? { current } : {}), ...(previous ? { previous } : {}), kept };
}
