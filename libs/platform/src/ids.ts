import { randomFillSync } from 'node:crypto';

// Random bytes for 256 ids at a time, each byte used once: one call into the CSPRNG per 256 ids
// instead of one per id (as node's own randomUUID does). Every outbox event and every order takes
// an id, and one getRandomValues per id was about 5 % of POST /orders' CPU (scripts/bench/placement.ts).
const randomPool = Buffer.alloc(16 * 256);
let poolOffset = randomPool.length;

/**
 * A time-ordered UUID (RFC 9562 version 7): 48 bits of Unix milliseconds, then 74 random bits.
 * New rows keyed by it land at the right-hand end of their B-tree indexes instead of at random
 * pages, so an insert dirties one hot page rather than one page per row; after each checkpoint
 * a random key costs a full-page image in the WAL for almost every insert into a large index.
 * Still unguessable enough for ids that are not secrets, and still a valid `uuid` column value.
 */
export function uuidv7(now: number = Date.now()): string {
  if (poolOffset === randomPool.length) {
    randomFillSync(randomPool);
    poolOffset = 0;
  }
  const bytes = Buffer.allocUnsafe(16);
  randomPool.copy(bytes, 0, poolOffset, poolOffset + 16);
  poolOffset += 16;
  let ms = now;
  for (let i = 5; i >= 0; i -= 1) {
    bytes[i] = ms % 256;
    ms = Math.floor(ms / 256);
  }
  bytes[6] = 0x70 | ((bytes[6] as number) & 0x0f); // version 7
  bytes[8] = 0x80 | ((bytes[8] as number) & 0x3f); // variant 10
  const hex = bytes.toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}
