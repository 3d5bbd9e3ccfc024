import { HttpProblem } from '@eventflow/http';
import { OrderNotFoundError } from '../domain/order.js';

/** order-service's domain errors as problem+json (createHttpServer's domainErrors). */
export function orderProblems(error: unknown): HttpProblem | undefined {
  if (error instanceof OrderNotFoundError) return HttpProblem.notFound(error.message);
  return undefined;
}
