// The platform administrator: regions, municipalities (onboarded from the CBS list), their keys (the
// secret shown once), agreements and staff. Every action is a tenancy service call, as in the API.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import { CASE_TYPE_CODES } from '../../domain/case-types.js'
import { invalidFields } from '../../domain/errors.js'
import { MUNICIPALITIES } from '../../domain/municipalities.js'
import * as tenancy from '../../tenancy/tenancy.service.js'
import { dutchDate } from '../../time.js'
import { emptyForm, isDomainError, list, refusedForm, text, validateAgainstContract, type FormState } from '../forms.js'
import { notice, redirect, render, type WebContext } from '../render.js'
import { requireUser, type WebUser } from '../session.js'
import { caseTypeLabel } from '../texts.js'
import { idParam } from './case.pages.js'

const LABELS: Record<string, Record<string, string>> = {
  regio: { name: 'Naam van de regio' },
  gemeente: { municipalityCode: 'Gemeente', regionId: 'Regio', role: 'Rol' },
  sleutel: { name: 'Naam van de sleutel' },
  overeenkomst: { caseType: 'Zaaktype', tariffCents: 'Tarief', validFrom: 'Geldig vanaf', validUntil: 'Geldig tot en met' },
  medewerker: { name: 'Naam', email: 'E-mailadres', role: 'Rol', skills: 'Vaardigheden' },
}

/** "450" or "450,00" euros → 45000 cents, exactly (no floating point). */
export function euroCents(value: string): number {
  const m = /^(\d{1,7})(?:[,.](\d{2}))?$/.exec(value.replace(/\s|€/g, ''))
  if (!m) throw invalidFields([{ name: 'tariffCents', code: 'invalid-format', reason: 'an amount in euros such as 450,00' }])
  return Number(m[1]) * 100 + Number(m[2] ?? '0')
}

export const euros = (cents: number): string => `€ ${Math.floor(cents / 100)},${String(cents % 100).padStart(2, '0')}`

const today = () => dutchDate()
const municipalityOptions = () =>
  MUNICIPALITIES.filter((m) => m.status === 'active' && (m.validUntil === null || m.validUntil >= today()))
    .map((m) => ({ value: m.code, text: `${m.name} (${m.code})` }))
    .sort((a, b) => a.text.localeCompare(b.text, 'nl'))
const caseTypeOptions = CASE_TYPE_CODES.map((c) => ({ value: c, text: caseTypeLabel(c) }))

export function adminPages(app: FastifyInstance, ctx: WebContext): void {
  const admin = (req: FastifyRequest): WebUser => requireUser(req, ['admin'])

  const regionsPage = async (req: FastifyRequest, reply: FastifyReply, form: FormState, status = 200) => {
    const user = admin(req)
    const regions = await tenancy.listRegions(ctx.db, user.principal, { limit: 100 })
    return render(req, reply, 'admin-regions', { title: 'Regio’s', regions: regions.items, form }, status)
  }
  app.get('/beheer/regios', async (req, reply) => regionsPage(req, reply, emptyForm('regio')))
  app.post('/beheer/regios', { preHandler: ctx.csrf }, async (req, reply) => {
    const user = admin(req)
    const input = { name: text(req.body as Record<string, unknown>, 'name') }
    try {
      validateAgainstContract(req, 'regiobalie:RegionCreate', input)
      const region = await tenancy.createRegion(ctx.db, user.principal, input)
      notice(req, `Regio ${region.name} is aangemaakt.`)
      return redirect(reply, '/app/beheer/regios')
    } catch (err) {
      if (!isDomainError(err)) throw err
      return regionsPage(req, reply, refusedForm('regio', input, err, LABELS.regio!), ctx.statusOf[err.kind])
    }
  })

  const tenantsPage = async (req: FastifyRequest, reply: FastifyReply, form: FormState, status = 200) => {
    const user = admin(req)
    const [tenants, regions] = await Promise.all([
      tenancy.listTenants(ctx.db, user.principal, { limit: 100 }),
      tenancy.listRegions(ctx.db, user.principal, { limit: 100 }),
    ])
    const regionName = new Map(regions.items.map((r) => [r.id, r.name]))
    return render(
      req,
      reply,
      'admin-tenants',
      {
        title: 'Gemeenten',
        tenants: tenants.items.map((t) => ({ ...t, regionName: regionName.get(t.regionId) ?? '' })),
        regionOptions: regions.items.map((r) => ({ value: r.id, text: r.name })),
        municipalityOptions: municipalityOptions(),
        form,
      },
      status,
    )
  }
  app.get('/beheer/gemeenten', async (req, reply) => tenantsPage(req, reply, emptyForm('gemeente')))
  app.post('/beheer/gemeenten', { preHandler: ctx.csrf }, async (req, reply) => {
    const user = admin(req)
    const body = req.body as Record<string, unknown>
    const input = { municipalityCode: text(body, 'municipalityCode'), regionId: text(body, 'regionId'), role: text(body, 'role') }
    try {
      validateAgainstContract(req, 'regiobalie:TenantCreate', input)
      const tenant = await tenancy.onboardTenant(ctx.db, user.principal, input)
      notice(req, `${tenant.name} is aangesloten.`)
      return redirect(reply, `/app/beheer/gemeenten/${tenant.id}`)
    } catch (err) {
      if (!isDomainError(err)) throw err
      return tenantsPage(req, reply, refusedForm('gemeente', input, err, LABELS.gemeente!), ctx.statusOf[err.kind])
    }
  })

  type TenantParams = { Params: { tenantId: string } }
  const tenantPage = async (req: FastifyRequest<TenantParams>, reply: FastifyReply, form: FormState | null, status = 200, secret: { what: string; key: string } | null = null) => {
    const user = admin(req)
    const id = idParam(req.params.tenantId)
    const tenant = await tenancy.getTenant(ctx.db, user.principal, id)
    const [keys, agreements, staff] = await Promise.all([
      tenancy.listApiKeys(ctx.db, user.principal, id, { limit: 100 }),
      tenant.role === 'member' ? tenancy.listAgreements(ctx.db, user.principal, id) : Promise.resolve({ items: [] }),
      tenant.role === 'hub' ? tenancy.listStaff(ctx.db, user.principal, id, { limit: 100 }) : Promise.resolve({ items: [] }),
    ])
    return render(
      req,
      reply,
      'admin-tenant',
      { title: `Gemeente ${tenant.name}`, tenant, keys: keys.items, agreements: agreements.items, staff: staff.items, caseTypeOptions, euros, form, formName: form?.form ?? null, secret, today: today() },
      status,
    )
  }
  app.get<TenantParams>('/beheer/gemeenten/:tenantId', async (req, reply) => tenantPage(req, reply, null))

  /** One form of the tenant page; `done` returns the notice, or a secret to show once on this answer. */
  const tenantAction = (path: string, form: string, run: (user: WebUser, tenantId: string, body: Record<string, unknown>, req: FastifyRequest) => Promise<string | { what: string; key: string }>) =>
    app.post<TenantParams>(`/beheer/gemeenten/:tenantId/${path}`, { preHandler: ctx.csrf }, async (req, reply) => {
      const user = admin(req)
      const tenantId = idParam(req.params.tenantId)
      const body = (req.body ?? {}) as Record<string, unknown>
      try {
        const done = await run(user, tenantId, body, req)
        if (typeof done !== 'string') return tenantPage(req, reply, null, 201, done)
        notice(req, done)
        return redirect(reply, `/app/beheer/gemeenten/${tenantId}`)
      } catch (err) {
        if (!isDomainError(err) || err.kind === 'not-found') throw err
        const values = Object.fromEntries(Object.entries(body).filter(([k]) => k !== '_csrf')) as FormState['values']
        return tenantPage(req, reply, refusedForm(form, values, err, LABELS[form] ?? {}), ctx.statusOf[err.kind])
      }
    })

  tenantAction('status', 'status', async (user, tenantId, body) => {
    const status = text(body, 'status') === 'suspended' ? 'suspended' : 'active'
    const t = await tenancy.updateTenantStatus(ctx.db, user.principal, tenantId, { status })
    return `${t.name} is ${status === 'suspended' ? 'opgeschort' : 'weer actief'}.`
  })
  tenantAction('sleutels', 'sleutel', async (user, tenantId, body, req) => {
    const input = { name: text(body, 'name') }
    validateAgainstContract(req, 'regiobalie:ApiKeyCreate', input)
    const key = await tenancy.createApiKey(ctx.db, user.principal, tenantId, input)
    return { what: `Sleutel „${key.name}”`, key: key.key }
  })
  app.post<{ Params: { tenantId: string; keyId: string } }>('/beheer/gemeenten/:tenantId/sleutels/:keyId/intrekken', { preHandler: ctx.csrf }, async (req, reply) => {
    const user = admin(req)
    const tenantId = idParam(req.params.tenantId)
    await tenancy.revokeApiKey(ctx.db, user.principal, tenantId, idParam(req.params.keyId))
    notice(req, 'De sleutel is ingetrokken; hij werkt vanaf nu niet meer.')
    return redirect(reply, `/app/beheer/gemeenten/${tenantId}`)
  })
  tenantAction('overeenkomsten', 'overeenkomst', async (user, tenantId, body, req) => {
    const caseType = text(body, 'caseType')
    const validUntil = text(body, 'validUntil')
    const input = { tariffCents: euroCents(text(body, 'tariffCents')), validFrom: text(body, 'validFrom'), ...(validUntil ? { validUntil } : {}) }
    validateAgainstContract(req, 'regiobalie:AgreementPut', input)
    if (!caseType) throw invalidFields([{ name: 'caseType', code: 'required', reason: 'is required' }])
    await tenancy.putAgreement(ctx.db, user.principal, tenantId, caseType, input)
    return `De overeenkomst voor ${caseTypeLabel(caseType).toLowerCase()} is vastgelegd.`
  })
  tenantAction('medewerkers', 'medewerker', async (user, tenantId, body, req) => {
    const input = { name: text(body, 'name'), email: text(body, 'email'), role: text(body, 'role'), skills: list(body, 'skills') }
    validateAgainstContract(req, 'regiobalie:StaffCreate', input)
    const staff = await tenancy.createStaff(ctx.db, user.principal, tenantId, input)
    return { what: `Persoonlijke sleutel van ${staff.name}`, key: staff.key }
  })
}
