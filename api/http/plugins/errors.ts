// The one error handler (STYLE.md §7): domain errors, the shell's Problems, validation errors and the unexpected all
// become RFC 9457 problem+json. A 5xx body never carries internal text.
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import fp from 'fastify-plugin'
import { isDatabaseUnavailable } from '../../db/errors.js'
import { DomainError, type InvalidField } from '../../domain/errors.js'
import { Problem, STATUS_OF_KIND } from '../problem.js'
import { toInvalidParams } from '../../validation-errors.js'

const TITLES: Record<number, string> = {
  400: 'Bad Request',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'Not Found',
  405: 'Method Not Allowed',
  406: 'Not Acceptable',
  409: 'Conflict',
  412: 'Precondition Failed',
  413: 'Content Too Large',
  415: 'Unsupported Media Type',
  422: 'Unprocessable Content',
  428: 'Precondition Required',
  429: 'Too Many Requests',
  500: 'Internal Server Error',
  503: 'Service Unavailable',
}

export const problemType = (code: string): string => `urn:regiobalie:problem:${code}`

export function sendProblem(
  request: FastifyRequest,
  reply: FastifyReply,
  status: number,
  code: string,
  detail: string,
  invalidParams?: InvalidField[],
): FastifyReply {
  const body: Record<string, unknown> = {
    type: problemType(code),
    title: TITLES[status] ?? 'Error',
    status,
    detail,
    instance: request.url.split('?')[0],
    code,
    requestId: request.id,
  }
  if (invalidParams) body.invalidParams = invalidParams
  return reply.code(status).type('application/problem+json').serializer(JSON.stringify).send(body)
}

// Fastify's own client errors, with stable codes of ours.
const FASTIFY_CODES: Record<string, string> = {
  FST_ERR_CTP_INVALID_MEDIA_TYPE: 'unsupported-media-type',
  FST_ERR_CTP_BODY_TOO_LARGE: 'payload-too-large',
  FST_ERR_CTP_EMPTY_JSON_BODY: 'malformed-request',
  FST_ERR_CTP_INVALID_JSON_BODY: 'malformed-request',
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: 'malformed-request',
  FST_INVALID_MULTIPART_CONTENT_TYPE: 'malformed-request',
  FST_PROTO_VIOLATION: 'malformed-request',
}

export const errorsPlugin = fp(
  async (app: FastifyInstance) => {
    app.setErrorHandler((error: FastifyError | Problem | DomainError, request, reply) => {
      if (error instanceof DomainError) {
        if (error.kind === 'unauthenticated') void reply.header('WWW-Authenticate', 'Bearer realm="regiobalie"')
        return sendProblem(request, reply, STATUS_OF_KIND[error.kind], error.code, error.message, error.invalidFields)
      }
      if (error instanceof Problem) {
        if (error.headers) void reply.headers(error.headers)
        return sendProblem(request, reply, error.status, error.code, error.message, error.invalidParams)
      }
      if (error.validation) {
        const params = toInvalidParams(error.validation, error.validationContext)
        return sendProblem(request, reply, 400, 'invalid-request', 'the request has invalid fields', params)
      }
      if (isDatabaseUnavailable(error)) {
        // PostgreSQL restarting, away or hung: a clean, retryable answer instead of a 500.
        request.log.warn({ err: (error as Error).message }, 'database unavailable')
        void reply.header('Retry-After', '5')
        return sendProblem(request, reply, 503, 'database-unavailable', 'the database does not answer right now; try again shortly')
      }
      const status = error.statusCode ?? 500
      if (status >= 400 && status < 500) {
        const code = FASTIFY_CODES[error.code] ?? (status === 413 ? 'payload-too-large' : 'malformed-request')
        return sendProblem(request, reply, status, code, error.message)
      }
      request.log.error({ err: error }, 'unexpected error')
      return sendProblem(request, reply, 500, 'internal-error', 'something went wrong on our side; quote the requestId when you report it')
    })
    app.setNotFoundHandler((request, reply) => sendProblem(request, reply, 404, 'route-not-found', `no route ${request.method} ${request.url.split('?')[0]}`))
  },
  { name: 'errors' },
)
