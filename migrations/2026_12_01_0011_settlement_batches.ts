// Issue 14, performance: a settlement moves a batch of members' open charges onto their invoices in
// one statement that reads only the open_charges queue.
// - open_charges carries the charge's amount, so taking the lines needs no look-up of each charge;
//   the foreign key (charge_id, amount_cents) → service_charges (id, amount_cents) keeps the copy
//   equal to the charge, in the database.
// - invoice_lines checks its charges per statement instead of per row: the foreign key to
//   service_charges took a share lock on every charge it billed (a write, and a WAL record, per
//   charge, on a table that is never deleted from); a statement trigger checks every new line's
//   (charge, amount) against service_charges in one anti-join, and service_charges becomes
//   immutable in the database (no UPDATE, DELETE or TRUNCATE, as the ledger), which is what the
//   foreign key's lock protected against.
// Frozen once landed.
import { sql, type Kysely } from 'kysely'

export async function up(db: Kysely<any>): Promise<void> {
  await sql`alter table service_charges add constraint service_charges_id_amount unique (id, amount_cents)`.execute(db)
  await sql`alter table open_charges add column amount_cents bigint`.execute(db)
  await sql`update open_charges o set amount_cents = c.amount_cents from service_charges c where c.id = o.charge_id`.execute(db)
  await sql`alter table open_charges alter column amount_cents set not null`.execute(db)
  await sql`alter table open_charges add constraint open_charges_charge_amount_fkey
    foreign key (charge_id, amount_cents) references service_charges (id, amount_cents)`.execute(db)
  await sql`alter table open_charges drop constraint open_charges_charge_id_fkey`.execute(db)

  await sql`alter table invoice_lines drop constraint invoice_lines_charge_id_fkey`.execute(db)
  await sql`
    create function invoice_lines_of_charges() returns trigger language plpgsql as $$
    begin
      if exists (
        select 1 from new_lines n
        where not exists (select 1 from service_charges c where c.id = n.charge_id and c.amount_cents = n.amount_cents)
      ) then
        raise exception 'an invoice line must be a service charge, at its amount' using errcode = '23503';
      end if;
      return null;
    end $$`.execute(db)
  await sql`create trigger invoice_lines_of_charges after insert on invoice_lines referencing new table as new_lines
    for each statement execute function invoice_lines_of_charges()`.execute(db)
  await sql`
    create function service_charges_immutable() returns trigger language plpgsql as $$
    begin
      raise exception 'service charges are immutable; a credit note reverses one' using errcode = '42501';
    end $$`.execute(db)
  await sql`create trigger service_charges_immutable before update or delete on service_charges for each row execute function service_charges_immutable()`.execute(db)
  await sql`create trigger service_charges_no_truncate before truncate on service_charges for each statement execute function service_charges_immutable()`.execute(db)
}

export async function down(db: Kysely<any>): Promise<void> {
  await sql`drop trigger service_charges_no_truncate on service_charges`.execute(db)
  await sql`drop trigger service_charges_immutable on service_charges`.execute(db)
  await sql`drop function service_charges_immutable()`.execute(db)
  await sql`drop trigger invoice_lines_of_charges on invoice_lines`.execute(db)
  await sql`drop function invoice_lines_of_charges()`.execute(db)
  await sql`alter table invoice_lines add constraint invoice_lines_charge_id_fkey foreign key (charge_id) references service_charges (id)`.execute(db)
  await sql`alter table open_charges add constraint open_charges_charge_id_fkey foreign key (charge_id) references service_charges (id)`.execute(db)
  await sql`alter table open_charges drop constraint open_charges_charge_amount_fkey`.execute(db)
  await sql`alter table open_charges drop column amount_cents`.execute(db)
  await sql`alter table service_charges drop constraint service_charges_id_amount`.execute(db)
}
