// Issue 14, performance: a settlement moves a batch of members' open charges onto their invoices in
// one statement that reads only the open_charges queue.
// - open_charges carries the charge's amount, so taking the lines needs no look-up of each charge;
//   the foreign key (charge_id, amount_cents) → service_charges (id, amount_cents) keeps the copy
//   equal to the charge, in the database.
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
}

export async function down(db: Kysely<any>): Promise<void> {
  await sql`alter table open_charges add constraint open_charges_charge_id_fkey foreign key (charge_id) references service_charges (id)`.execute(db)
  await sql`alter table open_charges drop constraint open_charges_charge_amount_fkey`.execute(db)
  await sql`alter table open_charges drop column amount_cents`.execute(db)
  await sql`alter table service_charges drop constraint service_charges_id_amount`.execute(db)
}
