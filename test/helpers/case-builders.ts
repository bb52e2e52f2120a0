// Helpers for the case tests (issue 4): submitting through HTTP as a member's client does, the
// intake step through the worker's own function, and — until document verdicts exist (a later
// issue) — accepting a checklist behind the application's back, as the owner.
import { randomInt } from 'node:crypto'
import type { FastifyInstance, LightMyRequestResponse } from 'fastify'
import { sql, type Kysely } from 'kysely'
import { expect } from 'vitest'
import type { Db } from '../../api/db/database.js'
import type { components } from '../../openapi/types.gen.js'
import { runIntakeChecks } from '../../workers/case-intake.js'
import { bearer } from './app.js'

export type CaseJson = components['schemas']['CaseSummary'] & {
  subject: { bsn?: string; givenNames: string; surname: string; dateOfBirth: string; nationality?: string; countryOfBirth?: string }
  note: string | null
}
export type CaseEventJson = components['schemas']['CaseEvent']
export type CaseCreate = components['schemas']['CaseCreate']

type Method = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE'

/** One request with a key, optional JSON body and extra headers. */
export const send = (
  app: FastifyInstance,
  method: Method,
  url: string,
  key: string,
  payload?: object,
  headers: Record<string, string> = {},
): Promise<LightMyRequestResponse> =>
  app.inject({ method, url, headers: { ...bearer(key), ...headers }, ...(payload === undefined ? {} : { payload }) })

const WEIGHTS = [9, 8, 7, 6, 5, 4, 3, 2, -1]

/** A random nine-digit number that passes the 11-proef (never all zeros). */
export function validBsn(): string {
  for (;;) {
    const digits = Array.from({ length: 8 }, () => randomInt(10))
    if (digits[0] === 0) continue
    const partial = digits.reduce((sum, d, i) => sum + d * WEIGHTS[i]!, 0)
    // partial - last ≡ 0 (mod 11) → last = partial mod 11, usable when it is a single digit.
    const last = partial % 11
    if (last > 9) continue
    return [...digits, last].join('')
  }
}

let people = 0
/** A unique, recognisable subject: the names are distinct per call so a leak can be searched for. */
export function newSubject(overrides: Partial<CaseCreate['subject']> = {}): CaseCreate['subject'] {
  people += 1
  return {
    bsn: validBsn(),
    givenNames: `Anouk${people}x Maria`,
    surname: `Verhoevenpersoon${people}q`,
    dateOfBirth: '1990-04-17',
    nationality: 'MA',
    countryOfBirth: 'MA',
    ...overrides,
  }
}

/** A valid create body for a naturalisation case, with overrides. */
export const caseBody = (overrides: Partial<CaseCreate> & Record<string, unknown> = {}): CaseCreate =>
  ({ caseType: 'naturalisation', subject: newSubject(), ...overrides })

/** Submits as a member's client and asserts 201; returns the created case. */
export async function submitCase(
  app: FastifyInstance,
  memberKey: string,
  overrides: Partial<CaseCreate> & Record<string, unknown> = {},
): Promise<CaseJson> {
  const res = await send(app, 'POST', '/v1/cases', memberKey, caseBody(overrides))
  expect(res.statusCode, res.body).toBe(201)
  return res.json<CaseJson>()
}

/** The automatic intake checks, run the way the case-intake worker runs them. */
export async function toIntake(db: Db, hubTenantId: string, caseId: string): Promise<string> {
  return runIntakeChecks(db, { tenantId: hubTenantId, caseId })
}

/** Marks every checklist item of a case accepted, as document verdicts will once they exist. */
export async function acceptChecklist(owner: Kysely<unknown>, caseId: string): Promise<void> {
  await sql`update case_checklist_items set status = 'accepted' where case_id = ${caseId}`.execute(owner)
}

/** The number of cases a member has, counted behind RLS. */
export async function countCases(owner: Kysely<unknown>, memberTenantId: string): Promise<number> {
  const { rows } = await sql<{ n: number }>`select count(*)::int as n from cases where member_tenant_id = ${memberTenantId}`.execute(owner)
  return rows[0]!.n
}

/** The case as the caller sees it (asserts 200). */
export async function getCase(app: FastifyInstance, key: string, caseId: string): Promise<CaseJson> {
  const res = await send(app, 'GET', `/v1/cases/${caseId}`, key)
  expect(res.statusCode, res.body).toBe(200)
  return res.json<CaseJson>()
}

/** POST to a case action (assign, withdraw, …), optionally with If-Match. */
export const act = (app: FastifyInstance, key: string, caseId: string, action: string, payload?: object, version?: number) =>
  send(app, 'POST', `/v1/cases/${caseId}/${action}`, key, payload, version === undefined ? {} : { 'if-match': `"${version}"` })
