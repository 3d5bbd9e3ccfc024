/** The slice of a Prisma client (or transaction client) the messaging code needs: raw SQL. */
export interface SqlExecutor {
  $queryRawUnsafe<T = unknown>(query: string, ...values: unknown[]): Promise<T>;
  $executeRawUnsafe(query: string, ...values: unknown[]): Promise<number>;
}

/** A database that runs a callback in one transaction, handing it a transaction client TX. */
export interface TransactionalDb<TX extends SqlExecutor = SqlExecutor> {
  $transaction<R>(fn: (tx: TX) => Promise<R>, options?: { maxWait?: number; timeout?: number }): Promise<R>;
}
