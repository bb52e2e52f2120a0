// The contract's validator (Ajv) speaks in keywords and JSON pointers; clients, forms and tests hear
// invalid fields by name with our stable codes. One mapping, for the JSON API's error handler and
// the workbench's forms alike.
import type { InvalidField } from './domain/errors.js'

export interface AjvError {
  instancePath?: string
  keyword: string
  message?: string
  params?: Record<string, unknown>
}

const AJV_CODES: Record<string, string> = {
  required: 'required',
  additionalProperties: 'unknown-property',
  type: 'invalid-type',
  format: 'invalid-format',
  pattern: 'invalid-format',
  enum: 'not-allowed',
  minimum: 'out-of-range',
  maximum: 'out-of-range',
  minLength: 'too-short',
  maxLength: 'too-long',
  minItems: 'too-few',
  maxItems: 'too-many',
  uniqueItems: 'duplicate',
  minProperties: 'empty',
}

/** At most this many fields are named: a body with 50,000 bad items gets a short answer. */
const MAX_INVALID_PARAMS = 20

/** One entry per invalid field: `subject.bsn`, `query.colour`, … */
export function toInvalidParams(errors: AjvError[], context: string | undefined): InvalidField[] {
  const prefix = context === 'querystring' ? 'query' : context === 'params' ? 'path' : context === 'headers' ? 'header' : ''
  return errors.slice(0, MAX_INVALID_PARAMS).map((e) => {
    let path = (e.instancePath ?? '').replace(/^\//, '').replace(/\//g, '.')
    const extra = e.params?.missingProperty ?? e.params?.additionalProperty
    if (typeof extra === 'string') path = path ? `${path}.${extra}` : extra
    const name = [prefix, path].filter(Boolean).join('.') || prefix || 'body'
    const code = AJV_CODES[e.keyword] ?? 'invalid'
    const reason = e.keyword === 'additionalProperties' ? 'is not a known property' : e.message ?? 'is invalid'
    return { name, code, reason }
  })
}

