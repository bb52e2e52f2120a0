// Declares a route once, from the contract: method, path and schemas (success and error responses)
// come from the operation in openapi.yaml with that operationId (STYLE.md §5); the scope it needs is
// stated next to it. The handler's params, query, body and reply are typed from the same operation
// in openapi/types.gen.ts, so route files need no casts.
//
// How to declare a new route:
//   1. Add the operation to openapi/openapi.yaml (operationId, schemas, error responses) and run
//      `npm run generate`.
//   2. In api/http/routes/<feature>.routes.ts:
//        declareRoute(app, spec, 'getThing', 'things:read', async (req) =>
//          things.getThing(deps, req.principal, req.params.thingId))
//      The handler returns the contract's success body (a view typed `components['schemas'][…]`),
//      or sends it itself with headers — then call `.code(status)` last, right before `.send(body)`:
//        return reply.header('Location', `/v1/things/${t.id}`).code(201).send(t)
//      (Fastify types `send` by the status `code` set; after `.header()` it forgets it.)
//      A service that returns the body as JSON already (JsonBytes, e.g. written by PostgreSQL)
//      has it sent as it is, past the serialiser: `sendJsonBytes(reply, 'getThing', bytes)` (json-reply.ts).
//   3. Refusals are thrown (DomainError), never sent: api/http/plugins/errors.ts renders them.
//   No `as` and no `!` in route files: if a type does not fit, the contract or the view is wrong.
import type { IncomingMessage, ServerResponse } from 'node:http'
import type { FastifyInstance, RawServerDefault, RouteGenericInterface, RouteHandlerMethod } from 'fastify'
import type { operations } from '../../openapi/types.gen.js'
import type { Scope } from '../domain/scopes.js'
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

type Responses<Op extends OperationId> = operations[Op]['responses']
/** A response's JSON body; one without content (204) has none; another media type is not JSON's. */
type ResponseBody<R> = R extends { content: infer C } ? (C extends { 'application/json': infer J } ? J : unknown) : undefined

/** The success replies of an operation (2xx), by status, as the contract defines them. */
export type RepliesOf<Op extends OperationId> = {
  [S in keyof Responses<Op> as S extends 200 | 201 | 202 | 204 ? S : never]: ResponseBody<Responses<Op>[S]>
}
/** The body of any success reply of an operation. */
export type ReplyOf<Op extends OperationId> = RepliesOf<Op>[keyof RepliesOf<Op>]

/**
 * The request parts as Fastify validated them against the operation's schemas, and the replies:
 * `reply.code(201).send(x)` takes only the contract's 201 body.
 */
export interface RouteOf<Op extends OperationId> extends RouteGenericInterface {
  Params: Part<Parameters<Op>, 'path'>
  Querystring: Part<Parameters<Op>, 'query'>
  Body: BodyOf<Op>
  Headers: Part<Parameters<Op>, 'header'>
  Reply: RepliesOf<Op>
}

/**
 * A handler returns the contract's success body (sent with 200), or the reply it sent itself
 * (`reply.header(…).code(201).send(body)`, the body typed by that status).
 */
export type Handler<Op extends OperationId> = RouteHandlerMethod<RawServerDefault, IncomingMessage, ServerResponse, RouteOf<Op>>

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
