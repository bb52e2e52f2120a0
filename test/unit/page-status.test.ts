// The JSON API (api/http/problem.ts) and the workbench (api/web/render.ts) are two shells over the
// same domain errors: a refusal means the same status in both, so the two tables may never drift.
import { describe, expect, it } from 'vitest'
import { STATUS_OF_KIND } from '../../api/http/problem.js'
import { STATUS_OF_KIND_PAGE } from '../../api/web/render.js'

describe('status of a domain error', () => {
  it('is the same for a JSON answer and for a workbench page', () => {
    expect(STATUS_OF_KIND_PAGE).toEqual(STATUS_OF_KIND)
  })
})
