// HTTP only: parse, call one service function, shape the reply (STYLE.md §6).
import type { FastifyInstance, FastifyRequest } from 'fastify'
import { searchAccessLog } from '../../access-log/access-log.service.js'
import { caseTypeCatalogue } from '../../domain/case-types.js'
import { Problem } from '../problem.js'
import type { OpenApiDocument } from '../openapi.js'
import { sendJsonBytes } from '../json-reply.js'
import { declareRoute } from '../route.js'
import { dutchDate } from '../../time.js'
import * as cases from '../../cases/cases.service.js'


/** If-Match: "<version>" → the version; absent or `*` → null (any); anything else cannot match. */
export function expectedVersion(request: FastifyRequest): number | null {
  const header = request.headers['if-match']
  if (header === undefined || header.trim() === '*') return null
  const match = /^(?:W\/)?"(\d{1,9})"$/.exec(header.trim())
  if (!match) throw new Problem(412, 'version-mismatch', 'If-Match must be the ETag of the case, e.g. "3"')
  return Number(match[1])
}

/** The ETag of a case: its version, which If-Match must name to change it. */
const etag = (c: { version: number }): string => `"${c.version}"`

export function caseRoutes(app: FastifyInstance, spec: OpenApiDocument, deps: cases.CaseDeps): void {
  declareRoute(app, spec, 'listCaseTypes', null, async () => ({ items: caseTypeCatalogue(dutchDate()) }))

  declareRoute(app, spec, 'submitCase', 'cases:write', async (req, reply) => {
    const created = await cases.submitCase(deps, req.principal, req.body)
    return reply.header('Location', `/v1/cases/${created.id}`).header('ETag', etag(created)).code(201).send(created)
  })
  // The page is JSON already (issue 13): sent as it is, past the schema's serialiser.
  declareRoute(app, spec, 'listCases', 'cases:read', async (req, reply) =>
    sendJsonBytes(reply, 'listCases', await cases.listCasesJson(deps, req.principal, req.query)),
  )
  declareRoute(app, spec, 'getCase', 'cases:read', async (req, reply) => {
    const c = await cases.getCase(deps, req.principal, req.params.caseId)
    return reply.header('ETag', etag(c)).code(200).send(c)
  })
  declareRoute(app, spec, 'listCaseEvents', 'cases:read', async (req) => cases.caseEvents(deps, req.principal, req.params.caseId))

  declareRoute(app, spec, 'withdrawCase', 'cases:write', async (req, reply) => {
    const c = await cases.withdrawCase(deps, req.principal, req.params.caseId, req.body, expectedVersion(req))
    return reply.header('ETag', etag(c)).code(200).send(c)
  })
  declareRoute(app, spec, 'assignCase', 'cases:write', async (req, reply) => {
    const c = await cases.assignCase(deps, req.principal, req.params.caseId, req.body, expectedVersion(req))
    return reply.header('ETag', etag(c)).code(200).send(c)
  })
  declareRoute(app, spec, 'requestInformation', 'cases:write', async (req, reply) => {
    const c = await cases.requestInformation(deps, req.principal, req.params.caseId, req.body, expectedVersion(req))
    return reply.header('ETag', etag(c)).code(200).send(c)
  })
  declareRoute(app, spec, 'decideCase', 'cases:write', async (req, reply) => {
    const c = await cases.decideCase(deps, req.principal, req.params.caseId, req.body, expectedVersion(req))
    return reply.header('ETag', etag(c)).code(200).send(c)
  })
  declareRoute(app, spec, 'recordRoyalDecree', 'cases:write', async (req, reply) => {
    const c = await cases.recordRoyalDecree(deps, req.principal, req.params.caseId, req.body, expectedVersion(req))
    return reply.header('ETag', etag(c)).code(200).send(c)
  })
  declareRoute(app, spec, 'closeCase', 'cases:write', async (req, reply) => {
    const c = await cases.closeCase(deps, req.principal, req.params.caseId, expectedVersion(req))
    return reply.header('ETag', etag(c)).code(200).send(c)
  })

  declareRoute(app, spec, 'searchAccessLog', 'cases:read', async (req) =>
    searchAccessLog(deps.db, deps.bsnHashKey, req.principal, req.body),
  )
}
