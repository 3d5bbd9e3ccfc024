-- Idempotency-Key records bound to their request (table owned by @eventflow/http, copied from
-- libs/http/prisma/idempotency.sql). Until now the key was a unique column of orders, which
-- replayed the earlier result even for a different request and never expired.

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

-- The keys of the last 24 hours (the retention) move over, each with the fingerprint its request
-- would have had: requestFingerprint of @eventflow/http, i.e. sha256 of the JSON array
-- [method, route pattern, user id, sha256 of the canonical JSON body], written out in SQL.
INSERT INTO "idempotency_keys" ("user_id", "key", "fingerprint", "resource_id", "created_at")
SELECT "user_id", "idempotency_key",
       encode(sha256(convert_to(
         '["POST","' || '/orders' || '","' || "user_id"::text || '","' ||
         encode(sha256(convert_to('{"price":' || "price"::text || '}', 'UTF8')), 'hex') || '"]', 'UTF8')), 'hex'),
       "id", "created_at"
FROM "orders"
WHERE "idempotency_key" IS NOT NULL AND "created_at" > now() - interval '24 hours';

-- The column stays as the record of the key a order was made with; its uniqueness goes (keys
-- expire and may be used again after the retention).
DROP INDEX "orders_user_id_idempotency_key_key";
