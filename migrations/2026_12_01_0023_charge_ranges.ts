// Issue 14, performance: invoicing no longer writes each charge. Migration 0017 made invoicing one
// UPDATE per charge (charge_lines.invoice_id), and at 2,000,000 charges that UPDATE was the run.
// Now an invoice records which charges it covers as ranges that a query reproduces, and invoicing
// is a GROUP BY over those ranges plus one insert per invoice.
// - Every charge gets a sequence number `seq` when it is posted, and every settlement its cutoff
//   `charges_below` from the same sequence. Both are taken under one advisory lock per hub: a
//   posting holds it shared until it commits, a settlement takes it exclusively — so when a
//   settlement has its cutoff, every charge numbered below it is committed, and every charge posted
//   later is numbered above it. The charges of a settlement are then fixed, and no run can miss
//   a charge that commits late.
// - A charge (period p, seq q) belongs to the first settlement (lowest cutoff) of its hub with a
//   cutoff above q and a period ≥ p: a charge posted after its month was settled goes to the next
//   settlement, and two settlements at once (or out of month order) never share a charge. For a
//   settlement S that is, per period p ≤ S's period, the charges with L(p) ≤ q < S's cutoff, where
//   L(p) is the highest cutoff of an earlier settlement whose period is ≥ p — a staircase of a few
//   steps. The invoice stores it (`charges_below`, `step_upto`, `step_from`): its lines are a
//   property of the invoice row, readable by whoever may read the invoice (the member too, who may
//   not read the hub's settlements).
// - What invoicing used to guard with the row's invoice id is guarded by the ranges: a charge that
//   a settlement covers is never deleted nor changed (triggers, also for the owner); `seq`, period,
//   member and amount never change; a settlement's period and cutoffs never change. A charge with
//   an invoice id (invoiced before this migration, or put on an invoice by hand through
//   invoice_lines) is outside every range, so it is on one invoice only.
// - invoice_lines and open_charges stay as views (for tests, the benchmark and reports): the lines
//   are the invoice-id rows and the ranges of the invoices; open is what is on no invoice yet — per
//   charge, the member's invoices whose step for the charge's period starts at or below its number
//   (the same ranges, asked the other way round, so that it stays an index look-up per charge).
// - The application role loses UPDATE and DELETE on the charges and INSERT on invoice_lines: it no
//   longer needs them, and only the owner (who sees every settlement) passes the triggers' checks.
// - Indexes: the uninvoiced charges by member and seq (a month's postings between two cutoffs) and
//   by member and period (the charges of the months after the previous settlement's), each with
//   what a range returns, so that reading one never visits the table (at 5,000 charges a member,
//   scattered over as many pages, that visit was 5,000 page reads per invoice). Fill factor 100:
//   charges are no longer updated, so their pages are written once and read densely.
// Existing data: the rows already invoiced keep their invoice id; a settlement already done keeps
// its invoices as they are and covers no range (its late charges stay open for the next one); a
// settlement still running or failed gets a cutoff above exactly the open charges it would have
// taken (its period and before, posted up to its cutoff, of the members it has not settled yet).
// Frozen once landed.
import { sql, type Kysely } from 'kysely'

const cutoffLock = (hub: string) => `hashtextextended('charge-cutoff:' || ${hub}::text, 0)`

export async function up(db: Kysely<any>): Promise<void> {
  await sql`create sequence charge_lines_seq as bigint`.execute(db)
  await sql`alter table charge_lines add column seq bigint`.execute(db)
  await sql`alter table settlements add column charges_below bigint`.execute(db)
  await sql`alter table invoices add column charges_below bigint, add column step_upto text[], add column step_from bigint[]`.execute(db)
  await sql`alter table invoices add constraint invoices_charge_ranges check (
    (charges_below is null and step_upto is null and step_from is null)
    or (document_type = 'invoice' and charges_below > 0 and cardinality(step_upto) >= 1 and cardinality(step_upto) = cardinality(step_from)
        and step_upto[cardinality(step_upto)] = period))`.execute(db)

  await sql`alter table charge_lines disable trigger charge_lines_invoiced_once`.execute(db)
  await sql`
    do $$
    declare
      s record;
      v bigint;
    begin
      with o as (select charge_id, row_number() over (order by posted_at, charge_id) as n from charge_lines where invoice_id is not null)
      update charge_lines c set seq = o.n from o where o.charge_id = c.charge_id;
      select coalesce(max(seq), 0) into v from charge_lines;
      for s in select * from settlements where status <> 'done' order by created_at, id loop
        with o as (
          select c.charge_id, row_number() over (order by c.posted_at, c.charge_id) as n from charge_lines c
          where c.seq is null and c.invoice_id is null and c.hub_tenant_id = s.hub_tenant_id and c.period <= s.period and c.posted_at <= s.cutoff
            and not exists (select 1 from settlement_members m where m.settlement_id = s.id and m.member_tenant_id = c.member_tenant_id))
        update charge_lines c set seq = v + o.n from o where o.charge_id = c.charge_id;
        select coalesce(max(seq), 0) + 1 into v from charge_lines;
        update settlements set charges_below = v where id = s.id;
      end loop;
      with o as (select charge_id, row_number() over (order by posted_at, charge_id) as n from charge_lines where seq is null)
      update charge_lines c set seq = v + o.n from o where o.charge_id = c.charge_id;
      select coalesce(max(seq), 0) into v from charge_lines;
      perform setval('charge_lines_seq', greatest(v, 1), v > 0);
    end $$`.execute(db)
  await sql`alter table charge_lines enable trigger charge_lines_invoiced_once`.execute(db)
  await sql`alter sequence charge_lines_seq owned by charge_lines.seq`.execute(db)
  await sql`alter table charge_lines alter column seq set default nextval('charge_lines_seq'), alter column seq set not null`.execute(db)
  await sql`alter table charge_lines set (fillfactor = 100)`.execute(db)

  await sql`drop index charge_lines_open`.execute(db)
  await sql`create index charge_lines_open_seq on charge_lines (hub_tenant_id, member_tenant_id, seq) include (period, amount_cents, charge_id) where invoice_id is null`.execute(db)
  await sql`create index charge_lines_open_period on charge_lines (hub_tenant_id, member_tenant_id, period, seq) include (amount_cents, charge_id) where invoice_id is null`.execute(db)

  // Posting: the hub's cutoff lock shared until commit, then the number.
  await sql.raw(`
    create function charge_lines_sequenced() returns trigger language plpgsql as $$
    begin
      perform pg_advisory_xact_lock_shared(${cutoffLock('new.hub_tenant_id')});
      new.seq := nextval('charge_lines_seq');
      return new;
    end $$`).execute(db)
  await sql`create trigger charge_lines_sequenced before insert on charge_lines for each row execute function charge_lines_sequenced()`.execute(db)
  // A settlement's cutoff: the lock exclusively (it waits for the postings in flight), then the number.
  await sql.raw(`
    create function settlements_cutoff() returns trigger language plpgsql as $$
    begin
      perform pg_advisory_xact_lock(${cutoffLock('new.hub_tenant_id')});
      new.charges_below := nextval('charge_lines_seq');
      return new;
    end $$`).execute(db)
  await sql`create trigger settlements_cutoff before insert on settlements for each row execute function settlements_cutoff()`.execute(db)
  await sql`
    create function settlements_cutoff_kept() returns trigger language plpgsql as $$
    begin
      raise exception 'a settlement''s hub, period and cutoffs never change' using errcode = '42501';
    end $$`.execute(db)
  await sql`create trigger settlements_cutoff_kept before update on settlements for each row
    when (new.charges_below is distinct from old.charges_below or new.period <> old.period or new.hub_tenant_id <> old.hub_tenant_id or new.cutoff <> old.cutoff)
    execute function settlements_cutoff_kept()`.execute(db)

  // What a range reads never changes; an uninvoiced charge that a settlement covers stays.
  await sql`
    create function charge_lines_fixed() returns trigger language plpgsql as $$
    begin
      raise exception 'a charge''s number, period, posting time and parties never change' using errcode = '42501';
    end $$`.execute(db)
  await sql`create trigger charge_lines_fixed before update on charge_lines for each row
    when (new.seq <> old.seq or new.period <> old.period or new.posted_at <> old.posted_at
      or new.hub_tenant_id <> old.hub_tenant_id or new.member_tenant_id <> old.member_tenant_id)
    execute function charge_lines_fixed()`.execute(db)
  await sql.raw(`
    create function charge_lines_covered_kept() returns trigger language plpgsql as $$
    begin
      perform pg_advisory_xact_lock_shared(${cutoffLock('old.hub_tenant_id')});
      if exists (select 1 from settlements s where s.hub_tenant_id = old.hub_tenant_id and s.charges_below > old.seq and s.period >= old.period) then
        raise exception 'an invoiced charge stays on its invoice; a credit note reverses it' using errcode = '42501';
      end if;
      if tg_op = 'DELETE' then
        return old;
      end if;
      return new;
    end $$`).execute(db)
  await sql`create trigger charge_lines_covered_kept before update or delete on charge_lines for each row
    when (old.invoice_id is null) execute function charge_lines_covered_kept()`.execute(db)

  // The charges of one invoice's ranges: the lowest step (the periods up to the previous
  // settlement's, posted after its cutoff) by seq, the later months by period.
  await sql`
    create function charges_in_range(p_hub uuid, p_member uuid, p_below bigint, p_upto text[], p_from bigint[])
    returns table (charge_id uuid, amount_cents bigint)
    language sql stable as $$
      select c.charge_id, c.amount_cents from charge_lines c
      where c.hub_tenant_id = p_hub and c.member_tenant_id = p_member and c.invoice_id is null
        and c.seq >= p_from[1] and c.seq < p_below and c.period <= p_upto[1]
      union all
      select c.charge_id, c.amount_cents from generate_subscripts(p_upto, 1) j
      join charge_lines c on c.hub_tenant_id = p_hub and c.member_tenant_id = p_member and c.invoice_id is null
        and c.period > p_upto[j - 1] and c.period <= p_upto[j] and c.seq >= p_from[j] and c.seq < p_below
      where j > 1
    $$`.execute(db)
  await sql`
    create function invoice_charges(p_invoice uuid) returns table (charge_id uuid, amount_cents bigint)
    language sql stable as $$
      select c.charge_id, c.amount_cents from charge_lines c where c.invoice_id = p_invoice
      union all
      select r.charge_id, r.amount_cents from invoices i
      cross join lateral charges_in_range(i.hub_tenant_id, i.member_tenant_id, i.charges_below, i.step_upto, i.step_from) r
      where i.id = p_invoice and i.charges_below is not null
    $$`.execute(db)

  await sql`
    create or replace view invoice_lines with (security_invoker = true) as
    select charge_id, invoice_id, hub_tenant_id, member_tenant_id, amount_cents from charge_lines where invoice_id is not null
    union all
    select r.charge_id, i.id, i.hub_tenant_id, i.member_tenant_id, r.amount_cents from invoices i
    cross join lateral charges_in_range(i.hub_tenant_id, i.member_tenant_id, i.charges_below, i.step_upto, i.step_from) r
    where i.charges_below is not null`.execute(db)
  await sql`
    create or replace view open_charges with (security_invoker = true) as
    select charge_id, hub_tenant_id, member_tenant_id, period, posted_at, amount_cents from charge_lines c
    where invoice_id is null and not exists (
      select 1 from invoices i
      where i.member_tenant_id = c.member_tenant_id and i.hub_tenant_id = c.hub_tenant_id and i.charges_below > c.seq
        and c.seq >= (select s.f from unnest(i.step_upto, i.step_from) s (upto, f) where s.upto >= c.period order by s.upto limit 1))`.execute(db)
  // By hand, a line still takes an open charge onto an invoice by its id — but not a charge that a
  // settlement covers (it is on that settlement's invoice, or will be).
  await sql`
    create or replace function invoice_lines_insert() returns trigger language plpgsql as $$
    declare
      charge service_charges%rowtype;
    begin
      select * into charge from service_charges c where c.id = new.charge_id and c.amount_cents = new.amount_cents;
      if not found then
        raise exception 'an invoice line must be a service charge, at its amount' using errcode = '23503';
      end if;
      if exists (
        select 1 from charge_lines o join settlements s on s.hub_tenant_id = o.hub_tenant_id and s.charges_below > o.seq and s.period >= o.period
        where o.charge_id = new.charge_id
      ) then
        raise exception 'duplicate key value: charge % is on an invoice of a settlement already', new.charge_id using errcode = '23505';
      end if;
      update charge_lines set invoice_id = new.invoice_id
      where charge_id = new.charge_id and invoice_id is null and amount_cents = new.amount_cents
        and hub_tenant_id = new.hub_tenant_id and member_tenant_id = new.member_tenant_id;
      if not found then
        insert into charge_lines (charge_id, hub_tenant_id, member_tenant_id, period, posted_at, amount_cents, invoice_id)
        values (new.charge_id, new.hub_tenant_id, new.member_tenant_id, charge.period, charge.posted_at, new.amount_cents, new.invoice_id);
      end if;
      return new;
    end $$`.execute(db)

  await sql`revoke update (invoice_id) on charge_lines from regiobalie_app`.execute(db)
  await sql`revoke delete on charge_lines from regiobalie_app`.execute(db)
  await sql`revoke delete on open_charges from regiobalie_app`.execute(db)
  await sql`revoke insert on invoice_lines from regiobalie_app`.execute(db)
  await sql`grant usage on sequence charge_lines_seq to regiobalie_app`.execute(db)
}

export async function down(db: Kysely<any>): Promise<void> {
  // Back to one invoice id per charge: the ranges' lines get theirs.
  await sql`alter table charge_lines disable trigger charge_lines_invoiced_once`.execute(db)
  await sql`alter table charge_lines disable trigger charge_lines_covered_kept`.execute(db)
  await sql`
    update charge_lines c set invoice_id = r.invoice_id
    from (select l.charge_id, i.id as invoice_id from invoices i
          cross join lateral charges_in_range(i.hub_tenant_id, i.member_tenant_id, i.charges_below, i.step_upto, i.step_from) l
          where i.charges_below is not null) r
    where r.charge_id = c.charge_id`.execute(db)
  await sql`alter table charge_lines enable trigger charge_lines_invoiced_once`.execute(db)
  await sql`grant update (invoice_id) on charge_lines to regiobalie_app`.execute(db)
  await sql`grant delete on charge_lines to regiobalie_app`.execute(db)
  await sql`drop view open_charges`.execute(db)
  await sql`drop view invoice_lines`.execute(db)
  await sql`
    create view open_charges with (security_invoker = true) as
    select charge_id, hub_tenant_id, member_tenant_id, period, posted_at, amount_cents from charge_lines where invoice_id is null`.execute(db)
  await sql`
    create view invoice_lines with (security_invoker = true) as
    select charge_id, invoice_id, hub_tenant_id, member_tenant_id, amount_cents from charge_lines where invoice_id is not null`.execute(db)
  await sql`
    create or replace function invoice_lines_insert() returns trigger language plpgsql as $$
    declare
      charge service_charges%rowtype;
    begin
      select * into charge from service_charges c where c.id = new.charge_id and c.amount_cents = new.amount_cents;
      if not found then
        raise exception 'an invoice line must be a service charge, at its amount' using errcode = '23503';
      end if;
      update charge_lines set invoice_id = new.invoice_id
      where charge_id = new.charge_id and invoice_id is null and amount_cents = new.amount_cents
        and hub_tenant_id = new.hub_tenant_id and member_tenant_id = new.member_tenant_id;
      if not found then
        insert into charge_lines (charge_id, hub_tenant_id, member_tenant_id, period, posted_at, amount_cents, invoice_id)
        values (new.charge_id, new.hub_tenant_id, new.member_tenant_id, charge.period, charge.posted_at, new.amount_cents, new.invoice_id);
      end if;
      return new;
    end $$`.execute(db)
  await sql`create trigger invoice_lines_insert instead of insert on invoice_lines for each row execute function invoice_lines_insert()`.execute(db)
  await sql`grant select, insert, delete on open_charges to regiobalie_app`.execute(db)
  await sql`grant select, insert on invoice_lines to regiobalie_app`.execute(db)
  await sql`drop function invoice_charges(uuid)`.execute(db)
  await sql`drop function charges_in_range(uuid, uuid, bigint, text[], bigint[])`.execute(db)
  await sql`drop trigger charge_lines_covered_kept on charge_lines`.execute(db)
  await sql`drop function charge_lines_covered_kept()`.execute(db)
  await sql`drop trigger charge_lines_fixed on charge_lines`.execute(db)
  await sql`drop function charge_lines_fixed()`.execute(db)
  await sql`drop trigger settlements_cutoff_kept on settlements`.execute(db)
  await sql`drop function settlements_cutoff_kept()`.execute(db)
  await sql`drop trigger settlements_cutoff on settlements`.execute(db)
  await sql`drop function settlements_cutoff()`.execute(db)
  await sql`drop trigger charge_lines_sequenced on charge_lines`.execute(db)
  await sql`drop function charge_lines_sequenced()`.execute(db)
  await sql`drop index charge_lines_open_period`.execute(db)
  await sql`drop index charge_lines_open_seq`.execute(db)
  await sql`create index charge_lines_open on charge_lines (hub_tenant_id, member_tenant_id, period) where invoice_id is null`.execute(db)
  await sql`alter table charge_lines set (fillfactor = 50)`.execute(db)
  await sql`alter table invoices drop constraint invoices_charge_ranges`.execute(db)
  await sql`alter table invoices drop column charges_below, drop column step_upto, drop column step_from`.execute(db)
  await sql`alter table settlements drop column charges_below`.execute(db)
  await sql`alter table charge_lines drop column seq`.execute(db)
}
