// CRC-16/XMODEM (poly 0x1021, init 0x0000, no reflection, no final xor): the checksum of Grow GM frames.
// Checked against three commands published for the GM65/GM812 (docs/SCANNER-MODULES.md; the same algorithm as
// compute_crc16_xmodem in 3rdIteration/SerialBarcodeReaderTools serial-reader.py): test/hardware/modules-gm.test.ts.
const TABLE = (() => {
  const t = new Uint16Array(256);
  for (let i = 0; i < 256; i++) {
    let c = i << 8;
    for (let k = 0; k < 8; k++) c = c & 0x8000 ? ((c << 1) ^ 0x1021) & 0xffff : (c << 1) & 0xffff;
    t[i] = c;
  }
  return t;
})();

export function crc16Xmodem(data: Uint8Array): number {
  let crc = 0;
  for (const b of data) crc = ((crc << 8) & 0xffff) ^ TABLE[((crc >> 8) ^ b) & 0xff]!;
  return crc;
}
