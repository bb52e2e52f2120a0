// Issue 10, bench:scheduling in a burst: the scheduling worker books the requests of one hub that
// arrive together in one statement (group commit), as the intake worker checks cases (issue 13).
// - book_appointments: the writes of many bookings in one statement — book_appointment (migration
//   0016) for each item in the order given, so every booking takes the same locks, refuses the same
//   stale or taken slot and writes the same case event, webhook fan-out and outbox row as alone.
//   The caller orders the items so that every batch takes the staff members' locks in one order
//   (by staff id), then the session rows: two batches never wait for each other in a circle over
//   them. A slot that was booked meanwhile answers `taken` with the held time, and its staff lock
//   is let go at once; a booked slot keeps its lock to the end of the statement's transaction.
//   Items are JSON objects: appointmentId, caseVersion, outcome, and per outcome staffId, startsAt,
//   endsAt, locationCode, busyFrom, busyTo (slot), seatNotBefore, seatNotAfter, seatLastDate,
//   seatLocationCode (seat), reason, actorKind, actorId, bookedEvent, unschedulableEvent. One row
//   per item, with its position in p_items (from 1). Any error fails the whole statement; the
//   worker then books each item on its own, so only the faulty one's job fails.
// - ceremony_sessions_member (migration 0006) only for a tenant that is not the session's hub: the
//   same rows visible as before (the hub sees its own sessions by ceremony_sessions_hub), but the
//   hub's own statements no longer build the policy's list of the current tenant's ceremony
//   appointments — a sequential scan of every tenant's appointments (the appointments' own RLS
//   comes first, so no index serves it) three times per seat booked: 3–5 ms of a seat booking's
//   4–6 ms in PostgreSQL at 1,000 appointments, growing with the table. Within one AND the arms
//   are evaluated in the order written, so the subquery runs only when the first arm holds.
// Frozen once landed.
import { sql, type Kysely } from 'kysely'

export async function up(db: Kysely<any>): Promise<void> {
  await sql`
    create function book_appointments(p_tenant uuid, p_items jsonb)
    returns table (ord integer, o_result text, o_starts_at timestamptz, o_busy_starts timestamptz[], o_busy_ends timestamptz[])
    language plpgsql volatile security invoker set search_path = public, pg_temp as $$
    declare
      v_item jsonb;
      v_n bigint;
    begin
      for v_item, v_n in select e.value, e.ordinality from jsonb_array_elements(p_items) with ordinality e order by e.ordinality loop
        ord := v_n;
        select b.o_result, b.o_starts_at, b.o_busy_starts, b.o_busy_ends into o_result, o_starts_at, o_busy_starts, o_busy_ends
          from book_appointment(p_tenant, (v_item ->> 'appointmentId')::uuid, (v_item ->> 'caseVersion')::integer, v_item ->> 'outcome',
                                (v_item ->> 'staffId')::uuid, (v_item ->> 'startsAt')::timestamptz, (v_item ->> 'endsAt')::timestamptz,
                                v_item ->> 'locationCode', (v_item ->> 'busyFrom')::timestamptz, (v_item ->> 'busyTo')::timestamptz,
                                (v_item ->> 'seatNotBefore')::timestamptz, (v_item ->> 'seatNotAfter')::timestamptz,
                                (v_item ->> 'seatLastDate')::date, v_item ->> 'seatLocationCode',
                                v_item ->> 'reason', v_item ->> 'actorKind', v_item ->> 'actorId',
                                nullif(v_item -> 'bookedEvent', 'null'::jsonb), nullif(v_item -> 'unschedulableEvent', 'null'::jsonb)) b;
        return next;
      end loop;
    end
    $$`.execute(db)
  await sql`revoke all on function book_appointments from public`.execute(db)
  await sql`grant execute on function book_appointments to regiobalie_app`.execute(db)

  await sql`drop policy ceremony_sessions_member on ceremony_sessions`.execute(db)
  await sql`create policy ceremony_sessions_member on ceremony_sessions for all
    using (ceremony_sessions.hub_tenant_id <> app_current_tenant()
           and exists (select 1 from appointments a where a.ceremony_id = ceremony_sessions.id and a.member_tenant_id = app_current_tenant()))
    with check (ceremony_sessions.hub_tenant_id <> app_current_tenant()
                and exists (select 1 from appointments a where a.ceremony_id = ceremony_sessions.id and a.member_tenant_id = app_current_tenant()))`.execute(db)
}

export async function down(db: Kysely<any>): Promise<void> {
  await sql`drop policy ceremony_sessions_member on ceremony_sessions`.execute(db)
  await sql`create policy ceremony_sessions_member on ceremony_sessions for all
    using (exists (select 1 from appointments a where a.ceremony_id = ceremony_sessions.id and a.member_tenant_id = app_current_tenant()))
    with check (exists (select 1 from appointments a where a.ceremony_id = ceremony_sessions.id and a.member_tenant_id = app_current_tenant()))`.execute(db)
  await sql`drop function if exists book_appointments`.execute(db)
}
