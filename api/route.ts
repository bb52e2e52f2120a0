// Declares a route once, from the contract: method, path and schemas come from the operation in
// openapi.yaml with that operationId (STYLE.md §5); the scope it needs is stated next to it.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import type { Scope } from './auth/scopes.js'
import { operations, routeSchema, type OpenApiDocument } from './openapi.js'

declare module 'fastify' {
  interface FastifyContextConfig {
    /** The scope a key needs; null = any authenticated principal; 'public' = no authentication. */
    scope?: Scope | null | 'public'
  }
}

export type Handler = (request: FastifyRequest, reply: FastifyReply) => Promise<unknown>

export function declareRoute(
  app: FastifyInstance,
  spec: OpenApiDocument,
  operationId: string,
  scope: Scope | null | 'public',
  handler: Handler,
  extra: { idempotent?: boolean } = {},
): void {
  const op = operations(spec).get(operationId)
  if (!op) throw new Error(`operation ${operationId} is not in openapi.yaml`)
  app.route({
    method: op.method,
    url: op.path.replace(/\{([^}]+)\}/g, ':$1'),
    schema: routeSchema(spec, operationId),
    config: { scope, ...extra },
    handler,
  })
}
