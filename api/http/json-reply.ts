// A reply whose body is JSON already (api/json-bytes.ts): sent as it is, past the serialiser.
import type { FastifyReply } from 'fastify'
import type { JsonBytes } from '../json-bytes.js'
import type { OperationId, ReplyOf } from './route.js'

/** The content type Fastify gives a body it serialises as JSON. */
const JSON_CONTENT_TYPE = 'application/json; charset=utf-8'

/** Sends the JSON of an operation's 200 body as it is: the content type a serialised body gets, no serialiser. */
export function sendJsonBytes<Op extends OperationId>(reply: FastifyReply, _operationId: Op, bytes: JsonBytes<ReplyOf<Op>>): FastifyReply {
  return reply.type(JSON_CONTENT_TYPE).code(200).send(bytes)
}
