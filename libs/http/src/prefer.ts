/**
 * RFC 7240 `Prefer: wait=N` on reads of asynchronous outcomes: the client asks the server to hold
 * the answer for up to N seconds until the outcome is final, instead of polling. The server says
 * it honoured the preference with `Preference-Applied: wait=<seconds it allowed>`; whether the
 * outcome is final is in the body, as without the preference.
 */
import { Type } from 'typebox';
import type { NotificationListener } from '@eventflow/platform/db';

/**
 * The `wait` preference in seconds, or undefined when there is none or it is not a valid
 * delta-seconds (RFC 7240 §2: a preference the server does not understand is ignored, not an
 * error). Several Prefer headers and comma-separated preferences are allowed; the first wait counts.
 */
export function preferredWaitSeconds(header: string | string[] | undefined): number | undefined {
  const values = header === undefined ? [] : Array.isArray(header) ? header : [header];
  for (const preference of values.flatMap((v) => v.split(','))) {
    const [token, ...rest] = (preference.split(';')[0] ?? '').split('=');
    if (token?.trim().toLowerCase() !== 'wait') continue;
    const value = rest.join('=').trim().replace(/^"(.*)"$/, '$1');
    return /^\d{1,9}$/.test(value) ? Number(value) : undefined;
  }
  return undefined;
}

/** The wait a request gets: its preference, at most `maxSeconds`; 0 when it has none or waiting is off. */
export function grantedWaitSeconds(header: string | string[] | undefined, maxSeconds: number): number {
  const wanted = preferredWaitSeconds(header);
  return wanted === undefined || maxSeconds <= 0 ? 0 : Math.min(wanted, maxSeconds);
}

/** The request header, for the route schemas (and so the OpenAPI documents). */
export const preferWaitHeaders = (what: string) =>
  Type.Object({
    prefer: Type.Optional(
      Type.String({
        description:
          `RFC 7240. \`wait=N\`: hold the answer until ${what}, at most N seconds (capped by the server's PREFER_WAIT_MAX_SECONDS, 30 by default), ` +
          'then answer with the current state. The response then carries `Preference-Applied: wait=<seconds granted>`. Without it the answer is immediate.',
        examples: ['wait=10'],
      }),
    ),
  });

/** The response header, for the route schemas (@fastify/swagger reads `headers` of a response). */
export const preferenceAppliedHeader = {
  'preference-applied': {
    type: 'string',
    description: 'Present when a `Prefer: wait` was honoured: `wait=<seconds granted>`. The answer came as soon as the state was final, or when that time was up.',
  },
} as const;

/** The setting of every service that honours `Prefer: wait`: spread into its config schema. */
export const preferWaitConfigSchema = {
  PREFER_WAIT_MAX_SECONDS: Type.Integer({
    minimum: 0,
    maximum: 300,
    default: 30,
    description: 'Longest `Prefer: wait=N` honoured on reads of asynchronous outcomes, in seconds; 0 answers at once and ignores the preference',
  }),
};

/** What a service hands its routes to honour `Prefer: wait`: the process's listener on the settling NOTIFYs and the cap. */
export interface PreferWait {
  listener: Pick<NotificationListener, 'waitUntil' | 'close'>;
  maxSeconds: number;
}

/**
 * Reads once; or, when the request prefers to wait and `wait` is given, until `isFinal` holds or
 * the granted time is up, re-reading only when `key` is notified. Sets `Preference-Applied` when
 * the preference was honoured, and `Vary: Prefer`.
 */
export async function readPreferringWait<T>(
  request: { headers: Record<string, string | string[] | undefined> },
  reply: { header(name: string, value: string): unknown },
  wait: PreferWait | undefined,
  key: string,
  read: () => Promise<T>,
  isFinal: (value: T) => boolean,
): Promise<T> {
  reply.header('vary', 'Prefer');
  const seconds = wait ? grantedWaitSeconds(request.headers['prefer'], wait.maxSeconds) : 0;
  if (!wait || seconds === 0) return read();
  reply.header('preference-applied', `wait=${seconds}`);
  return (await wait.listener.waitUntil(key, read, isFinal, seconds * 1_000)).value;
}

/** Shutting down answers every waiting request at once, with the current state: before the server waits for in-flight requests. */
export function answerWaitersOnClose(app: { addHook(name: 'preClose', hook: () => Promise<void>): unknown }, wait: PreferWait | undefined): void {
  const listener = wait?.listener;
  if (listener) app.addHook('preClose', async () => listener.close());
}
