import type { Static, TObject } from 'typebox';
import type { EventType } from '@eventflow/events';
import type { HttpServer, HttpServerOptions, PreferWait, ReadinessCheck, TokenVerifier } from '@eventflow/http';
import type { EventHandlers, MessagingConfig, SqlExecutor, TransactionalDb, WatchedGroup } from '@eventflow/messaging';
import type { Logger } from '@eventflow/platform';
import type { SqlTx } from '@eventflow/platform/db';
import type { commonConfigSchema } from '@eventflow/platform';

type CommonConfig = Static<TObject<typeof commonConfigSchema>>;

/**
 * The validated settings the runner reads. Every service's config schema spreads
 * commonConfigSchema and adds PORT; a service that publishes no events may leave out the OUTBOX_*
 * settings, one that consumes none CONSUMER_BATCH_SIZE, one without Prefer: wait leaves out PREFER_WAIT_MAX_SECONDS.
 */
export type ServiceConfig = Omit<CommonConfig, 'OUTBOX_POLL_INTERVAL_MS' | 'OUTBOX_BATCH_SIZE' | 'CONSUMER_BATCH_SIZE'> &
  MessagingConfig & { PORT: number; PREFER_WAIT_MAX_SECONDS?: number };

/**
 * createHttpServer settings that come from the config and are the same for every service (see
 * httpSettingsFor in run.ts). A buildApp spreads them into createHttpServer, so a new one is added
 * in @eventflow/http and the runner, not in each service.
 */
export type HttpSettings = Partial<Omit<HttpServerOptions, 'service' | 'version' | 'description' | 'prefix' | 'logger' | 'bodyLimit' | 'readiness' | 'domainErrors'>>;

/** What the runner hands a service's buildApp besides the service's own parts. */
export interface AppDeps {
  logger: Logger;
  verifyToken: TokenVerifier;
  readiness: ReadinessCheck[];
  bodyLimit: number;
  /** Present when the service declares preferWait. */
  wait?: PreferWait;
  /** Shared settings from the config; tests may leave them out (createHttpServer's defaults). */
  http?: HttpSettings;
}

/** The database a service hands the runner: its Prisma client. */
export type ServiceDb<TX extends SqlExecutor> = TransactionalDb<TX> & TransactionalDb<SqlExecutor> & { $disconnect(): Promise<void> };

/** The Kafka side's database: transactions of raw SQL (createSqlDb's pg pool in the services). */
export type EventsDb = TransactionalDb<SqlTx> & { $disconnect(): Promise<void> };

/** Past a backlog in a flow, a route refuses new work at once (503 + Retry-After). */
export interface AdmissionDeclaration {
  /** The route it guards, as Fastify names it. */
  route: { method: string; url: string };
  /** What is refused, for the problem detail ("new orders"). */
  what: string;
  /** 0 turns admission control off. */
  maxBacklogMs: number;
  /** The consumer groups the admitted work passes through; the service's own outbox always counts. */
  groups: WatchedGroup[];
}

/**
 * Everything that is specific to one service; @eventflow/service's runService builds and runs
 * the rest (tracing, logger, database, Kafka clients, token verifier, readiness, shutdown) from
 * the validated config.
 */
export interface ServiceDefinition<C extends ServiceConfig, TX extends SqlExecutor, Db extends ServiceDb<TX>, Parts extends object> {
  name: string;
  /** Validates the environment (the service's config.ts). */
  loadConfig: (env: Record<string, string | undefined>) => C;
  /** The service's Prisma client for a connection string. */
  database: (connectionString: string) => Db;
  /**
   * The database of the Kafka side (outbox relay, consumer, pruning): raw SQL on a plain pg pool
   * (createSqlDb, the default), since the per-event transactions through the ORM cost several
   * times the statements themselves (docs/performance.md). Handlers get its SqlTx.
   */
  eventsDatabase?: (connectionString: string) => EventsDb;
  /** The service's own objects (its use cases), built once. */
  parts: (context: { name: string; config: C; db: Db; logger: Logger }) => Parts | Promise<Parts>;
  /** The events it publishes through its outbox. */
  publishes?: {
    events: EventType[];
    /** Advisory-lock key of its relay (one relay per database publishes at a time). */
    lockKey: number;
    /** Its HTTP writes append to the outbox: the relay is nudged after each POST instead of waiting for its next poll. */
    fromHttp?: boolean;
  };
  /** What it consumes. */
  consumes?: (parts: Parts, config: C) => { groupId: string; topics: string[]; handlers: EventHandlers<SqlTx> };
  /** Prefer: wait on its reads: the NOTIFY channel its settling transactions signal (one LISTEN connection per process). */
  preferWait?: { channel: string };
  /** Its admission control, if any. */
  admission?: (config: C) => AdmissionDeclaration;
  /** Its HTTP side: routes and domain-error mapping (the service's buildApp, which tests call with inject). */
  app: (deps: AppDeps & Parts) => Promise<HttpServer>;
}

/** Identity, for type inference at the declaration site. */
export const defineService = <C extends ServiceConfig, TX extends SqlExecutor, Db extends ServiceDb<TX>, Parts extends object>(
  definition: ServiceDefinition<C, TX, Db, Parts>,
): ServiceDefinition<C, TX, Db, Parts> => definition;
