-- Fixed-window counters of the login and registration rate limits, shared by every replica of
-- user-service. UNLOGGED: a counter lost in a crash only resets a window early, and skipping the
-- WAL keeps the extra write per login cheap.
CREATE UNLOGGED TABLE "rate_limit_windows" (
    "key" TEXT NOT NULL,
    "count" INTEGER NOT NULL,
    "reset_at" TIMESTAMPTZ(3) NOT NULL,

    CONSTRAINT "rate_limit_windows_pkey" PRIMARY KEY ("key")
);

-- Expired windows are deleted in batches by reset_at.
CREATE INDEX "rate_limit_windows_reset_at_idx" ON "rate_limit_windows"("reset_at");
