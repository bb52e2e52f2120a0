// Issue 13: the outbox no longer NOTIFYs on insert. A transaction that has sent a NOTIFY holds one
// lock for the whole database from its pre-commit until its commit is flushed, so every change that
// wrote an outbox row — nearly every write of the platform — committed one at a time: measured on
// the 2-core machine with pgbench, 32 clients, an insert alone 4,500–4,800 tps, an insert plus a
// NOTIFY 170–260 tps, about the platform's ceiling for submissions. The relay polls the outbox
// instead (workers/relay.ts: a short idle interval, and at once when jobs finish). Frozen once landed.
import { sql, type Kysely } from 'kysely'

export async function up(db: Kysely<any>): Promise<void> {
  await sql`drop trigger if exists outbox_notify on outbox`.execute(db)
  await sql`drop function if exists outbox_notify()`.execute(db)
}

export async function down(db: Kysely<any>): Promise<void> {
  await sql`
    create function outbox_notify() returns trigger language plpgsql as $$
    begin
      perform pg_notify('regiobalie_outbox', '');
      return null;
    end $$`.execute(db)
  await sql`create trigger outbox_notify after insert on outbox for each statement execute function outbox_notify()`.execute(db)
}
