// Resilience (issue 9): an idempotent replay is answered only to the principal (API key) that made
// the original request — the key space is per tenant *and* principal now — and stored responses
// are encrypted (api/http/plugins/idempotency.ts). Responses stored before this migration were in
// clear text and may hold one-time secrets or personal data: they are removed (they expire within
// 48 hours anyway; a retry of such a request is processed afresh). Frozen once landed.
import { sql, type Kysely } from 'kysely'

export async function up(db: Kysely<any>): Promise<void> {
  await sql`delete from idempotency_keys`.execute(db)
  await sql`alter table idempotency_keys add column principal_id text not null default ''`.execute(db)
  await sql`alter table idempotency_keys alter column principal_id drop default`.execute(db)
  await sql`alter table idempotency_keys drop constraint idempotency_keys_pkey`.execute(db)
  await sql`alter table idempotency_keys add primary key (owner_id, principal_id, idempotency_key)`.execute(db)
}

export async function down(db: Kysely<any>): Promise<void> {
  await sql`delete from idempotency_keys`.execute(db)
  await sql`alter table idempotency_keys drop constraint idempotency_keys_pkey`.execute(db)
  await sql`alter table idempotency_keys drop column principal_id`.execute(db)
  await sql`alter table idempotency_keys add primary key (owner_id, idempotency_key)`.execute(db)
}
