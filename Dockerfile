# One image for the four services, the migration commands and topic provisioning; the Helm chart
# runs it with a different command per component. Build: npm run images
ARG NODE_IMAGE=node:24.21.0-bookworm-slim

FROM ${NODE_IMAGE} AS build
WORKDIR /src
COPY package.json package-lock.json .puppeteerrc.cjs ./
COPY apps/user-service/package.json apps/user-service/
COPY apps/billing-service/package.json apps/billing-service/
COPY apps/order-service/package.json apps/order-service/
COPY apps/notification-service/package.json apps/notification-service/
COPY apps/system-tests/package.json apps/system-tests/
COPY libs/events/package.json libs/events/
COPY libs/messaging/package.json libs/messaging/
COPY libs/http/package.json libs/http/
COPY libs/platform/package.json libs/platform/
COPY libs/service/package.json libs/service/
COPY libs/testing/package.json libs/testing/
COPY libs/system-harness/package.json libs/system-harness/
RUN npm ci --no-audit --no-fund
COPY . .
RUN NX_DAEMON=false npx nx run-many -t build --projects='@eventflow/*-service,@eventflow/events' --outputStyle=static

FROM ${NODE_IMAGE} AS runtime
# V8 heap bounds (npm start, the tests and the bench run the services with the same environment,
# read from here by libs/system-harness): a young generation of 2 x 4 MB instead of growing to
# 2 x 64 MB under load (4 rather than 8 MB: 8 MB less per service for about 8 % more CPU per order,
# which stays well within the CPU budget; docs/performance.md), and an old-space limit of 256 MB, which also makes V8 grow the old space by
# about 1.3x the live set between full collections instead of up to 4x, within the chart's 384Mi
# limit. glibc's malloc: MALLOC_ARENA_MAX=2, else each of the process's threads (libuv's pool,
# V8's GC and compiler workers) gets an arena of its own that keeps what it once held; a fixed
# MALLOC_MMAP_THRESHOLD_ (1 MiB), else freeing one of argon2's 19 MiB buffers raises the threshold
# and later ones are carved from (and kept in) the arenas. Together: peak RSS per service at 60
# orders/s in the bench from 218-307 MB to 132-159 MB at the same CPU per order (semi-space 8 MB).
ENV NODE_ENV=production NODE_OPTIONS="--max-semi-space-size=4 --max-old-space-size=256" MALLOC_ARENA_MAX=2 MALLOC_MMAP_THRESHOLD_=1048576
WORKDIR /app
COPY --from=build /src/package.json /src/package-lock.json ./
COPY --from=build /src/apps/user-service/package.json apps/user-service/
COPY --from=build /src/apps/billing-service/package.json apps/billing-service/
COPY --from=build /src/apps/order-service/package.json apps/order-service/
COPY --from=build /src/apps/notification-service/package.json apps/notification-service/
COPY --from=build /src/apps/system-tests/package.json apps/system-tests/
COPY --from=build /src/libs/events/package.json libs/events/
COPY --from=build /src/libs/messaging/package.json libs/messaging/
COPY --from=build /src/libs/http/package.json libs/http/
COPY --from=build /src/libs/platform/package.json libs/platform/
COPY --from=build /src/libs/service/package.json libs/service/
COPY --from=build /src/libs/testing/package.json libs/testing/
COPY --from=build /src/libs/system-harness/package.json libs/system-harness/
# Production dependencies only; the workspace libraries are bundled into each dist/ already.
RUN npm ci --omit=dev --ignore-scripts --no-audit --no-fund && npm cache clean --force
COPY --from=build /src/apps/user-service/dist apps/user-service/dist
COPY --from=build /src/apps/user-service/prisma/migrations apps/user-service/prisma/migrations
COPY --from=build /src/apps/billing-service/dist apps/billing-service/dist
COPY --from=build /src/apps/billing-service/prisma/migrations apps/billing-service/prisma/migrations
COPY --from=build /src/apps/order-service/dist apps/order-service/dist
COPY --from=build /src/apps/order-service/prisma/migrations apps/order-service/prisma/migrations
COPY --from=build /src/apps/notification-service/dist apps/notification-service/dist
COPY --from=build /src/apps/notification-service/prisma/migrations apps/notification-service/prisma/migrations
COPY --from=build /src/libs/events/dist libs/events/dist
USER 10001:10001
CMD ["node", "apps/order-service/dist/main.js"]
