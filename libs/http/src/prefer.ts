/**
 * RFC 7240 `Prefer: wait=N` on reads of asynchronous outcomes: the client asks the server to hold
 * the answer for up to N seconds until the outcome is final, instead of polling. The server says
 * it honoured the preference with `Preference-Applied: wait=<seconds it allowed>`; whether the
 * outcome is final is in the body, as without the preference.
 */
import { Type } from 'typebox';

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
export const preferWaitHeaders = (maxSeconds: number, what: string) =>
  Type.Object({
    prefer: Type.Optional(
      Type.String({
        description:
          `RFC 7240. \`wait=N\`: hold the answer until ${what}, at most N seconds (capped at ${maxSeconds} s by this server's PREFER_WAIT_MAX_SECONDS), ` +
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
