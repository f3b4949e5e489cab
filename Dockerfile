# Slipway image: one image for the worker (`node worker/main.ts`) and the API (`node api/server.ts`).
# Node 24 runs the TypeScript sources directly (type stripping), so the only build step is the prebuilt
# Temporal workflow bundle. The development sandbox has no container engine, so this file itself has
# not been built there; its steps have (a production-only `npm ci --omit=dev` of these folders plus the
# bundle runs the worker and the API against the local stack — see docs/operating.md).
FROM node:24-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci
COPY . .
RUN node worker/build-bundle.ts dist/workflow-bundle.js

FROM node:24-slim
ENV NODE_ENV=production
# jemalloc, which the worker's manifest preloads (LD_PRELOAD): at 1,000 releases it kept the worker
# under 1 GiB where glibc malloc did not (docs/performance.md, scale). One path on every architecture.
RUN apt-get update \
 && apt-get install -y --no-install-recommends libjemalloc2 \
 && rm -rf /var/lib/apt/lists/* \
 && ln -s "$(ls /usr/lib/*/libjemalloc.so.2 | head -n 1)" /usr/local/lib/libjemalloc.so.2
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev && npm cache clean --force
COPY --from=build /app/dist ./dist
COPY activities ./activities
COPY api ./api
COPY cli ./cli
COPY workflows ./workflows
COPY worker ./worker
USER 1000:1000
ENV SLIPWAY_WORKFLOW_BUNDLE=/app/dist/workflow-bundle.js
CMD ["node", "worker/main.ts"]
