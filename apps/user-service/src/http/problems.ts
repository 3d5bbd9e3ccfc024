import { HttpProblem } from '@eventflow/http';
import { PasswordHashingBusyError } from '../application/hashing.js';
import { EmailTakenError, InvalidCredentialsError } from '../domain/user.js';

/** user-service's domain errors as problem+json (createHttpServer's domainErrors). */
export function userProblems(error: unknown): HttpProblem | undefined {
  if (error instanceof EmailTakenError) return HttpProblem.conflict('email-taken', 'E-mail already registered', error.message);
  if (error instanceof InvalidCredentialsError) return HttpProblem.unauthorized(error.message);
  if (error instanceof PasswordHashingBusyError) return HttpProblem.overloaded(error.message, error.retryAfterSeconds);
  return undefined;
}
