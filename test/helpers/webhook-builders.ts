// Helpers for the webhook tests: subscribe over HTTP, and run delivery attempts the way the
// notifications worker runs them, with a clock the test moves.
import type { FastifyInstance } from 'fastify'
import { sql, type Kysely } from 'kysely'
import { expect } from 'vitest'
import type { Config } from '../../api/config.js'
import type { Db } from '../../api/db/database.js'
import { attemptDelivery, type AttemptResult, type DeliveryDeps } from '../../api/webhooks/delivery.js'
import { secretsKey } from '../../api/webhooks/secrets.js'
import type { components } from '../../openapi/types.gen.js'
import { send } from './case-builders.js'

export type WebhookJson = components['schemas']['WebhookWithSecret']
export type DeliveryJson = components['schemas']['WebhookDelivery']

export async function subscribe(app: FastifyInstance, key: string, body: { url: string; events: string[]; format?: 'standard' | 'zgw'; description?: string }): Promise<WebhookJson> {
  const res = await send(app, 'POST', '/v1/webhooks', key, body)
  expect(res.statusCode, res.body).toBe(201)
  return res.json<WebhookJson>()
}

/** A clock the test moves; starts now. */
export class TestClock {
  at = new Date()
  now = (): Date => new Date(this.at)
  advance(ms: number): void {
    this.at = new Date(this.at.getTime() + ms)
  }
  set(at: Date): void {
    this.at = new Date(at)
  }
}

export function testDeliveryDeps(db: Db, config: Config, clock: TestClock, overrides: Partial<DeliveryDeps> = {}): DeliveryDeps {
  return {
    db,
    secretsKey: secretsKey(config.blobMasterKey),
    publicBaseUrl: config.publicBaseUrl,
    allowPrivateNetworks: true,
    maxInFlightPerSubscription: 4,
    now: clock.now,
    random: () => 0.5,
    timeoutMs: 2_000,
    ...overrides,
  }
}

export interface DeliveryRowJson {
  id: string
  tenant_id: string
  subscription_id: string
  status: string
  attempts: number
  next_attempt_at: Date | null
  type: string
}

/** The deliveries of a subscription, as the owner sees them (behind RLS), oldest first. */
export async function deliveriesOf(owner: Kysely<unknown>, subscriptionId: string): Promise<DeliveryRowJson[]> {
  const { rows } = await sql<DeliveryRowJson>`
    select id, tenant_id, subscription_id, status, attempts, next_attempt_at, type from webhook_deliveries
    where subscription_id = ${subscriptionId} order by created_at, id`.execute(owner)
  return rows
}

/** One attempt of every pending or failed delivery of the subscription, as the worker makes it. */
export async function attemptAll(deps: DeliveryDeps, owner: Kysely<unknown>, subscriptionId: string): Promise<AttemptResult[]> {
  const results: AttemptResult[] = []
  for (const d of await deliveriesOf(owner, subscriptionId)) {
    if (d.status === 'pending' || d.status === 'failed') results.push(await attemptDelivery(deps, { tenantId: d.tenant_id, deliveryId: d.id }))
  }
  return results
}
