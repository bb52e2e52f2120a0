# One image for the API, the workers and the one-shot setup (migrate + bootstrap admin key).
FROM node:20-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY api api
COPY workers workers
COPY migrations migrations
COPY scripts scripts
COPY openapi openapi
RUN npm run build && npm prune --omit=dev

FROM node:20-bookworm-slim
ENV NODE_ENV=production HOST=0.0.0.0 PORT=3000 BLOB_DIR=/data/blobs
WORKDIR /app
COPY --from=build /app/node_modules node_modules
COPY --from=build /app/dist dist
COPY package.json ./
COPY openapi openapi
RUN mkdir -p /data/blobs /app/.data && chown -R node:node /data /app/.data
USER node
EXPOSE 3000
CMD ["node", "dist/api/http/server.js"]
