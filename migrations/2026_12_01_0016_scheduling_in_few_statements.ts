// Issue 10, bench:scheduling: requesting an appointment in one statement, booking one in two.
// Every function runs with the caller's rights (SECURITY INVOKER) and sets the tenant (and region)
// for the statement's own transaction first, so row-level security applies to every row read and
// written exactly as it did to the statements they replace.
// - request_appointment: locks the case, refuses what API.md refuses (by SQLSTATE, mapped to the
//   problem in api/appointments/appointments.service.ts), then writes the appointment, the case
//   event (version bumped) and the outbox row for the scheduling worker. The caller passes what
//   only the domain knows: which versions of which case types have the kind (the newest version
//   not after the case's own applies, as in findCaseType), the statuses of a finished case, and
//   whether the kind is a session kind.
// - appointment_booking_context: what the booking's slot search needs, read without a lock: the
//   appointment, its case, and for a slot kind the active staff with the case type's skill, with
//   the calendars (pattern, absences, held time) of the group searched first — the assigned
//   specialist alone when he has the skill, every skilled staff member otherwise.
//   staff_calendars reads the others' when the first group has no fitting slot.
// - book_appointment: the booking's writes in one statement, after the search: locks the case,
//   then the appointment (the order every appointment write takes), answers `skipped` when it is
//   no longer requested (a re-run job) and `stale` when the case changed since the context was
//   read (the caller reads it again); then books the slot (book_staff_slot, migration 0013: under
//   the staff member's advisory lock, only if still free — else `taken` with the held time read
//   under the lock, and nothing written), or a seat in the earliest session of the window that has
//   one (the session row locked, the condition re-checked; none → unschedulable), or marks it
//   unschedulable; then the case event, the webhook fan-out and its outbox row. The exclusion
//   constraint and the seat check stay the guarantees behind it. Frozen once landed.
import { sql, type Kysely } from 'kysely'

export async function up(db: Kysely<any>): Promise<void> {
  await sql`
    create function request_appointment(
      p_tenant uuid, p_region uuid, p_requester_hub uuid, p_case uuid,
      p_kind text, p_kind_versions jsonb, p_finished text[], p_session_kind boolean,
      p_attempt smallint, p_registered_letter boolean, p_earliest timestamptz, p_latest timestamptz, p_location text,
      p_actor_kind text, p_actor_id text, p_reason text)
    returns setof appointments
    language plpgsql volatile security invoker set search_path = public, pg_temp as $$
    declare
      v_case cases;
      v_allowed boolean;
      v_appointment appointments;
    begin
      perform set_config('app.tenant_id', p_tenant::text, true), set_config('app.region_id', coalesce(p_region::text, ''), true);
      select * into v_case from cases where id = p_case for update;
      if not found then
        raise exception 'case not found' using errcode = 'RBA01';
      end if;
      if p_requester_hub is distinct from v_case.hub_tenant_id then
        raise exception 'not the case''s hub' using errcode = 'RBA02';
      end if;
      if p_location is not null and not exists (select 1 from locations l where l.hub_tenant_id = v_case.hub_tenant_id and l.code = p_location) then
        raise exception 'unknown location' using errcode = 'RBA03';
      end if;
      select (v ->> 1)::boolean into v_allowed
        from jsonb_array_elements(coalesce(p_kind_versions -> v_case.case_type, '[]')) v
       where (v ->> 0)::date <= v_case.case_type_version
       order by (v ->> 0)::date desc
       limit 1;
      if v_allowed is not true then
        raise exception 'kind not needed' using errcode = 'RBA04', detail = v_case.case_type;
      end if;
      if v_case.status = any (p_finished) then
        raise exception 'case finished' using errcode = 'RBA05', detail = v_case.status;
      end if;
      if p_session_kind and v_case.status <> 'awaiting_ceremony' then
        raise exception 'not awaiting ceremony' using errcode = 'RBA06', detail = v_case.status;
      end if;
      insert into appointments (hub_tenant_id, member_tenant_id, case_id, kind, attempt, registered_letter, earliest, latest, requested_location_code)
        values (v_case.hub_tenant_id, v_case.member_tenant_id, v_case.id, p_kind, p_attempt, p_registered_letter, p_earliest, p_latest, p_location)
        returning * into v_appointment;
      update cases set version = v_case.version + 1, updated_at = date_trunc('milliseconds', now()) where id = v_case.id;
      insert into case_events (case_id, hub_tenant_id, member_tenant_id, actor_kind, actor_id, action, from_status, to_status, reason, version)
        values (v_case.id, v_case.hub_tenant_id, v_case.member_tenant_id, p_actor_kind, p_actor_id, 'appointment_requested',
                v_case.status, v_case.status, p_reason, v_case.version + 1);
      insert into outbox (queue, job_name, payload)
        values ('scheduling', 'book', jsonb_build_object('tenantId', v_case.hub_tenant_id, 'appointmentId', v_appointment.id));
      return next v_appointment;
    end
    $$`.execute(db)

  // One staff member's calendar as the slot search reads it; held time overlapping [p_from, p_to).
  // plpgsql, not sql: a SQL function that is not inlined is planned again on every statement that
  // calls it (a millisecond of planning), plpgsql keeps its plan for the connection.
  await sql`
    create function staff_calendar_json(p_staff uuid, p_from timestamptz, p_to timestamptz) returns json
    language plpgsql stable security invoker set search_path = public, pg_temp as $$
    begin
      return json_build_object(
        'id', p_staff,
        'weekly', (select coalesce(json_agg(json_build_object('weekday', w.weekday, 'startMinute', w.start_minute, 'endMinute', w.end_minute,
                                                              'locationCode', w.location_code) order by w.weekday, w.start_minute), '[]')
                     from staff_availability w where w.staff_id = p_staff),
        'absences', (select coalesce(json_agg(json_build_object('from', x.from_date, 'until', x.until_date) order by x.from_date), '[]')
                       from staff_absences x where x.staff_id = p_staff),
        'busy', (select coalesce(json_agg(json_build_object('start', b.starts_at, 'end', b.ends_at) order by b.starts_at), '[]')
                   from appointments b
                  where b.staff_id = p_staff and b.status in ('booked', 'attended', 'no_show') and b.ends_at > p_from and b.starts_at < p_to));
    end
    $$`.execute(db)

  await sql`
    create function appointment_booking_context(
      p_tenant uuid, p_appointment uuid, p_session_kinds text[], p_next_working_day timestamptz, p_horizon_ms bigint, p_tail_ms bigint)
    returns table (
      appointment_id uuid, kind text, status text, earliest timestamptz, latest timestamptz, requested_location_code text, attempt smallint,
      case_id uuid, case_version integer, hub_tenant_id uuid, member_tenant_id uuid, reference text, case_type text, assigned_staff_id uuid,
      decided_at timestamptz, royal_decree_decision text, royal_decree_date date, staff json)
    language plpgsql volatile security invoker set search_path = public, pg_temp as $$
    begin
      perform app_enter_tenant(p_tenant);
      return query
        select a.id, a.kind, a.status, a.earliest, a.latest, a.requested_location_code, a.attempt,
               c.id, c.version, c.hub_tenant_id, c.member_tenant_id, c.reference, c.case_type, c.assigned_staff_id,
               c.decided_at, c.royal_decree_decision, c.royal_decree_date,
               case when a.status = 'requested' and not (a.kind = any (p_session_kinds)) then
                 -- The held time from the first possible start to a day past the last (searchBounds
                 -- in api/appointments/booking.ts); reading more only costs bytes, less a lost race.
                 (select coalesce(json_agg(case when l.loaded then staff_calendar_json(s.id, r.from_at, r.to_at) else json_build_object('id', s.id) end
                                           order by s.created_at, s.id), '[]')
                    from staff s
                   cross join lateral (select not exists (select 1 from staff p where p.id = c.assigned_staff_id and p.hub_tenant_id = c.hub_tenant_id
                                                            and p.status = 'active' and c.case_type = any (p.skills))
                                              or s.id = c.assigned_staff_id as loaded) l
                   cross join lateral (select greatest(a.earliest, p_next_working_day) as from_at) f
                   cross join lateral (select f.from_at,
                                              coalesce(a.latest, f.from_at + p_horizon_ms * interval '1 millisecond') + p_tail_ms * interval '1 millisecond' as to_at) r
                   where s.hub_tenant_id = c.hub_tenant_id and s.status = 'active' and c.case_type = any (s.skills))
               end
          from appointments a
          join cases c on c.id = a.case_id
         where a.id = p_appointment;
    end
    $$`.execute(db)

  await sql`
    create function staff_calendars(p_tenant uuid, p_staff uuid[], p_from timestamptz, p_to timestamptz) returns json
    language plpgsql volatile security invoker set search_path = public, pg_temp as $$
    begin
      perform app_enter_tenant(p_tenant);
      return (select coalesce(json_agg(staff_calendar_json(s.id, p_from, p_to) order by s.n), '[]')
                from unnest(p_staff) with ordinality as s (id, n));
    end
    $$`.execute(db)

  await sql`
    create function book_appointment(
      p_tenant uuid, p_appointment uuid, p_case_version integer, p_outcome text,
      p_staff uuid, p_starts timestamptz, p_ends timestamptz, p_location text, p_busy_from timestamptz, p_busy_to timestamptz,
      p_seat_not_before timestamptz, p_seat_not_after timestamptz, p_seat_last_date date, p_seat_location text,
      p_reason text, p_actor_kind text, p_actor_id text, p_booked_event jsonb, p_unschedulable_event jsonb,
      out o_result text, out o_starts_at timestamptz, out o_busy_starts timestamptz[], out o_busy_ends timestamptz[])
    language plpgsql volatile security invoker set search_path = public, pg_temp as $$
    declare
      v_case cases;
      v_appointment appointments;
      v_booked boolean;
      v_event jsonb;
      v_deliveries integer;
    begin
      perform app_enter_tenant(p_tenant);
      select c.* into v_case from cases c where c.id = (select a.case_id from appointments a where a.id = p_appointment) for update;
      if not found then
        o_result := 'skipped';
        return;
      end if;
      select a.* into v_appointment from appointments a where a.id = p_appointment for update;
      if not found or v_appointment.status <> 'requested' then
        o_result := 'skipped';
        return;
      end if;
      if v_case.version <> p_case_version then
        o_result := 'stale';
        return;
      end if;
      v_booked := false;
      if p_outcome = 'slot' then
        -- Without hold: a lost race lets the staff lock go at once, even inside a transaction.
        select b.booked, b.busy_starts, b.busy_ends into v_booked, o_busy_starts, o_busy_ends
          from book_staff_slot(p_appointment, p_staff, p_starts, p_ends, p_location, p_busy_from, p_busy_to, false) b;
        if not v_booked then
          o_result := 'taken';
          return;
        end if;
        o_starts_at := p_starts;
        o_busy_starts := null;
        o_busy_ends := null;
      elsif p_outcome = 'seat' then
        with session as (
          select s.id from ceremony_sessions s
           where s.hub_tenant_id = v_case.hub_tenant_id and s.starts_at >= p_seat_not_before and s.starts_at <= p_seat_not_after
             and s.session_date <= p_seat_last_date and s.seats_taken < s.capacity
             and (p_seat_location is null or s.location_code = p_seat_location)
           order by s.starts_at, s.id
           limit 1
           for update
        ), seat as (
          update ceremony_sessions x set seats_taken = x.seats_taken + 1
            from session where x.id = session.id and x.seats_taken < x.capacity
          returning x.id, x.starts_at, x.ends_at, x.location_code
        )
        update appointments a
           set status = 'booked', starts_at = seat.starts_at, ends_at = seat.ends_at, ceremony_id = seat.id,
               location_code = seat.location_code, booked_at = clock_timestamp(), reason = null,
               version = a.version + 1, updated_at = now()
          from seat
         where a.id = p_appointment
        returning a.starts_at into o_starts_at;
        v_booked := o_starts_at is not null;
      end if;
      if not v_booked then
        update appointments a set status = 'unschedulable', reason = p_reason, version = a.version + 1, updated_at = now() where a.id = p_appointment;
      end if;
      update cases c set version = v_case.version + 1, updated_at = date_trunc('milliseconds', now()) where c.id = v_case.id;
      insert into case_events (case_id, hub_tenant_id, member_tenant_id, actor_kind, actor_id, action, from_status, to_status, reason, version)
        values (v_case.id, v_case.hub_tenant_id, v_case.member_tenant_id, p_actor_kind, p_actor_id,
                case when v_booked then 'appointment_booked' else 'appointment_unschedulable' end,
                v_case.status, v_case.status,
                case when v_booked then v_appointment.kind || ' booked for ' || to_char(o_starts_at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')
                     else v_appointment.kind || ': ' || p_reason end,
                v_case.version + 1);
      v_event := case when v_booked then p_booked_event else p_unschedulable_event end;
      select count(*) into v_deliveries
        from webhook_fan_out((v_event ->> 'id')::uuid, v_event ->> 'type', v_case.hub_tenant_id, v_case.member_tenant_id, v_event);
      if v_deliveries > 0 then
        insert into outbox (queue, job_name, payload)
          values ('notifications', 'deliver-event', jsonb_build_object('tenantId', v_case.hub_tenant_id, 'eventId', v_event ->> 'id'));
      end if;
      o_result := case when v_booked then 'booked' else 'unschedulable' end;
    end
    $$`.execute(db)

  for (const fn of ['request_appointment', 'staff_calendar_json', 'appointment_booking_context', 'staff_calendars', 'book_appointment']) {
    await sql.raw(`revoke all on function ${fn} from public`).execute(db)
    await sql.raw(`grant execute on function ${fn} to regiobalie_app`).execute(db)
  }
}

export async function down(db: Kysely<any>): Promise<void> {
  for (const fn of ['book_appointment', 'staff_calendars', 'appointment_booking_context', 'staff_calendar_json', 'request_appointment']) {
    await sql.raw(`drop function if exists ${fn}`).execute(db)
  }
}
