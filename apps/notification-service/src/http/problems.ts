import { HttpProblem } from '@eventflow/http';
import { ForbiddenRecipientError } from '../domain/emails.js';

/** notification-service's domain errors as problem+json (createHttpServer's domainErrors). */
export function notificationProblems(error: unknown): HttpProblem | undefined {
  if (error instanceof ForbiddenRecipientError) return new HttpProblem(403, 'forbidden-recipient', 'Forbidden recipient', error.message);
  return undefined;
}
