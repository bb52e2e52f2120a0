// The member's desk: submit a case with the API's own validation (the contract's schema, then the
// service's rules: 11-proef, real dates, ISO countries), errors next to the fields.
import type { FastifyInstance } from 'fastify'
import * as cases from '../../cases/cases.service.js'
import { IPR_MATTERS } from '../../domain/case-types.js'
import { emptyForm, isDomainError, refusedForm, text, validateAgainstContract, type FormState } from '../forms.js'
import { notice, redirect, render, type WebContext } from '../render.js'
import { requireUser } from '../session.js'
import { iprMatterLabel } from '../texts.js'
import { countryOptions } from './case.pages.js'
import { caseTypeOptions } from './worklist.pages.js'

const LABELS: Record<string, string> = {
  caseType: 'Zaaktype',
  iprMatter: 'Onderwerp van de IPR-beoordeling',
  'subject.givenNames': 'Voornamen',
  'subject.surname': 'Achternaam',
  'subject.dateOfBirth': 'Geboortedatum',
  'subject.bsn': 'Burgerservicenummer',
  'subject.nationality': 'Nationaliteit',
  'subject.countryOfBirth': 'Geboorteland',
  externalReference: 'Eigen kenmerk',
  note: 'Toelichting',
}

const FIELDS = Object.keys(LABELS)
const iprOptions = IPR_MATTERS.map((m) => ({ value: m, text: iprMatterLabel(m) }))

const newCasePage = (form: FormState) => ({ title: 'Nieuwe zaak indienen', form, caseTypeOptions, iprOptions, countryOptions })

export function memberPages(app: FastifyInstance, ctx: WebContext): void {
  app.get('/zaken/nieuw', async (req, reply) => {
    requireUser(req, ['desk'])
    return render(req, reply, 'new-case', newCasePage(emptyForm('nieuw')))
  })

  app.post('/zaken', { preHandler: ctx.csrf }, async (req, reply) => {
    const user = requireUser(req, ['desk'])
    const body = (req.body ?? {}) as Record<string, unknown>
    const values = Object.fromEntries(FIELDS.map((f) => [f, text(body, f)]))
    const optional = (name: string) => (values[name] ? { [name.replace('subject.', '')]: values[name] } : {})
    const input = {
      caseType: values.caseType!,
      subject: {
        givenNames: values['subject.givenNames']!,
        surname: values['subject.surname']!,
        dateOfBirth: values['subject.dateOfBirth']!,
        ...optional('subject.bsn'),
        ...optional('subject.nationality'),
        ...optional('subject.countryOfBirth'),
      },
      ...optional('iprMatter'),
      ...optional('externalReference'),
      ...optional('note'),
    }
    try {
      validateAgainstContract(req, 'regiobalie:CaseCreate', input)
      const created = await cases.submitCase(ctx.cases, user.principal, input)
      notice(req, `Zaak ${created.reference} is ingediend. Voeg nu de documenten toe.`)
      return redirect(reply, `/app/zaken/${created.id}`)
    } catch (err) {
      if (!isDomainError(err)) throw err
      return render(req, reply, 'new-case', newCasePage(refusedForm('nieuw', values, err, LABELS)), ctx.statusOf[err.kind])
    }
  })
}
