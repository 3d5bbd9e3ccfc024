/**
 * Money is an integer number of minor units (cents) everywhere: bigint in PostgreSQL and
 * Prisma, Avro long on the wire, a JSON integer over HTTP. These bounds keep every amount and
 * balance exactly representable as a JavaScript number (below 2^53).
 */
export const maxAmount = 10_000_000_000; // 100 000 000.00 in one operation
export const maxBalance = 1_000_000_000_000_000; // 10 000 000 000 000.00

/** Converts a database bigint to a JSON-safe number, refusing anything out of range. */
export function toMinorUnits(value: bigint): number {
  if (value > BigInt(Number.MAX_SAFE_INTEGER) || value < BigInt(Number.MIN_SAFE_INTEGER)) {
    throw new RangeError(`amount ${value} is outside the exactly representable range`);
  }
  return Number(value);
}
