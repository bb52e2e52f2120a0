// Issue 10, booking in fewer round trips (bench:scheduling): two functions the workers call.
// - app_enter_tenant: a worker's transaction for one tenant sets the tenant and then, with it set,
//   reads the tenant's own region — one statement instead of three.
// - book_staff_slot: books a requested appointment into one staff member's slot under that staff
//   member's advisory lock, only if nothing booked overlaps it. When the slot is taken, the
//   function answers with the time that staff member holds, read under the lock, so the caller
//   searches again without another query; with p_hold it keeps the lock (the next slot of that
//   calendar is then certain to be free), without it the work runs in a plpgsql exception block
//   (a subtransaction) that is rolled back, which lets the lock go — for a caller that must not
//   wait for a second staff lock while it holds one. No update fails on the exclusion
//   constraint, which stays the guarantee behind it (a violation is caught the same way).
//   Frozen once landed.
import { sql, type Kysely } from 'kysely'

export async function up(db: Kysely<any>): Promise<void> {
  await sql`
    create function app_enter_tenant(p_tenant uuid) returns void language plpgsql as $$
    begin
      perform set_config('app.tenant_id', p_tenant::text, true);
      perform set_config('app.region_id', coalesce((select t.region_id::text from tenants t where t.id = p_tenant), ''), true);
    end $$`.execute(db)
  await sql`
    create function book_staff_slot(
      p_appointment uuid, p_staff uuid, p_starts timestamptz, p_ends timestamptz, p_location text,
      p_busy_from timestamptz, p_busy_to timestamptz, p_hold boolean,
      out booked boolean, out busy_starts timestamptz[], out busy_ends timestamptz[]
    ) language plpgsql as $$
    begin
      booked := false;
      begin
        -- The lock class of the scheduler: one lock per staff member (held to the end of the
        -- transaction once the slot is booked).
        perform pg_advisory_xact_lock(10010, hashtext(p_staff::text));
        update appointments
           set status = 'booked', starts_at = p_starts, ends_at = p_ends, staff_id = p_staff,
               location_code = p_location, booked_at = clock_timestamp(), reason = null,
               version = version + 1, updated_at = now()
         where id = p_appointment
           and not exists (
             select 1 from appointments b
              where b.staff_id = p_staff and b.status in ('booked', 'attended', 'no_show')
                and tstzrange(b.starts_at, b.ends_at, '[)') && tstzrange(p_starts, p_ends, '[)'));
        if found then
          booked := true;
          return;
        end if;
        select coalesce(array_agg(b.starts_at order by b.starts_at), '{}'), coalesce(array_agg(b.ends_at order by b.starts_at), '{}')
          into busy_starts, busy_ends
          from appointments b
         where b.staff_id = p_staff and b.status in ('booked', 'attended', 'no_show')
           and b.ends_at > p_busy_from and b.starts_at < p_busy_to;
        if not p_hold then
          raise exception using errcode = 'RB001', message = 'slot taken';
        end if;
      exception when sqlstate 'RB001' or exclusion_violation then
        -- Rolled back to the start of the block: the lock is let go, nothing was written.
        booked := false;
        if busy_starts is null then
          select coalesce(array_agg(b.starts_at order by b.starts_at), '{}'), coalesce(array_agg(b.ends_at order by b.starts_at), '{}')
            into busy_starts, busy_ends
            from appointments b
           where b.staff_id = p_staff and b.status in ('booked', 'attended', 'no_show')
             and b.ends_at > p_busy_from and b.starts_at < p_busy_to;
        end if;
      end;
    end $$`.execute(db)
}

export async function down(db: Kysely<any>): Promise<void> {
  await sql`drop function if exists book_staff_slot(uuid, uuid, timestamptz, timestamptz, text, timestamptz, timestamptz, boolean)`.execute(db)
  await sql`drop function if exists app_enter_tenant(uuid)`.execute(db)
}
