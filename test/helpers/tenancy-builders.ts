// Small helpers for the tenancy tests: HTTP calls with a key, problem+json assertions, and a few
// fixtures newRegion does not make (a region without a hub, extra staff).
import type { FastifyInstance, LightMyRequestResponse } from 'fastify'
import { expect } from 'vitest'
import type { Db } from '../../api/db/database.js'
import * as tenancy from '../../api/tenancy/tenancy.service.js'
import { bearer } from './app.js'
import { ADMIN, newTenant, type TenantFixture } from './builders.js'

type Method = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE'

/** One request with a key (no key: null), a JSON body when given. */
export const call = (app: FastifyInstance, method: Method, url: string, key: string | null, payload?: object): Promise<LightMyRequestResponse> =>
  app.inject({ method, url, headers: key ? bearer(key) : {}, ...(payload === undefined ? {} : { payload }) })

/** Asserts an RFC 9457 refusal with this status and code, and returns its body. */
export function expectProblem(res: LightMyRequestResponse, status: number, code: string): Record<string, unknown> {
  const p = res.json<Record<string, unknown>>()
  expect({ status: res.statusCode, code: p.code }, res.body).toEqual({ status, code })
  expect(res.headers['content-type']).toMatch(/^application\/problem\+json/)
  expect(p).toMatchObject({ status, type: `urn:regiobalie:problem:${code}` })
  return p
}

/** Asserts a success status (showing the problem body when it is not) and returns the JSON body. */
export function expectOk<T = Record<string, unknown>>(res: LightMyRequestResponse, status = 200): T {
  expect(res.statusCode, res.body).toBe(status)
  return (res.body === '' ? undefined : res.json<T>()) as T
}

/** A region with members only: no hub to delegate to. */
export async function newRegionWithoutHub(db: Db): Promise<{ regionId: string; member: TenantFixture }> {
  const region = await tenancy.createRegion(db, ADMIN, { name: 'region without a hub' })
  return { regionId: region.id, member: await newTenant(db, region.id, 'member') }
}

let staffCount = 0
/** One more staff member of a hub, created by the admin; returns its id and personal key. */
export async function newStaff(db: Db, hubTenantId: string, role: 'specialist' | 'lead' = 'specialist'): Promise<{ id: string; key: string }> {
  staffCount += 1
  const staff = await tenancy.createStaff(db, ADMIN, hubTenantId, {
    name: `Staff ${staffCount}`,
    email: `staff${staffCount}-${hubTenantId.slice(0, 8)}@hub.invalid`,
    role,
    skills: ['naturalisation'],
  })
  return { id: staff.id, key: staff.key }
}

