// Domain errors: what went wrong, in the domain's words, without an HTTP status. Rules and services
// throw a DomainError; api/http alone decides the status and renders RFC 9457 problem+json.

/** What kind of refusal this is. api/http/problem.ts maps each kind to one HTTP status. */
export type ErrorKind =
  /** the input is malformed or a field is invalid */
  | 'invalid'
  /** no principal, or an unknown or revoked key */
  | 'unauthenticated'
  /** the principal may not do this */
  | 'forbidden'
  /** no such object, or another tenant's (the two look the same) */
  | 'not-found'
  /** conflicts with the object's current state */
  | 'conflict'
  /** the object existed but is gone for good (a crypto-shredded document) */
  | 'gone'
  /** the caller's copy of the object is stale */
  | 'stale'
  | 'too-large'
  | 'unsupported-media-type'
  /** well-formed, but refused by a business rule */
  | 'refused'
  /** a dependency (database, blob store) does not answer; try again later */
  | 'unavailable'
  /** our own data is broken (a document's blob is missing or corrupt): not the client's fault, not transient */
  | 'internal'

/** One invalid field, named as the request names it (`subject.bsn`, `query.cursor`). */
export interface InvalidField {
  name: string
  code: string
  reason: string
}

export class DomainError extends Error {
  readonly kind: ErrorKind
  readonly code: string
  readonly invalidFields: InvalidField[] | undefined

  constructor(kind: ErrorKind, code: string, detail: string, invalidFields?: InvalidField[]) {
    super(detail)
    this.name = 'DomainError'
    this.kind = kind
    this.code = code
    this.invalidFields = invalidFields
  }
}

/** One or more invalid fields. */
export const invalidFields = (fields: InvalidField[]): DomainError =>
  new DomainError('invalid', 'invalid-request', fields.map((p) => `${p.name}: ${p.reason}`).join('; '), fields)

/** Another tenant's object and a missing one look the same (ARCHITECTURE.md, tenancy). */
export const notFound = (what: string): DomainError => new DomainError('not-found', 'not-found', `${what} not found`)
