// Declares a route once, from the contract: method, path and schemas come from the operation in
// openapi.yaml with that operationId (STYLE.md §5); the scope it needs is stated next to it. The
// handler's params, query, body and reply are typed from the same operation in
// openapi/types.gen.ts, so route files need no casts.
import type { FastifyInstance, FastifyReply, FastifyRequest, RouteGenericInterface } from 'fastify'
import type { operations } from '../../openapi/types.gen.js'
import type { Scope } from '../auth/scopes.js'
import { operations as specOperations, routeSchema, type OpenApiDocument } from './openapi.js'

declare module 'fastify' {
  interface FastifyContextConfig {
    /** The scope a key needs; null = any authenticated principal; 'public' = no authentication. */
    scope?: Scope | null | 'public'
  }
}

export type OperationId = keyof operations

type Part<T, K extends string> = K extends keyof T ? Exclude<T[K], undefined> : never
type Parameters<Op extends OperationId> = operations[Op]['parameters']
type JsonOf<T> = T extends { content: infer C } ? (C extends { 'application/json': infer J } ? J : unknown) : unknown

/** The request body of an operation: its JSON body; a multipart operation's body is read as a stream. */
export type BodyOf<Op extends OperationId> = operations[Op] extends { requestBody: infer B }
  ? JsonOf<Exclude<B, undefined>>
  : operations[Op] extends { requestBody?: infer B }
    ? JsonOf<Exclude<B, undefined>>
    : undefined

/** The success responses of an operation (2xx), by status. */
type SuccessReplies<Op extends OperationId> = {
  [S in keyof operations[Op]['responses'] as S extends 200 | 201 | 202 | 204 ? S : never]: JsonOf<operations[Op]['responses'][S]>
}
export type ReplyOf<Op extends OperationId> = SuccessReplies<Op>[keyof SuccessReplies<Op>]

export interface RouteOf<Op extends OperationId> extends RouteGenericInterface {
  Params: Part<Parameters<Op>, 'path'>
  Querystring: Part<Parameters<Op>, 'query'>
  Body: BodyOf<Op>
  Headers: Part<Parameters<Op>, 'header'>
}

export type Handler<Op extends OperationId> = (
  request: FastifyRequest<RouteOf<Op>>,
  reply: FastifyReply<RouteOf<Op>>,
) => Promise<unknown>

export function declareRoute<Op extends OperationId>(
  app: FastifyInstance,
  spec: OpenApiDocument,
  operationId: Op,
  scope: Scope | null | 'public',
  handler: Handler<Op>,
  extra: { idempotent?: boolean } = {},
): void {
  const op = specOperations(spec).get(operationId)
  if (!op) throw new Error(`operation ${operationId} is not in openapi.yaml`)
  app.route<RouteOf<Op>>({
    method: op.method,
    url: op.path.replace(/\{([^}]+)\}/g, ':$1'),
    schema: routeSchema(spec, operationId),
    config: { scope, ...extra },
    handler,
  })
}
