// How many times the kiosk wrote the module's flash, and the last setup: kept in a small JSON file next to the
// journal (flash has limited write cycles; a count that keeps rising means something resets the module).
import { closeSync, fsyncSync, openSync, readFileSync, renameSync, writeSync } from 'node:fs';

export interface ModuleState {
  saves: number;
  lastSetup?: { at: string; module: string; model: string; written: string[]; saved: boolean; matches: boolean };
}

export interface ModuleStateStore {
  load(): ModuleState;
  store(state: ModuleState): void;
}

export class MemoryStateStore implements ModuleStateStore {
  constructor(private state: ModuleState = { saves: 0 }) {}
  load(): ModuleState {
    return structuredClone(this.state);
  }
  store(state: ModuleState): void {
    this.state = structuredClone(state);
  }
}

/** Atomic replace (write a temp file, fsync, rename), mode 0600. A broken file counts from zero, never throws. */
export class FileStateStore implements ModuleStateStore {
  constructor(readonly file: string) {}
  load(): ModuleState {
    try {
      const v = JSON.parse(readFileSync(this.file, 'utf8')) as ModuleState;
      return { saves: Number.isInteger(v.saves) && v.saves >= 0 ? v.saves : 0, lastSetup: v.lastSetup };
    } catch {
      return { saves: 0 };
    }
  }
  store(state: ModuleState): void {
    const tmp = `${this.file}.${process.pid}.tmp`;
    const fd = openSync(tmp, 'w', 0o600);
    try {
      writeSync(fd, JSON.stringify(state) + '\n');
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(tmp, this.file);
  }
}
