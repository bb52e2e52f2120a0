// Sign-in with a personal staff key, a member's desk key or the platform administrator's key; sign-out.
import type { FastifyInstance } from 'fastify'
import { authenticateKeyHash } from '../../auth/authenticate.js'
import { hashApiKey } from '../../auth/keys.js'
import { getTenant } from '../../tenancy/tenancy.service.js'
import { DomainError } from '../../domain/errors.js'
import { emptyForm, fieldId, text, type FormState } from '../forms.js'
import { HOME, redirect, render, type WebContext } from '../render.js'
import { endSession, startSession, webRoleOf, type SignInReason } from '../session.js'
import { staffRoleLabel } from '../texts.js'

const REASONS: Record<SignInReason, string> = {
  verlopen: 'Uw sessie is verlopen omdat u 30 minuten niets hebt gedaan. Meld u opnieuw aan.',
  afgemeld: 'U bent afgemeld.',
  ingetrokken: 'Uw sleutel is niet meer geldig. Meld u aan met een geldige sleutel.',
}

const KEY_FORMAT = /^[\x21-\x7e]{16,512}$/

const keyError = (message: string): FormState => {
  const form = emptyForm('inloggen')
  form.errors.key = message
  form.summary.push({ href: `#${fieldId('key')}`, text: `Sleutel: ${message.charAt(0).toLowerCase()}${message.slice(1)}` })
  return form
}

export function signInPages(app: FastifyInstance, ctx: WebContext): void {
  app.get('/', async (req, reply) => redirect(reply, req.web ? HOME[req.web.role] : '/app/inloggen'))

  app.get<{ Querystring: { reden?: string } }>('/inloggen', async (req, reply) => {
    if (req.web) return redirect(reply, HOME[req.web.role])
    const reason = req.query.reden as SignInReason | undefined
    return render(req, reply, 'sign-in', { title: 'Inloggen', reason: reason && REASONS[reason] ? REASONS[reason] : null })
  })

  app.post('/inloggen', { preHandler: ctx.csrf }, async (req, reply) => {
    const address = req.ip
    const wait = await ctx.throttle.blockedFor(address)
    if (wait > 0) {
      void reply.header('Retry-After', String(wait))
      return render(req, reply, 'sign-in', { title: 'Inloggen', reason: null, form: keyError(`Te veel mislukte pogingen. Probeer het over ${wait} seconden opnieuw.`) }, 429)
    }
    const key = text(req.body as Record<string, unknown>, 'key')
    if (key === '') return render(req, reply, 'sign-in', { title: 'Inloggen', reason: null, form: keyError('Vul uw persoonlijke sleutel in.') }, 400)
    const refuse = async (message: string, status: number) => {
      await ctx.throttle.recordFailure(address)
      return render(req, reply, 'sign-in', { title: 'Inloggen', reason: null, form: keyError(message) }, status)
    }
    if (!KEY_FORMAT.test(key)) return refuse('Deze sleutel is onbekend of ingetrokken. Controleer of u hem helemaal hebt geplakt.', 401)
    const keyHash = hashApiKey(key)
    try {
      const principal = await authenticateKeyHash(ctx.db, keyHash)
      const role = webRoleOf(principal)
      if (!role) return refuse('Deze sleutel hoort bij een koppeling van het regiocentrum, niet bij een persoon. Meld u aan met uw persoonlijke sleutel.', 403)
      let label = 'Platformbeheerder'
      if (principal.kind !== 'admin') {
        const tenant = await getTenant(ctx.db, principal, principal.tenantId)
        label = principal.kind === 'staff' ? `${staffRoleLabel(principal.staffRole)}, ${tenant.name}` : `Balie gemeente ${tenant.name}`
      }
      startSession(req, keyHash, label)
      return redirect(reply, HOME[role])
    } catch (err) {
      if (!(err instanceof DomainError)) throw err
      if (err.code === 'tenant-suspended') return refuse('Uw gemeente is op het platform opgeschort; aanmelden kan nu niet.', 403)
      return refuse('Deze sleutel is onbekend of ingetrokken. Controleer of u hem helemaal hebt geplakt.', 401)
    }
  })

  app.post('/uitloggen', { preHandler: ctx.csrf }, async (req, reply) => {
    endSession(req)
    return redirect(reply, '/app/inloggen?reden=afgemeld')
  })
}
