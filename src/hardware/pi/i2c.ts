// The Pi's I2C bus (/dev/i2c-N) through the i2c-bus package, loaded on first use (native module, absent off-Pi).
// Synchronous on purpose: johnny-five's LCD times the HD44780 (4.1 ms after reset, 1.5 ms after clear) with
// busy waits between writes; those waits only hold on the wire if each write is on the bus when it returns.
/** The part of i2c-bus's Bus the IO plugin uses (tests pass a fake). */
export interface I2cBusLike {
  i2cWriteSync(address: number, length: number, buffer: Buffer): number;
  i2cReadSync(address: number, length: number, buffer: Buffer): number;
  closeSync(): void;
}

export type I2cOpener = (busNumber: number) => Promise<I2cBusLike>;

export const openI2cBus: I2cOpener = async (busNumber) => {
  const name = 'i2c-bus';
  const mod = (await import(name)) as { default?: { openSync: (n: number) => I2cBusLike }; openSync?: (n: number) => I2cBusLike };
  const openSync = mod.openSync ?? mod.default?.openSync;
  if (!openSync) throw new Error('the i2c-bus package has no openSync');
  try {
    return openSync(busNumber);
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    const hint = e.code === 'ENOENT' ? ' (enable I2C: raspi-config → Interface Options → I2C, or dtparam=i2c_arm=on in /boot/firmware/config.txt)' : e.code === 'EACCES' ? ' (add the user to group i2c)' : '';
    throw Object.assign(new Error(`cannot open /dev/i2c-${busNumber}: ${e.message}${hint}`), { code: 'I2C_OPEN_FAILED', cause: err });
  }
};
