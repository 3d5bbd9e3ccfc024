-- The inbox of @eventflow/messaging's idempotent consumer. Every service that consumes events has
-- this table; its migration history must build exactly this (checked by each service's migrations
-- test). Change it here, then add a migration to every such service.

-- CreateTable
CREATE TABLE "processed_events" (
    "consumer" TEXT NOT NULL,
    "event_id" UUID NOT NULL,
    "event_type" TEXT NOT NULL,
    "processed_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "processed_events_pkey" PRIMARY KEY ("consumer","event_id")
);
