// HTTP status codes are decided here and only here (ARCHITECTURE.md, Layout): a DomainError's kind
// maps to one status; the HTTP shell's own refusals (rate limiting) are Problems with a status.
import type { ErrorKind, InvalidField } from '../domain/errors.js'

export const STATUS_OF_KIND: Readonly<Record<ErrorKind, number>> = {
  invalid: 400,
  unauthenticated: 401,
  forbidden: 403,
  'not-found': 404,
  conflict: 409,
  gone: 410,
  stale: 412,
  'too-large': 413,
  'unsupported-media-type': 415,
  refused: 422,
  unavailable: 503,
  internal: 500,
}

/** A refusal of the HTTP shell itself, with its status and headers (429 with Retry-After). */
export class Problem extends Error {
  readonly status: number
  readonly code: string
  readonly invalidParams: InvalidField[] | undefined
  readonly headers: Record<string, string> | undefined

  constructor(
    status: number,
    code: string,
    detail: string,
    extra: { invalidParams?: InvalidField[]; headers?: Record<string, string> } = {},
  ) {
    super(detail)
    this.name = 'Problem'
    this.status = status
    this.code = code
    this.invalidParams = extra.invalidParams
    this.headers = extra.headers
  }
}
