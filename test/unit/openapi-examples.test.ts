// Every example in the contract validates against its schema, compiled the way the app compiles it
// (Fastify's own Ajv compiler with the app's options and the component schemas registered), and the
// values in them are real: BSNs pass the 11-proef, countries are in the shipped ISO 3166 table,
// municipality codes are current CBS codes, languages are ISO 639-1. Each operation carries examples,
// and its request and 2xx JSON bodies have at least one.
import { AjvCompiler } from '@fastify/ajv-compiler'
import { describe, expect, it } from 'vitest'
import { isValidBsn } from '../../api/domain/bsn.js'
import { isCountryCode } from '../../api/domain/countries.js'
import { municipalityOn } from '../../api/domain/municipalities.js'
import { AJV_CUSTOM_OPTIONS, componentSchemas, loadSpec, operations } from '../../api/http/openapi.js'
import { dutchDate } from '../../api/time.js'

type Json = null | boolean | number | string | Json[] | { [key: string]: Json }
type Obj = { [key: string]: Json }

const spec = loadSpec()
const isObj = (v: Json | undefined): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v)
const components = spec.components as unknown as Record<string, Record<string, Obj>>

/** Follows a `#/components/<kind>/<name>` reference (the contract uses no others). */
const deref = (node: Obj): Obj => {
  const ref = node.$ref
  if (typeof ref !== 'string') return node
  const [, , kind, name] = ref.split('/')
  const target = kind && name ? components[kind]?.[name] : undefined
  if (!target) throw new Error(`unresolved ${ref}`)
  return deref(target)
}

const external = Object.fromEntries(componentSchemas(spec).map((s) => [s.$id as string, s]))
const compile = AjvCompiler()(external, { customOptions: { ...AJV_CUSTOM_OPTIONS } })
/** Component refs in a schema, rewritten the way routeSchema rewrites them for Fastify. */
const forAjv = (schema: Json): Json => {
  if (Array.isArray(schema)) return schema.map(forAjv)
  if (!isObj(schema)) return schema
  return Object.fromEntries(
    Object.entries(schema).map(([k, v]) =>
      k === '$ref' && typeof v === 'string' ? [k, `regiobalie:${v.slice('#/components/schemas/'.length)}#`] : [k, forAjv(v)],
    ),
  )
}

interface Example {
  where: string
  schema: Json
  value: Json
}

/** The examples of one media type (or parameter or header), each with the schema it must meet. */
function examplesOf(where: string, holder: Obj, schema: Json): Example[] {
  const out: Example[] = []
  if (holder.example !== undefined) out.push({ where: `${where} example`, schema, value: holder.example })
  if (isObj(holder.examples)) {
    for (const [name, raw] of Object.entries(holder.examples)) {
      if (!isObj(raw)) continue
      const ex = deref(raw)
      out.push({ where: `${where} examples.${name}`, schema, value: ex.value ?? null })
    }
  }
  return out
}

const mediaExamples = (where: string, content: Json | undefined): Example[] =>
  isObj(content)
    ? Object.entries(content).flatMap(([type, media]) => (isObj(media) && media.schema !== undefined ? examplesOf(`${where} ${type}`, media, media.schema) : []))
    : []

const all: Example[] = []
const missing: string[] = []
for (const [id, { operation }] of operations(spec)) {
  const body = operation.requestBody
  if (isObj(body)) {
    const found = mediaExamples(`${id} request`, body.content)
    if (found.length === 0) missing.push(`${id} request body`)
    all.push(...found)
  }
  for (const raw of Array.isArray(operation.parameters) ? operation.parameters : []) {
    if (!isObj(raw)) continue
    const p = deref(raw)
    all.push(...examplesOf(`${id} parameter ${JSON.stringify(p.name)}`, p, p.schema ?? {}))
  }
  const responses = isObj(operation.responses) ? operation.responses : {}
  for (const [status, raw] of Object.entries(responses)) {
    if (!isObj(raw)) continue
    const response = deref(raw)
    const found = mediaExamples(`${id} ${status}`, response.content)
    const content = response.content
    if (/^2/.test(status) && isObj(content) && Object.values(content).some((m) => isObj(m) && m.schema !== undefined) && found.length === 0) {
      missing.push(`${id} ${status} response`)
    }
    all.push(...found)
  }
}
for (const [name, header] of Object.entries(components.headers ?? {})) all.push(...examplesOf(`header ${name}`, header, header.schema ?? {}))
for (const [name, response] of Object.entries(components.responses ?? {})) all.push(...mediaExamples(`response ${name}`, response.content))

/** Every value under a key with one of these names, anywhere in the example. */
function valuesUnder(value: Json, keys: readonly string[]): Json[] {
  if (Array.isArray(value)) return value.flatMap((v) => valuesUnder(v, keys))
  if (!isObj(value)) return []
  return Object.entries(value).flatMap(([k, v]) => (keys.includes(k) ? [v] : valuesUnder(v, keys)))
}

const languageName = new Intl.DisplayNames(['en'], { type: 'language', fallback: 'none' })

describe('the examples in openapi.yaml', () => {
  it('are many, and every request body and 2xx JSON response has one', () => {
    expect(all.length).toBeGreaterThan(60)
    expect(missing).toEqual([])
  })

  it.each(all.map((e) => [e.where, e] as const))('%s validates against its schema, as the app validates', (_where, example) => {
    const validate = compile({ schema: forAjv(example.schema) as Obj })
    const value = structuredClone(example.value)
    const ok = validate(value)
    expect(validate.errors ?? [], JSON.stringify(validate.errors)).toEqual([])
    expect(ok).toBe(true)
    // Valid as written: the app's type coercion and defaults did not have to change it.
    expect(value).toStrictEqual(example.value)
  })

  it('carry BSNs that pass the 11-proef', () => {
    const bsns = all.flatMap((e) => valuesUnder(e.value, ['bsn']))
    expect(bsns.length).toBeGreaterThan(0)
    for (const bsn of bsns) expect(typeof bsn === 'string' && isValidBsn(bsn), `BSN ${JSON.stringify(bsn)}`).toBe(true)
  })

  it('carry ISO 3166-1 country codes, ISO 639-1 languages and current CBS municipality codes', () => {
    const countries = all.flatMap((e) => valuesUnder(e.value, ['nationality', 'countryOfBirth', 'issuingCountry']))
    expect(countries.length).toBeGreaterThan(0)
    for (const c of countries) expect(isCountryCode(c), `country ${JSON.stringify(c)}`).toBe(true)
    const languages = all.flatMap((e) => valuesUnder(e.value, ['language']))
    expect(languages.length).toBeGreaterThan(0)
    for (const l of languages) expect(typeof l === 'string' && /^[a-z]{2}$/.test(l) && languageName.of(l) !== undefined, `language ${JSON.stringify(l)}`).toBe(true)
    const municipalities = all.flatMap((e) => valuesUnder(e.value, ['municipalityCode']))
    expect(municipalities.length).toBeGreaterThan(0)
    for (const m of municipalities) expect(typeof m === 'string' && municipalityOn(m, dutchDate()).status, `municipality ${JSON.stringify(m)}`).toBe('exists')
  })

  it('would catch an example that does not match its schema', () => {
    const validate = compile({ schema: forAjv({ $ref: '#/components/schemas/CaseCreate' }) as Obj })
    expect(validate({ caseType: 'naturalisation', subject: { givenNames: 'A', surname: 'B', dateOfBirth: '1990-02-30x' } })).toBe(false)
    expect(validate({ caseType: 'naturalisation', subject: { givenNames: 'A', surname: 'B', dateOfBirth: '1990-01-01' }, tenantId: 'x' })).toBe(false)
  })
})

// The note at the top of openapi.yaml, for the parts the two linters do not check.
describe('every operation in openapi.yaml', () => {
  const tags = new Set((spec as unknown as { tags: Array<{ name: string }> }).tags.map((t) => t.name))
  const ops = [...operations(spec)]

  it('has a summary, a description and a declared tag', () => {
    for (const [id, { operation }] of ops) {
      expect(typeof operation.summary === 'string' && operation.summary.length > 0, `${id} summary`).toBe(true)
      expect(typeof operation.description === 'string' && operation.description.length > 0, `${id} description`).toBe(true)
      const opTags = Array.isArray(operation.tags) ? operation.tags : []
      expect(opTags.length, `${id} tags`).toBeGreaterThan(0)
      for (const tag of opTags) expect(typeof tag === 'string' && tags.has(tag), `${id} tag ${JSON.stringify(tag)}`).toBe(true)
    }
  })

  it('declares API-Version, X-Request-Id and, behind a key, the rate-limit headers on every 2xx', () => {
    for (const [id, { operation }] of ops) {
      const keyed = !(Array.isArray(operation.security) && operation.security.length === 0)
      const wanted = ['API-Version', 'X-Request-Id', ...(keyed ? ['RateLimit-Limit', 'RateLimit-Remaining', 'RateLimit-Reset'] : [])]
      for (const [status, raw] of Object.entries(isObj(operation.responses) ? operation.responses : {})) {
        if (!/^2/.test(status) || !isObj(raw)) continue
        const headers = deref(raw).headers
        expect(isObj(headers) ? Object.keys(headers) : [], `${id} ${status}`).toEqual(expect.arrayContaining(wanted))
        if (status === '201') expect(isObj(headers) && 'Location' in headers, `${id} 201 Location`).toBe(true)
      }
    }
  })

  it('answers 400, and behind a key 401, 403 and 429, and 404 when its path names an object — by reference', () => {
    for (const [id, { path, operation }] of ops) {
      const keyed = !(Array.isArray(operation.security) && operation.security.length === 0)
      const responses = isObj(operation.responses) ? operation.responses : {}
      const wanted = ['400', ...(keyed ? ['401', '403', '429'] : []), ...(path.includes('{') ? ['404'] : [])]
      expect(Object.keys(responses), id).toEqual(expect.arrayContaining(wanted))
      for (const [status, raw] of Object.entries(responses)) {
        if (/^[45]/.test(status)) expect(isObj(raw) && typeof raw.$ref === 'string' && raw.$ref.startsWith('#/components/responses/'), `${id} ${status}`).toBe(true)
      }
    }
  })
})
