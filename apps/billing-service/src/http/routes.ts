import { Type } from 'typebox';
import type { HttpServer, PreferWait, TokenVerifier } from '@eventflow/http';
import {
  HttpProblem,
  auditIdempotencyMismatches,
  authenticatedRoutes,
  amountSchema,
  callerOf,
  idempotencyKeyHeader,
  idempotencyKeyOf,
  paginationQuery,
  pruneIdempotencyKeysHourly,
  requireIdempotencyKey,
  requiredIdempotencyKeyHeader,
  preferWaitHeaders,
  preferenceAppliedHeader,
  problemResponses,
  readPreferringWait,
  userRefSchema,
  uuidSchema,
} from '@eventflow/http';
import { BillingError, type Ledger } from '../application/ledger.js';

const Account = Type.Object(
  {
    userId: Type.String({ format: 'uuid' }),
    balance: Type.Integer({ description: 'Balance in minor units.' }),
    createdAt: Type.String({ format: 'date-time' }),
    updatedAt: Type.String({ format: 'date-time' }),
  },
  { $id: 'Account' },
);

const LedgerEntry = Type.Object(
  {
    id: Type.String({ format: 'uuid' }),
    userId: Type.String({ format: 'uuid' }),
    kind: Type.Union([Type.Literal('DEPOSIT'), Type.Literal('WITHDRAWAL'), Type.Literal('ORDER_CHARGE')]),
    amount: Type.Integer(),
    balanceAfter: Type.Integer({ description: 'Balance after this entry, in minor units.' }),
    orderId: Type.Union([Type.String({ format: 'uuid' }), Type.Null()]),
    createdAt: Type.String({ format: 'date-time' }),
  },
  { $id: 'LedgerEntry' },
);

const AmountBody = Type.Object({ amount: amountSchema('Amount to move.') }, { additionalProperties: false });
const UserParams = Type.Object({ userId: userRefSchema });

const PaymentDecision = Type.Object(
  {
    orderId: Type.String({ format: 'uuid' }),
    status: Type.Union([Type.Literal('SUCCEEDED'), Type.Literal('FAILED')]),
    failureReason: Type.Union([Type.String(), Type.Null()], { description: 'Why the charge was refused, e.g. INSUFFICIENT_FUNDS.' }),
  },
  { description: "Billing's decision on the order; null while billing has not decided." },
);

/** `wait`: Prefer: wait on GET …/transactions?orderId=, woken by the NOTIFY of the transaction that records the payment. */
export function billingRoutes(app: HttpServer, ledger: Ledger, verify: TokenVerifier, wait?: PreferWait): void {
  const security = [{ bearerAuth: [] }];

  /** The caller may only name themselves; anyone else's account does not exist for them. */
  const ownUserId = (ref: string, callerId: string): string => {
    const userId = ref === 'me' ? callerId : ref;
    if (userId !== callerId) throw HttpProblem.notFound('No billing account for this user.');
    return userId;
  };

  app.addSchema(Account);
  app.addSchema(LedgerEntry);
  pruneIdempotencyKeysHourly(app, () => ledger.pruneIdempotencyKeys());
  authenticatedRoutes(app, verify, (scope) => {
    auditIdempotencyMismatches(scope);
    scope.get(
      '/billing/accounts/:userId',
      {
        schema: {
          tags: ['billing'],
          summary: "Read the caller's account and balance",
          security,
          params: UserParams,
          response: { 200: Type.Ref('Account'), ...problemResponses(400, 401, 404) },
        },
      },
      async (request) => {
        const userId = ownUserId(request.params.userId, callerOf(request).id);
        const account = await ledger.getAccount(userId);
        if (!account) throw new BillingError('ACCOUNT_NOT_FOUND', 'no account');
        return account;
      },
    );

    scope.get(
      '/billing/accounts/:userId/transactions',
      {
        schema: {
          tags: ['billing'],
          summary: "List the account's ledger, newest first",
          description: 'With `orderId`: only that order\'s charge, and billing\'s decision on it; with `Prefer: wait=N` as well, the answer waits until billing has decided, at most N seconds.',
          security,
          params: UserParams,
          querystring: Type.Object({
            limit: paginationQuery.properties.limit,
            orderId: Type.Optional(uuidSchema("Only this order's charge, with `payment`, billing's decision on it.")),
          }),
          headers: preferWaitHeaders('billing has charged or refused the order `orderId` (honoured with `orderId` only)'),
          response: {
            200: Type.Object(
              { items: Type.Array(Type.Ref('LedgerEntry')), payment: Type.Optional(Type.Union([PaymentDecision, Type.Null()])) },
              { headers: preferenceAppliedHeader },
            ),
            ...problemResponses(400, 401, 404),
          },
        },
      },
      async (request, reply) => {
        const userId = ownUserId(request.params.userId, callerOf(request).id);
        if (!(await ledger.getAccount(userId))) throw new BillingError('ACCOUNT_NOT_FOUND', 'no account');
        const { limit, orderId } = request.query;
        if (!orderId) return { items: await ledger.listTransactions(userId, limit) };
        // The decision first: once it is visible, so is the charge written in the same transaction.
        const read = async () => {
          const payment = await ledger.decisionOn(userId, orderId);
          return { items: await ledger.listTransactions(userId, limit, orderId), payment };
        };
        return readPreferringWait(request, reply, wait, orderId, read, (page) => page.payment !== null);
      },
    );

    // A withdrawal must carry an Idempotency-Key (428 without): retrying one blindly takes the
    // money twice. A deposit may (retrying one without a key deposits twice, the client's choice).
    for (const [path, kind, keyRequired] of [
      ['deposits', 'deposit', false],
      ['withdrawals', 'withdraw', true],
    ] as const) {
      scope.post(
        `/billing/accounts/:userId/${path}`,
        {
          ...(keyRequired ? { preValidation: requireIdempotencyKey } : {}),
          schema: {
            tags: ['billing'],
            summary: kind === 'deposit' ? 'Put money into the account' : 'Take money out of the account (never below zero)',
            security,
            params: UserParams,
            headers: keyRequired ? requiredIdempotencyKeyHeader : idempotencyKeyHeader,
            body: AmountBody,
            response: {
              201: Type.Ref('LedgerEntry'),
              200: Type.Ref('LedgerEntry'),
              ...problemResponses(400, 401, 404, 409, 413, 415, 422, ...(keyRequired ? [428] : [])),
            },
          },
        },
        async (request, reply) => {
          const userId = ownUserId(request.params.userId, callerOf(request).id);
          const { transaction, replayed } = await ledger[kind](userId, request.body.amount, idempotencyKeyOf(request, userId));
          return reply.code(replayed ? 200 : 201).send(transaction);
        },
      );
    }
  });
}
