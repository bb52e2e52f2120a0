// Documents of a case (metadata, wrapped data key, blob name — never the bytes) and their automated
// reviews, one row per review version. Frozen once landed.
import { sql, type Kysely } from 'kysely'

const caseParty = `app_is_admin() or hub_tenant_id = app_current_tenant() or member_tenant_id = app_current_tenant()`

export async function up(db: Kysely<any>): Promise<void> {
  await sql`
    create table documents (
      id uuid primary key default gen_random_uuid(),
      case_id uuid not null references cases (id),
      hub_tenant_id uuid not null,
      member_tenant_id uuid not null,
      kind text not null,
      issuing_country text not null,
      language text not null,
      issued_on date,
      expires_on date,
      filename text not null,
      content_type text not null check (content_type in ('application/pdf', 'image/jpeg', 'image/png')),
      size_bytes bigint not null check (size_bytes >= 0),
      sha256 bytea not null,
      blob_name text not null unique,
      -- The document's data key, wrapped by BLOB_MASTER_KEY. Null once crypto-shredded.
      wrapped_key text,
      shredded_at timestamptz,
      uploaded_by_tenant_id uuid not null,
      uploaded_by text not null,
      review_status text not null default 'pending' check (review_status in ('pending', 'passed', 'needs_attention', 'rejected')),
      review_version integer not null default 1,
      verdict text check (verdict in ('accepted', 'rejected')),
      verdict_reason text,
      verdict_by text,
      verdict_at timestamptz,
      created_at timestamptz not null default date_trunc('milliseconds', now())
    )`.execute(db)
  await sql`create index documents_case on documents (case_id, created_at desc, id desc)`.execute(db)
  await sql`create index documents_case_sha on documents (case_id, sha256)`.execute(db)

  await sql`
    create table document_reviews (
      document_id uuid not null references documents (id),
      review_version integer not null,
      hub_tenant_id uuid not null,
      member_tenant_id uuid not null,
      status text not null check (status in ('passed', 'needs_attention', 'rejected')),
      findings jsonb not null,
      created_at timestamptz not null default now(),
      primary key (document_id, review_version)
    )`.execute(db)

  for (const table of ['documents', 'document_reviews']) {
    await sql.raw(`alter table ${table} enable row level security`).execute(db)
    await sql.raw(`alter table ${table} force row level security`).execute(db)
    await sql.raw(`create policy ${table}_parties on ${table} for all using (${caseParty}) with check (${caseParty})`).execute(db)
  }
  await sql`grant select, insert, update on documents to regiobalie_app`.execute(db)
  await sql`grant select, insert on document_reviews to regiobalie_app`.execute(db)
}

export async function down(db: Kysely<any>): Promise<void> {
  await sql`drop table document_reviews`.execute(db)
  await sql`drop table documents`.execute(db)
}
