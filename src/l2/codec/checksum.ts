/** The Internet checksum (RFC 1071): one's complement of the one's-complement sum of 16-bit words. */

/** Adds `bytes` to a running 32-bit accumulator of 16-bit big-endian words (odd tail padded). */
export function onesComplementAdd(sum: number, bytes: Uint8Array): number {
  let acc = sum;
  const end = bytes.length - (bytes.length % 2);
  for (let i = 0; i < end; i += 2) acc += ((bytes[i] ?? 0) << 8) | (bytes[i + 1] ?? 0);
  if (end < bytes.length) acc += (bytes[end] ?? 0) << 8;
  // Fold often enough that the accumulator never leaves the safe integer range.
  while (acc > 0xffff) acc = (acc & 0xffff) + Math.floor(acc / 0x10000);
  return acc;
}

/** Final checksum value to store in a header, from a folded accumulator. */
export function finishChecksum(sum: number): number {
  let acc = sum;
  while (acc > 0xffff) acc = (acc & 0xffff) + Math.floor(acc / 0x10000);
  return ~acc & 0xffff;
}

export function internetChecksum(bytes: Uint8Array): number {
  return finishChecksum(onesComplementAdd(0, bytes));
}
