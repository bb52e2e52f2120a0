// A reply whose body is JSON text already (api/json-text.ts): sent as it is, past the serialiser.
import type { FastifyReply } from 'fastify'
import type { JsonText } from '../json-text.js'
import type { OperationId, ReplyOf } from './route.js'

/** The content type Fastify gives a body it serialises as JSON. */
const JSON_CONTENT_TYPE = 'application/json; charset=utf-8'

/**
 * Sends the JSON text of an operation's 200 body as it is: the content type a serialised body gets,
 * no serialiser. As bytes: Node writes a large string behind the headers as one more string to
 * encode, a Buffer as it is (a 139 KB page: ~0.1 ms less CPU).
 */
export function sendJsonText<Op extends OperationId>(reply: FastifyReply, _operationId: Op, text: JsonText<ReplyOf<Op>>): FastifyReply {
  return reply.type(JSON_CONTENT_TYPE).code(200).send(Buffer.from(text))
}
