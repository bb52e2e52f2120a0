// Case reference numbers (RB-<year>-<number>), unique per hub and year, readable, not gap-free.
// Each process takes numbers from a block it reserved in a short transaction of its own, so a
// submission never holds the hub's counter row lock while it writes the case (issue 13: the lock
// held over the whole submission serialised every hub's submissions). A number reserved but not
// used (a refused submission, a process that exits) is a gap, never a duplicate: a block is
// committed before any of its numbers is handed out.
import { sql } from 'kysely'
import { withTenant, type Db, type TenantScope } from '../db/database.js'

/** Numbers reserved per round trip at first; small enough that a restart leaves short gaps. */
export const REFERENCE_BLOCK_SIZE = 20
/**
 * A block used up within a second is followed by one twice its size, up to this: a busy hub's
 * submissions reserve a few times a second, not fifty (issue 13), and a restart still leaves a
 * gap of at most this many numbers.
 */
export const MAX_REFERENCE_BLOCK_SIZE = 320
const QUICK_MS = 1_000

interface Block {
  next: number
  last: number
  size: number
  reservedAt: number
}

/** The size of the block after `previous`: doubled when it went within a second, else the first size. */
export const nextBlockSize = (previous: Pick<Block, 'size' | 'reservedAt'> | undefined, now: number): number =>
  previous && now - previous.reservedAt < QUICK_MS ? Math.min(MAX_REFERENCE_BLOCK_SIZE, previous.size * 2) : REFERENCE_BLOCK_SIZE

class ReferenceBlocks {
  private readonly blocks = new Map<string, Block>()
  private readonly reserving = new Map<string, Promise<void>>()
  /** A region has exactly one hub for good (409 region-already-has-hub), so this never goes stale. */
  private readonly hubOfRegion = new Map<string, string>()

  constructor(private readonly db: Db) {}

  /** The hub of the caller's region: the only hub its agreements can route to. */
  async hub(scope: TenantScope): Promise<string | null> {
    if (scope.regionId === null) return null
    const known = this.hubOfRegion.get(scope.regionId)
    if (known) return known
    const row = await withTenant(this.db, scope, (trx) =>
      trx.selectFrom('tenants').select('id').where('region_id', '=', scope.regionId).where('role', '=', 'hub').executeTakeFirst(),
    )
    if (row) this.hubOfRegion.set(scope.regionId, row.id)
    return row?.id ?? null
  }

  async next(scope: TenantScope, hubTenantId: string, year: number): Promise<number> {
    const key = `${hubTenantId}/${year}`
    for (;;) {
      const block = this.blocks.get(key)
      if (block && block.next <= block.last) return block.next++
      let pending = this.reserving.get(key)
      if (!pending) {
        pending = this.reserve(scope, hubTenantId, year, key).finally(() => this.reserving.delete(key))
        this.reserving.set(key, pending)
      }
      await pending
    }
  }

  private async reserve(scope: TenantScope, hubTenantId: string, year: number, key: string): Promise<void> {
    const size = nextBlockSize(this.blocks.get(key), Date.now())
    const last = await withTenant(this.db, scope, async (trx) => {
      const row = await trx
        .insertInto('case_reference_counters')
        .values({ hub_tenant_id: hubTenantId, year, last_value: size })
        .onConflict((oc) => oc.columns(['hub_tenant_id', 'year']).doUpdateSet({ last_value: sql`case_reference_counters.last_value + ${size}` }))
        .returning('last_value')
        .executeTakeFirstOrThrow()
      return row.last_value
    })
    this.blocks.set(key, { next: last - size + 1, last, size, reservedAt: Date.now() })
  }
}

const perDatabase = new WeakMap<Db, ReferenceBlocks>()

/**
 * The next reference number in `year` of the hub of the caller's region, reserved under the
 * caller's tenant scope before the submission's own transaction begins (so that transaction never
 * waits for a second connection). Null when the region has no hub.
 */
export async function nextReferenceNumber(db: Db, scope: TenantScope, year: number): Promise<{ hubTenantId: string; number: number } | null> {
  let blocks = perDatabase.get(db)
  if (!blocks) {
    blocks = new ReferenceBlocks(db)
    perDatabase.set(db, blocks)
  }
  const hubTenantId = await blocks.hub(scope)
  if (hubTenantId === null) return null
  return { hubTenantId, number: await blocks.next(scope, hubTenantId, year) }
}
