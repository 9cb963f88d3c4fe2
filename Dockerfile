# syntax=docker/dockerfile:1
# Multi-stage: build with dev dependencies, run with production dependencies only.
FROM node:24-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json nest-cli.json ./
COPY src ./src
COPY web ./web
RUN npm run build && npm prune --omit=dev

FROM node:24-bookworm-slim AS runtime
ENV NODE_ENV=production \
    PORT=3000
WORKDIR /app
COPY --from=build --chown=node:node /app/package.json ./
COPY --from=build --chown=node:node /app/node_modules ./node_modules
COPY --from=build --chown=node:node /app/dist ./dist
# Where docker-compose.yml mounts the hookrun-keys volume: a new volume takes this folder's owner and mode,
# so that the keys service (as node) can write the keys there and no other user can read them.
RUN mkdir -p /var/lib/hookrun/keys && chown node:node /var/lib/hookrun/keys && chmod 0700 /var/lib/hookrun/keys
USER node
EXPOSE 3000
HEALTHCHECK --interval=10s --timeout=3s --start-period=20s --retries=3 \
  CMD node -e "fetch('http://127.0.0.1:'+(process.env.PORT||3000)+'/health/ready').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"
# Node flags as in package.json's hookrun.nodeFlags (a larger young generation: BENCHMARKS.md).
CMD ["node", "--max-semi-space-size=32", "--heap-growing-percent=200", "dist/main.js"]
