// Forms: a refused submission comes back as the same page with the person's values, the message
// next to each field and an error summary at the top (WCAG 3.3.1, NL Design System pattern).
import type { FastifyRequest } from 'fastify'
import type { components } from '../../openapi/types.gen.js'
import { DomainError, invalidFields } from '../domain/errors.js'
import { toInvalidParams, type AjvError } from '../validation-errors.js'
import { fieldProblemText, refusalText } from './texts.js'

export interface SummaryItem {
  href: string | null
  text: string
}

export interface FormState {
  /** Which form on the page the state belongs to (a case page has several). */
  form: string
  values: Record<string, string | string[]>
  /** Field name → message. */
  errors: Record<string, string>
  summary: SummaryItem[]
}

/** The id of a field's input: `subject.bsn` → `veld-subject-bsn`. */
export const fieldId = (name: string): string => `veld-${name.replace(/[^A-Za-z0-9]+/g, '-')}`

export const emptyForm = (form: string, values: FormState['values'] = {}): FormState => ({ form, values, errors: {}, summary: [] })

/** A refusal as form state: invalid fields next to their inputs, any other refusal in the summary. */
export function refusedForm(form: string, values: FormState['values'], err: DomainError, labels: Record<string, string>): FormState {
  const state = emptyForm(form, values)
  const fields = err.invalidFields ?? []
  for (const f of fields) {
    const name = f.name.replace(/^body\./, '')
    if (state.errors[name]) continue
    const text = fieldProblemText(f)
    state.errors[name] = text
    state.summary.push({ href: labels[name] ? `#${fieldId(name)}` : null, text: labels[name] ? `${labels[name]}: ${text.charAt(0).toLowerCase()}${text.slice(1)}` : text })
  }
  if (fields.length === 0) state.summary.push({ href: null, text: refusalText(err) })
  return state
}

/**
 * Validates a body against a schema of the contract (`regiobalie:CaseCreate`), the same schema the
 * API validates the JSON body with, and throws the same invalid fields.
 */
type Schemas = components['schemas']

/**
 * Validates a form's values against the contract's schema (the same Ajv as the JSON API) and, once
 * it passes, gives them the contract's type: the services take no unchecked strings.
 */
export function validateAgainstContract<K extends keyof Schemas>(request: FastifyRequest, schemaId: `regiobalie:${K}`, body: unknown): asserts body is Schemas[K] {
  const validate = request.compileValidationSchema({ $ref: `${schemaId}#` })
  if (validate(body)) return
  throw invalidFields(toInvalidParams((validate.errors ?? []) as AjvError[], undefined))
}

/** A form value as one trimmed string ('' when absent). */
export const text = (body: Record<string, unknown>, name: string): string => {
  const v = body[name]
  return typeof v === 'string' ? v.trim() : Array.isArray(v) && typeof v[0] === 'string' ? v[0].trim() : ''
}

/** A form value that may repeat (checkboxes). */
export const list = (body: Record<string, unknown>, name: string): string[] => {
  const v = body[name]
  if (typeof v === 'string') return [v]
  return Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : []
}

/** The version the page was rendered with, for If-Match semantics (a stale form is refused with 412). */
export const versionOf = (body: Record<string, unknown>): number | null => {
  const v = text(body, 'version')
  return /^\d{1,9}$/.test(v) ? Number(v) : null
}

export const isDomainError = (err: unknown): err is DomainError => err instanceof DomainError
