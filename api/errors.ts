// Typed domain errors. Services throw a Problem; the one error handler (api/plugins/errors.ts)
// renders it as RFC 9457 application/problem+json.

export interface InvalidParam {
  name: string
  code: string
  reason: string
}

export class Problem extends Error {
  readonly status: number
  readonly code: string
  readonly invalidParams: InvalidParam[] | undefined
  readonly headers: Record<string, string> | undefined

  constructor(
    status: number,
    code: string,
    detail: string,
    extra: { invalidParams?: InvalidParam[]; headers?: Record<string, string> } = {},
  ) {
    super(detail)
    this.name = 'Problem'
    this.status = status
    this.code = code
    this.invalidParams = extra.invalidParams
    this.headers = extra.headers
  }
}

/** A 400 with one or more field errors, in the shape API.md fixes for `invalidParams`. */
export const invalidParams = (params: InvalidParam[]): Problem =>
  new Problem(400, 'invalid-request', params.map((p) => `${p.name}: ${p.reason}`).join('; '), {
    invalidParams: params,
  })

/** Another tenant's object and a missing one look the same (ARCHITECTURE.md, tenancy). */
export const notFound = (what: string): Problem => new Problem(404, 'not-found', `${what} not found`)
