// Text PostgreSQL cannot store (issue 9): a NUL character (text columns refuse \u0000) or a lone
// UTF-16 surrogate (not encodable as UTF-8) in any string of a JSON body or the query string is a
// 400 naming the field, checked before validation, so it never reaches a query and becomes a 500.
import type { FastifyInstance } from 'fastify'
import fp from 'fastify-plugin'
import type { InvalidField } from '../../domain/errors.js'
import { Problem } from '../problem.js'

// A NUL, a high surrogate not followed by a low one, or a low surrogate not preceded by a high one.
// eslint-disable-next-line no-control-regex -- finding NUL is the point
const UNSTORABLE = /\u0000|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/

export const isStorableText = (s: string): boolean => !UNSTORABLE.test(s)

/** At most this many fields are named; a body of 50,000 bad strings gets a short answer. */
const MAX_NAMED = 20

/** The invalid text fields of a parsed value, named as the error handler names fields (`subject.surname`). */
export function unstorableFields(value: unknown, prefix = ''): InvalidField[] {
  const found: InvalidField[] = []
  // Iterative walk: a deeply nested body cannot blow the stack.
  const stack: Array<[unknown, string]> = [[value, prefix]]
  while (stack.length > 0 && found.length < MAX_NAMED) {
    const [v, path] = stack.pop()!
    if (typeof v === 'string') {
      if (!isStorableText(v)) found.push({ name: path || 'body', code: 'invalid-characters', reason: 'contains a NUL character or an unpaired surrogate' })
    } else if (Array.isArray(v)) {
      for (let i = v.length - 1; i >= 0; i -= 1) stack.push([v[i], path ? `${path}.${i}` : String(i)])
    } else if (v !== null && typeof v === 'object') {
      for (const [k, child] of Object.entries(v as Record<string, unknown>).reverse()) {
        const name = path ? `${path}.${k}` : k
        if (!isStorableText(k)) found.push({ name: path || 'body', code: 'invalid-characters', reason: 'a property name contains a NUL character or an unpaired surrogate' })
        else stack.push([child, name])
      }
    }
  }
  return found
}

export const textSafetyPlugin = fp(
  async (app: FastifyInstance) => {
    app.addHook('preValidation', async (request) => {
      const problems = [...unstorableFields(request.query, 'query'), ...unstorableFields(request.body)]
      if (problems.length > 0) {
        throw new Problem(400, 'invalid-request', 'the request has text that cannot be stored', { invalidParams: problems.slice(0, MAX_NAMED) })
      }
    })
  },
  { name: 'text-safety' },
)
