// The workbench session: an encrypted, authenticated cookie (@fastify/secure-session) that holds the
// SHA-256 of the key someone signed in with — never the key — and when it was last used. Every
// request resolves that hash to a principal again, exactly like the API resolves a bearer key, so a
// revoked key or a suspended municipality is refused on the next click. Idle for longer than the
// timeout, the session is over.
import type { FastifyRequest } from 'fastify'
import { authenticateKeyHash } from '../auth/authenticate.js'
import type { Principal } from '../auth/principal.js'
import { DomainError } from '../domain/errors.js'
import type { WebContext } from './context.js'

export const SESSION_COOKIE = 'rb_session'

/** What the workbench shows and allows: four kinds of people. */
export type WebRole = 'specialist' | 'lead' | 'desk' | 'admin'

export interface WebUser {
  principal: Principal
  role: WebRole
  /** "Specialist, Zwolle" — shown in the header. */
  label: string
}

declare module 'fastify' {
  interface FastifyRequest {
    web: WebUser | null
    /** The CSRF token read from the first part of a multipart form. */
    multipartCsrf: string | null
  }
}

declare module '@fastify/secure-session' {
  interface SessionData {
    keyHash: string
    seenAt: number
    label: string
    flash: string
    _csrf: string
  }
}

/** The role a principal has in the workbench; null for keys that are not for people (a hub's system). */
export function webRoleOf(p: Principal): WebRole | null {
  if (p.kind === 'admin') return 'admin'
  if (p.kind === 'staff') return p.staffRole === 'lead' ? 'lead' : 'specialist'
  return p.tenantRole === 'member' ? 'desk' : null
}

const nowSeconds = (): number => Math.floor(Date.now() / 1000)

export function startSession(req: FastifyRequest, keyHash: Buffer, label: string): void {
  // A fresh session on sign-in (no fixation): the CSRF secret of the sign-in form goes with the old one.
  req.session.regenerate()
  req.session.set('keyHash', keyHash.toString('base64'))
  req.session.set('seenAt', nowSeconds())
  req.session.set('label', label)
}

export const endSession = (req: FastifyRequest): void => req.session.delete()

/** Why someone is sent to the sign-in page: shown there. */
export type SignInReason = 'verlopen' | 'afgemeld' | 'ingetrokken'

/** Resolves the session to the signed-in person (req.web), or leaves req.web null. */
export async function loadSignedIn(ctx: WebContext, req: FastifyRequest): Promise<void> {
  const hash = req.session.get('keyHash')
  if (!hash) {
    if (req.cookies[SESSION_COOKIE] && !req.session.get('_csrf')) req.signInReason = 'verlopen'
    return
  }
  const seenAt = req.session.get('seenAt') ?? 0
  if (nowSeconds() - seenAt > ctx.config.web.idleTimeoutSeconds) {
    endSession(req)
    req.signInReason = 'verlopen'
    return
  }
  let principal: Principal
  try {
    principal = await authenticateKeyHash(ctx.db, Buffer.from(hash, 'base64'))
  } catch (err) {
    if (!(err instanceof DomainError)) throw err
    endSession(req)
    req.signInReason = 'ingetrokken'
    return
  }
  const role = webRoleOf(principal)
  if (!role) {
    endSession(req)
    return
  }
  const rate = await ctx.rateLimiter.take(principal.keyId)
  if (!rate.allowed) throw new TooManyRequests(rate.resetSeconds)
  req.session.set('seenAt', nowSeconds())
  req.web = { principal, role, label: req.session.get('label') ?? '' }
}

declare module 'fastify' {
  interface FastifyRequest {
    signInReason?: SignInReason
  }
}

/** The key's per-minute budget (the API's RATE_LIMIT_PER_MINUTE) is spent. */
export class TooManyRequests extends Error {
  constructor(readonly retryAfterSeconds: number) {
    super('rate limited')
  }
}

/** Thrown when a page needs a signed-in person; the error handler redirects to the sign-in page. */
export class SignInRequired extends Error {
  constructor(readonly reason: SignInReason | undefined) {
    super('sign-in required')
  }
}

/** The signed-in person (with one of `roles`, when given); otherwise off to the sign-in page, or a 404 page for another role. */
export function requireUser(req: FastifyRequest, roles?: readonly WebRole[]): WebUser {
  const user = req.web
  if (!user) throw new SignInRequired(req.signInReason)
  if (roles && !roles.includes(user.role)) throw new DomainError('not-found', 'not-found', 'no such page for this role')
  return user
}
