import { describe, expect, it } from 'vitest';
import { PoisonMessageError, RetryableError } from '@eventflow/platform';
import { classifyFailure, sqlStateOf } from './failures.js';

/** The shape Prisma 7 (adapter-pg) throws for a failed query: a P-code, the SQLSTATE inside meta. */
const prismaError = (code: string, sqlState?: string, kind = 'postgres') =>
  Object.assign(new Error(`Invalid invocation (${code})`), {
    name: 'PrismaClientKnownRequestError',
    code,
    clientVersion: '7.10.1',
    meta: { driverAdapterError: { name: 'DriverAdapterError', cause: { ...(sqlState ? { originalCode: sqlState } : {}), kind } } },
  });
/** The shape node-postgres throws for an error the server reports. */
const pgError = (code: string) => Object.assign(new Error(`server error ${code}`), { code, severity: 'ERROR' });
const systemError = (code: string) => Object.assign(new Error(`connect ${code} 127.0.0.1:5432`), { code, syscall: 'connect' });

const kindOf = (error: unknown) => classifyFailure(error).kind;

describe('classifyFailure', () => {
  it('takes PoisonMessageError as poison and RetryableError as transient', () => {
    expect(kindOf(new PoisonMessageError('bad'))).toBe('poison');
    expect(kindOf(new RetryableError('later'))).toBe('transient');
  });

  it.each([
    ['22P02', 'invalid text representation (a UUID cast)'],
    ['22003', 'numeric value out of range'],
    ['22001', 'string data right truncation'],
    ['23502', 'not-null violation'],
    ['23514', 'check violation'],
  ])('treats SQLSTATE %s (%s) as poison, from Prisma and from node-postgres', (code) => {
    expect(classifyFailure(prismaError('P2010', code))).toEqual({ kind: 'poison', reason: `SQLSTATE ${code}` });
    expect(kindOf(pgError(code))).toBe('poison');
  });

  it.each([
    ['40001', 'serialization failure'],
    ['40P01', 'deadlock'],
    ['57P01', 'admin shutdown (fast shutdown of the server)'],
    ['57P03', 'cannot connect now (server starting)'],
    ['08006', 'connection failure'],
    ['53300', 'too many connections'],
  ])('treats SQLSTATE %s (%s) as transient', (code) => {
    expect(classifyFailure(prismaError('P2010', code))).toEqual({ kind: 'transient', reason: `SQLSTATE ${code}` });
    expect(kindOf(pgError(code))).toBe('transient');
  });

  it('leaves unique and foreign-key violations and unknown SQLSTATEs to the bounded retry', () => {
    expect(kindOf(prismaError('P2002', '23505'))).toBe('unknown');
    expect(kindOf(pgError('23503'))).toBe('unknown');
    expect(kindOf(prismaError('P2010', '42P01'))).toBe('unknown');
  });

  it('reads Prisma codes and adapter kinds that carry no SQLSTATE', () => {
    expect(kindOf(prismaError('P1001', undefined, 'DatabaseNotReachable'))).toBe('transient');
    expect(kindOf(prismaError('P2028', undefined, 'TransactionAlreadyClosed'))).toBe('transient');
    expect(kindOf(prismaError('P2024'))).toBe('transient');
    expect(kindOf(prismaError('P2000'))).toBe('poison');
    expect(kindOf(Object.assign(new Error('Argument `amount` is missing.'), { name: 'PrismaClientValidationError' }))).toBe('poison');
  });

  it('treats lost connections as transient', () => {
    expect(kindOf(systemError('ECONNREFUSED'))).toBe('transient');
    expect(kindOf(systemError('ECONNRESET'))).toBe('transient');
    expect(kindOf(new Error('Connection terminated unexpectedly'))).toBe('transient');
  });

  it('treats a domain RangeError as poison, a plain bug as unknown', () => {
    expect(kindOf(new RangeError('amount must be positive, got -5'))).toBe('poison');
    expect(kindOf(new TypeError("Cannot read properties of undefined (reading 'id')"))).toBe('unknown');
    expect(kindOf(new Error('something else'))).toBe('unknown');
    expect(kindOf('a string')).toBe('unknown');
  });

  it('looks through wrapping errors to their cause', () => {
    expect(kindOf(new Error('transaction failed', { cause: pgError('40P01') }))).toBe('transient');
    expect(kindOf(new Error('handler failed', { cause: pgError('22P02') }))).toBe('poison');
  });

  it('does not mistake a Prisma P-code for a SQLSTATE', () => {
    expect(sqlStateOf({ code: 'P2010', clientVersion: '7' })).toBeUndefined();
    expect(sqlStateOf(pgError('22P02'))).toBe('22P02');
  });
});
