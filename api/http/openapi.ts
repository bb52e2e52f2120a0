// openapi/openapi.yaml is the contract (API.md). At boot it is loaded once; its component schemas
// are registered with Fastify and every route takes its params, query, body and responses from the
// operation with the same operationId — so the runtime validates against the very schemas the
// TypeScript types are generated from.
import { existsSync, readFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import type { FastifySchema } from 'fastify'
import { parse } from 'yaml'

type Json = null | boolean | number | string | Json[] | { [key: string]: Json }
type JsonObject = { [key: string]: Json }

export interface OpenApiServer {
  url: string
  description?: string
}

/** A path item: its operations by method, and optionally servers of its own (the operational endpoints). */
export type PathItem = Record<string, JsonObject> & { servers?: OpenApiServer[] }

export interface OpenApiDocument {
  openapi: string
  info: { title: string; version: string }
  /** Relative: `/v1` — the paths are written relative to it (ADR /core/uri-version). */
  servers?: OpenApiServer[]
  paths: Record<string, PathItem>
  components: { schemas: Record<string, JsonObject>; parameters: Record<string, JsonObject>; responses: Record<string, JsonObject> }
}

/**
 * Options the app's Ajv runs with (on top of Fastify's defaults); the contract's example test uses
 * the same. No type coercion: a JSON body is taken as typed (a BSN sent as a number is a 400). The
 * app adds coercion for querystring, path and header values only, which are text on the wire
 * (app.ts, buildValidator).
 */
export const AJV_CUSTOM_OPTIONS = Object.freeze({
  // No mass assignment: unknown properties are refused, never silently dropped.
  removeAdditional: false,
  coerceTypes: false,
  useDefaults: true,
  allErrors: true,
} as const)

const METHODS = new Set(['get', 'put', 'post', 'delete', 'patch', 'head', 'options'])

/** The URL path prefix a path item is served under: its own server, else the document's (`/v1`). */
function basePath(spec: OpenApiDocument, item: PathItem): string {
  const url = item.servers?.[0]?.url ?? spec.servers?.[0]?.url ?? '/'
  return new URL(url, 'http://host.invalid').pathname.replace(/\/$/, '')
}

/** The path as a client calls it: `/cases` under the server `/v1` is `/v1/cases`. */
export const servedPath = (spec: OpenApiDocument, path: string): string => {
  const item = spec.paths[path]
  return `${item ? basePath(spec, item) : ''}${path}`
}

/**
 * The contract with every path written out in full (`/v1/cases`) under the server `/`, for clients of
 * `/openapi.json` that read it that way; `/v1/openapi.json` and /docs serve the contract as written.
 */
export function withFullPaths(spec: OpenApiDocument): OpenApiDocument {
  const paths: Record<string, PathItem> = {}
  for (const [path, item] of Object.entries(spec.paths)) {
    const { servers: _servers, ...operations } = item
    paths[servedPath(spec, path)] = operations
  }
  return { ...spec, servers: [{ url: '/', description: 'this host' }], paths }
}

const SCHEMA_ID_PREFIX = 'regiobalie:'

/** Finds openapi/openapi.yaml from the sources (api/) and from the build output (dist/api/). */
export function specPath(): string {
  let dir = dirname(fileURLToPath(import.meta.url))
  for (let i = 0; i < 4; i += 1) {
    const candidate = join(dir, 'openapi', 'openapi.yaml')
    if (existsSync(candidate)) return candidate
    dir = dirname(dir)
  }
  throw new Error('openapi/openapi.yaml not found next to the application')
}

export const loadSpec = (path: string = specPath()): OpenApiDocument => parse(readFileSync(path, 'utf8')) as OpenApiDocument

const isObject = (v: Json | undefined): v is JsonObject => typeof v === 'object' && v !== null && !Array.isArray(v)

/** `#/components/schemas/X` becomes a reference to the schema Fastify knows as `regiobalie:X`. */
function rewriteRefs(value: Json): Json {
  if (Array.isArray(value)) return value.map(rewriteRefs)
  if (!isObject(value)) return value
  const out: JsonObject = {}
  for (const [k, v] of Object.entries(value)) {
    if (k === '$ref' && typeof v === 'string' && v.startsWith('#/components/schemas/')) {
      out[k] = `${SCHEMA_ID_PREFIX}${v.slice('#/components/schemas/'.length)}#`
    } else {
      out[k] = rewriteRefs(v)
    }
  }
  return out
}

/** The component schemas in the form Fastify's addSchema takes. */
export const componentSchemas = (spec: OpenApiDocument): JsonObject[] =>
  Object.entries(spec.components.schemas).map(([name, schema]) => ({
    ...(rewriteRefs(schema) as JsonObject),
    $id: `${SCHEMA_ID_PREFIX}${name}`,
  }))

const resolve = (spec: OpenApiDocument, node: JsonObject, kind: 'parameters' | 'responses'): JsonObject => {
  const ref = node.$ref
  if (typeof ref !== 'string') return node
  const name = ref.split('/').pop() ?? ''
  const target = spec.components[kind][name]
  if (!target) throw new Error(`unresolved ${kind} reference ${ref}`)
  return target
}

export interface Operation {
  method: string
  /** The full URL path, server prefix included (`/v1/cases/{caseId}`). */
  path: string
  operation: JsonObject
}

export function operations(spec: OpenApiDocument): Map<string, Operation> {
  const byId = new Map<string, Operation>()
  for (const [path, item] of Object.entries(spec.paths)) {
    for (const [method, operation] of Object.entries(item)) {
      if (!METHODS.has(method) || Array.isArray(operation)) continue
      const id = operation.operationId
      if (typeof id === 'string') byId.set(id, { method: method.toUpperCase(), path: servedPath(spec, path), operation })
    }
  }
  return byId
}

/** The Fastify route schema for one operation of the contract. */
export function routeSchema(spec: OpenApiDocument, operationId: string): FastifySchema {
  const op = operations(spec).get(operationId)
  if (!op) throw new Error(`operation ${operationId} is not in openapi.yaml`)
  const params: JsonObject = {}
  const query: JsonObject = {}
  const requiredParams: string[] = []
  const requiredQuery: string[] = []
  const list = Array.isArray(op.operation.parameters) ? op.operation.parameters : []
  for (const raw of list) {
    if (!isObject(raw)) continue
    const p = resolve(spec, raw, 'parameters')
    const name = typeof p.name === 'string' ? p.name : ''
    const schema = rewriteRefs(p.schema ?? {})
    if (p.in === 'path') {
      params[name] = schema
      requiredParams.push(name)
    } else if (p.in === 'query') {
      query[name] = schema
      if (p.required === true) requiredQuery.push(name)
    }
  }
  const schema: FastifySchema & Record<string, unknown> = {
    // Every route refuses unknown query parameters, even one that takes none.
    querystring: { type: 'object', additionalProperties: false, properties: query, required: requiredQuery },
  }
  if (requiredParams.length > 0) schema.params = { type: 'object', properties: params, required: requiredParams }
  const body = op.operation.requestBody
  if (isObject(body)) {
    const content = body.content
    const json = isObject(content) ? content['application/json'] : undefined
    if (isObject(json) && json.schema !== undefined) schema.body = rewriteRefs(json.schema)
  }
  // Every response of the operation, the errors too: a success body is serialised by its schema;
  // a problem+json body is declared by media type (errors.ts renders it, as RFC 9457 says).
  const response: Record<string, Json> = {}
  const responses = isObject(op.operation.responses) ? op.operation.responses : {}
  for (const [status, raw] of Object.entries(responses)) {
    if (!isObject(raw)) continue
    const content = resolve(spec, raw, 'responses').content
    if (!isObject(content)) continue
    const json = content['application/json']
    if (status.startsWith('2')) {
      if (isObject(json) && json.schema !== undefined) response[status] = rewriteRefs(json.schema)
      continue
    }
    const problem = content['application/problem+json']
    if (isObject(problem) && problem.schema !== undefined) {
      response[status] = { content: { 'application/problem+json': { schema: rewriteRefs(problem.schema) } } }
    }
  }
  if (Object.keys(response).length > 0) schema.response = response
  return schema
}
