// HTTP only: parse, call one service function, shape the reply (STYLE.md §6).
import type { FastifyInstance } from 'fastify'
import type { Db } from '../../db/database.js'
import type { OpenApiDocument } from '../openapi.js'
import { declareRoute } from '../route.js'
import * as tenancy from '../../tenancy/tenancy.service.js'

export function tenancyRoutes(app: FastifyInstance, spec: OpenApiDocument, db: Db): void {
  declareRoute(app, spec, 'createRegion', 'tenants:admin', async (req, reply) => {
    const region = await tenancy.createRegion(db, req.principal, req.body)
    return reply.header('Location', `/v1/regions/${region.id}`).code(201).send(region)
  })
  declareRoute(app, spec, 'listRegions', 'tenants:admin', async (req) => tenancy.listRegions(db, req.principal, req.query))
  declareRoute(app, spec, 'getRegion', 'tenants:admin', async (req) => tenancy.getRegion(db, req.principal, req.params.regionId))

  declareRoute(app, spec, 'onboardTenant', 'tenants:admin', async (req, reply) => {
    const tenant = await tenancy.onboardTenant(db, req.principal, req.body)
    return reply.header('Location', `/v1/tenants/${tenant.id}`).code(201).send(tenant)
  })
  declareRoute(app, spec, 'listTenants', null, async (req) => tenancy.listTenants(db, req.principal, req.query))
  declareRoute(app, spec, 'getTenant', null, async (req) => tenancy.getTenant(db, req.principal, req.params.tenantId))
  declareRoute(app, spec, 'updateTenant', 'tenants:admin', async (req) =>
    tenancy.updateTenantStatus(db, req.principal, req.params.tenantId, req.body),
  )

  declareRoute(app, spec, 'createApiKey', 'tenants:admin', async (req, reply) => {
    const tenantId = req.params.tenantId
    const key = await tenancy.createApiKey(db, req.principal, tenantId, req.body)
    return reply.header('Location', `/v1/tenants/${tenantId}/api-keys/${key.id}`).header('Cache-Control', 'no-store').code(201).send(key)
  })
  declareRoute(app, spec, 'listApiKeys', 'tenants:admin', async (req) =>
    tenancy.listApiKeys(db, req.principal, req.params.tenantId, req.query),
  )
  declareRoute(app, spec, 'revokeApiKey', 'tenants:admin', async (req, reply) => {
    await tenancy.revokeApiKey(db, req.principal, req.params.tenantId, req.params.keyId)
    return reply.code(204).send()
  })

  declareRoute(app, spec, 'putAgreement', null, async (req) =>
    tenancy.putAgreement(db, req.principal, req.params.memberTenantId, req.params.caseType, req.body),
  )
  declareRoute(app, spec, 'listAgreements', null, async (req) => tenancy.listAgreements(db, req.principal, req.params.tenantId))

  declareRoute(app, spec, 'createStaff', null, async (req, reply) => {
    const staff = await tenancy.createStaff(db, req.principal, req.params.hubTenantId, req.body)
    return reply.header('Location', `/v1/staff/${staff.id}`).header('Cache-Control', 'no-store').code(201).send(staff)
  })
  declareRoute(app, spec, 'listStaff', null, async (req) => tenancy.listStaff(db, req.principal, req.params.hubTenantId, req.query))
  declareRoute(app, spec, 'updateStaff', null, async (req) =>
    tenancy.updateStaff(db, req.principal, req.params.staffId, req.body),
  )
}
