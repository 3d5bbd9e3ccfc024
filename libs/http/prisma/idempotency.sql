-- Idempotency-Key records of @eventflow/http (src/idempotency.ts): one row per user and key, with
-- the fingerprint of the request that first used the key and the id of what it created. Written in
-- the same transaction as the effect. Every service whose routes accept an Idempotency-Key has this
-- table; its migration history must build exactly this (checked by each service's migrations test).
-- Change it here, then add a migration to every such service.

-- CreateTable
CREATE TABLE "idempotency_keys" (
    "user_id" UUID NOT NULL,
    "key" TEXT NOT NULL,
    "fingerprint" TEXT NOT NULL,
    "resource_id" UUID,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "idempotency_keys_pkey" PRIMARY KEY ("user_id","key")
);

-- CreateIndex
CREATE INDEX "idempotency_keys_created_at_idx" ON "idempotency_keys"("created_at");
