import { HttpProblem } from '@eventflow/http';
import { BillingError } from '../application/ledger.js';

/** billing-service's domain errors as problem+json (createHttpServer's domainErrors). */
export function billingProblems(error: unknown): HttpProblem | undefined {
  if (!(error instanceof BillingError)) return undefined;
  switch (error.code) {
    case 'ACCOUNT_NOT_FOUND':
      return HttpProblem.notFound('No billing account for this user (it is opened shortly after registration).');
    case 'INSUFFICIENT_FUNDS':
      return HttpProblem.conflict('insufficient-funds', 'Insufficient funds', error.message, { balance: error.balance });
    case 'BALANCE_LIMIT_EXCEEDED':
      return HttpProblem.conflict('balance-limit-exceeded', 'Balance limit exceeded', error.message, { balance: error.balance });
  }
}
