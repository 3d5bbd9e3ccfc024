import type { SqlExecutor, TransactionalDb } from './sql.js';

export interface RetentionPolicy {
  /** Published outbox rows are only history once Kafka has them. */
  outboxDays: number;
  /**
   * Processed event ids must outlive every possible redelivery: twice the topics' retention
   * (7 days), since no broker can hand out an event older than that.
   */
  processedEventsDays: number;
}

export const defaultRetention: RetentionPolicy = { outboxDays: 7, processedEventsDays: 14 };

/** Deletes what the outbox and the inbox no longer need; returns how many rows went. */
export async function pruneMessagingTables(
  db: TransactionalDb<SqlExecutor>,
  tables: { outbox: boolean; inbox: boolean },
  retention: RetentionPolicy = defaultRetention,
): Promise<{ outbox: number; inbox: number }> {
  return db.$transaction(async (tx) => ({
    outbox: tables.outbox
      ? await tx.$executeRawUnsafe(
          `DELETE FROM outbox_events WHERE published_at IS NOT NULL AND published_at < now() - make_interval(days => $1)`,
          retention.outboxDays,
        )
      : 0,
    inbox: tables.inbox
      ? await tx.$executeRawUnsafe(`DELETE FROM processed_events WHERE processed_at < now() - make_interval(days => $1)`, retention.processedEventsDays)
      : 0,
  }));
}
