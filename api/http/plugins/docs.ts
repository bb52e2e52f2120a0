// The contract, public like the contract itself (API.md "Operations and bootstrap"):
// - `/v1/openapi.json`: openapi.yaml as written — server `/v1`, relative, so any host and port works —
//   readable cross-origin (for that document only: `Access-Control-Allow-Origin: *`, no credentials);
// - `/openapi.json`: the same contract with the paths written out in full (`/v1/cases`) under `/`;
// - `/docs`: Swagger UI over `/docs/json` (the contract as written). Its page carries its own
//   Content-Security-Policy (set in the swagger-ui registration, overriding the app-wide headers for
//   /docs only): no `upgrade-insecure-requests`, so "Try it out" works over plain http on any host
//   (`npm start`), `connect-src 'self'` for those calls, no third-party validator image.
import swagger from '@fastify/swagger'
import swaggerUi from '@fastify/swagger-ui'
import type { FastifyInstance, FastifyReply } from 'fastify'
import { withFullPaths, type OpenApiDocument } from '../openapi.js'

/** Swagger UI's own policy (hashes of its inline scripts), adjusted for "Try it out" on any host. */
export function docsContentSecurityPolicy(policy: string): string {
  const directives = new Map<string, string[]>()
  for (const directive of policy.split(';')) {
    const [name, ...values] = directive.trim().split(/\s+/)
    if (name) directives.set(name.toLowerCase(), values)
  }
  directives.delete('upgrade-insecure-requests')
  directives.set('connect-src', ["'self'"])
  directives.set('img-src', ["'self'", 'data:'])
  directives.set('frame-ancestors', ["'none'"])
  directives.set('form-action', ["'self'"])
  return [...directives].map(([name, values]) => [name, ...values].join(' ')).join('; ')
}

const sendContract = (reply: FastifyReply, document: OpenApiDocument) =>
  reply
    .header('Access-Control-Allow-Origin', '*')
    .header('Cross-Origin-Resource-Policy', 'cross-origin')
    .send(document)

export async function docsPlugin(app: FastifyInstance, { spec }: { spec: OpenApiDocument }): Promise<void> {
  const fullPaths = withFullPaths(spec)
  await app.register(swagger, { mode: 'static', specification: { document: spec as never } })
  app.addHook('onRoute', (route) => {
    route.config = { ...(route.config ?? {}), scope: 'public' }
  })
  await app.register(swaggerUi, {
    routePrefix: '/docs',
    uiConfig: { docExpansion: 'list', validatorUrl: null },
    staticCSP: true,
    transformStaticCSP: docsContentSecurityPolicy,
  })
  app.get('/v1/openapi.json', { schema: { hide: true } }, async (_request, reply) => sendContract(reply, spec))
  app.get('/openapi.json', { schema: { hide: true } }, async (_request, reply) => sendContract(reply, fullPaths))
}
