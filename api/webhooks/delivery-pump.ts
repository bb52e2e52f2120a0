// The notifications worker's delivery pumps: per subscription, a loop that claims a batch of its
// pending deliveries (as many as its in-flight cap leaves room for), sends them side by side and
// records them in one statement, until nothing pending is left. An event's job only wakes the
// pumps of its subscriptions (one lookup, one statement, for the events that arrive together) and returns: a
// slow receiver keeps its own pump busy, never the queue's job slots, so it slows no other
// subscription. The rows stay the truth: a pump that dies leaves leases that expire, and the sweep
// (a pending delivery's next attempt is its fallback) takes over what it left.
import { pumpSend, pumpStep, type DeliveryDeps, type SentBatch } from './delivery.js'
import * as repo from './webhooks.repository.js'

export interface PumpOptions {
  /** Batches in flight per subscription and process: the next is claimed while one is sent. */
  lanes: number
  /**
   * After sending a batch smaller than the lane's batch size, a lane waits this long before its
   * next step (which records that batch and claims the next), so that deliveries arriving in the
   * meantime go in one step: a step costs PostgreSQL about the same for 1 delivery as for 32.
   * Under load batches fill and no lane waits; at a trickle a delivery waits at most this long
   * behind the one before it of its subscription.
   */
  lingerMs: number
}

export const DEFAULT_PUMP_OPTIONS: PumpOptions = { lanes: 1, lingerMs: 20 }

interface Pump {
  tenantId: string
  lanes: number
  /** Woken while all lanes were busy: look again before stopping. */
  again: boolean
  running: Set<Promise<void>>
}

export class DeliveryPumps {
  private readonly pumps = new Map<string, Pump>()
  private pendingEvents = new Set<string>()
  private lookup: Promise<void> | null = null
  private closed = false

  constructor(
    private readonly deps: DeliveryDeps,
    private readonly options: PumpOptions = DEFAULT_PUMP_OPTIONS,
    private readonly onError: (err: unknown) => void = () => undefined,
  ) {}

  /** Batch size of one lane: together the lanes fill the cap. */
  private get batchSize(): number {
    return Math.max(1, Math.ceil(this.deps.maxInFlightPerSubscription / this.options.lanes))
  }

  /** Wakes the pump of one subscription (its tenant's rows are claimed under that tenant). */
  wake(tenantId: string, subscriptionId: string): void {
    if (this.closed) return
    let pump = this.pumps.get(subscriptionId)
    if (!pump) {
      pump = { tenantId, lanes: 0, again: false, running: new Set() }
      this.pumps.set(subscriptionId, pump)
    }
    if (pump.lanes >= this.options.lanes) {
      pump.again = true
      return
    }
    pump.lanes += 1
    const lane = this.lane(subscriptionId, pump).finally(() => {
      pump.running.delete(lane)
      pump.lanes -= 1
      if (pump.lanes === 0 && !pump.again) this.pumps.delete(subscriptionId)
      else if (pump.lanes === 0 && pump.again && !this.closed) {
        pump.again = false
        this.wake(pump.tenantId, subscriptionId)
      }
    })
    pump.running.add(lane)
  }

  // A lane: record the batch sent last and claim the next in one transaction, send, and again.
  private async lane(subscriptionId: string, pump: Pump): Promise<void> {
    let sent: SentBatch | null = null
    try {
      for (;;) {
        pump.again = false
        // Closing: the batch sent last is recorded, nothing more is claimed.
        const step = await pumpStep(this.deps, pump.tenantId, subscriptionId, this.closed ? 0 : this.batchSize, sent)
        sent = null
        if (!step.next) {
          if (this.closed || !pump.again) return
          continue
        }
        sent = await pumpSend(this.deps, step.next, step.startedAt)
        if (step.next.deliveries.length < this.batchSize && this.options.lingerMs > 0 && !this.closed) {
          await new Promise((resolve) => setTimeout(resolve, this.options.lingerMs))
        }
      }
    } catch (err) {
      // Leases of a batch not recorded expire; the sweep or the next wake takes the deliveries again.
      this.onError(err)
    }
  }

  /**
   * Wakes the pumps of the subscriptions with pending deliveries of these events. Events that
   * arrive while a lookup runs are looked up together in the next one. Resolves once the event's
   * subscriptions are known (a failed lookup rejects: the job is retried), not once delivered.
   */
  async wakeForEvents(eventIds: readonly string[]): Promise<void> {
    for (const id of eventIds) this.pendingEvents.add(id)
    while (this.pendingEvents.size > 0 && !this.closed) {
      if (this.lookup) {
        await this.lookup.catch(() => undefined)
        continue
      }
      const ids = [...this.pendingEvents]
      this.pendingEvents = new Set()
      this.lookup = (async () => {
        const subs = await repo.pendingSubscriptionsOfEvents(this.deps.db, ids)
        for (const s of subs) this.wake(s.tenant_id, s.subscription_id)
      })().finally(() => {
        this.lookup = null
      })
      try {
        await this.lookup
      } catch (err) {
        // This caller's events may have been in the failed lookup: put them back and fail the job.
        for (const id of ids) this.pendingEvents.add(id)
        throw err
      }
    }
  }

  /** Stops claiming; waits for the batches under way (each ends within the delivery timeout). */
  async close(): Promise<void> {
    this.closed = true
    await Promise.all([...this.pumps.values()].flatMap((p) => [...p.running]))
    this.pumps.clear()
  }
}
