import type { OutboxRow } from './outbox.js';

/** An outbox insert to put in a statement of the caller's: its SQL and the values of its placeholders. */
export interface OutboxInsert {
  /** `INSERT INTO outbox_events …` with placeholders $first … $first+5. */
  sql: string;
  values: unknown[];
}

/**
 * appendToOutbox as a fragment of a larger statement, for a hot path that writes its state
 * change and its event in ONE round trip: `WITH …, published AS (${insert.sql}) SELECT …`, the
 * caller's own values first and `...insert.values` after them. The table stays this library's
 * (outbox.sql); only the statement that fills it moves. With `onlyIfRowsIn: 'cte'` the event is
 * written once per row of that earlier CTE (one that returns at most one row: "only if it happened").
 */
export function outboxInsert(row: OutboxRow, first: number, options: { onlyIfRowsIn?: string } = {}): OutboxInsert {
  const $ = (i: number) => `$${first + i}`;
  const columns = `${$(0)}::uuid, ${$(1)}, ${$(2)}, ${$(3)}, ${$(4)}::jsonb, ${$(5)}::jsonb`;
  return {
    sql: `INSERT INTO outbox_events (event_id, event_type, topic, key, payload, headers)
       ${options.onlyIfRowsIn ? `SELECT ${columns} FROM ${options.onlyIfRowsIn}` : `VALUES (${columns})`}`,
    values: [row.eventId, row.eventType, row.topic, row.key, JSON.stringify(row.payload), JSON.stringify(row.headers)],
  };
}
