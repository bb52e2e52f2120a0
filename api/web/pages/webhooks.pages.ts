// Webhook subscriptions in the workbench (API.md "Webhooks"): for the tenants that may manage them —
// a member's desk (its client key) and a hub lead, both holding `webhooks:write` as the API asks.
// List, create (the secret shown once, on the answer to the form, never stored in the session), send
// a test event, the deliveries and redelivery, a new secret (shown once; the old one signs alongside
// it for 24 hours), delete. Another tenant's subscription is a 404 page.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import { DomainError } from '../../domain/errors.js'
import { EVENT_TYPES } from '../../webhooks/events.js'
import { secretsKey } from '../../webhooks/secrets.js'
import * as webhooks from '../../webhooks/webhooks.service.js'
import { emptyForm, isDomainError, list, refusedForm, text, validateAgainstContract, type FormState } from '../forms.js'
import { notice, redirect, render, type WebContext } from '../render.js'
import { requireUser, type WebUser } from '../session.js'
import { idParam } from './case.pages.js'

const LABELS = { url: 'Adres (URL)', events: 'Gebeurtenissen', description: 'Omschrijving', format: 'Vorm van het bericht' }

export function webhookPages(app: FastifyInstance, ctx: WebContext): void {
  const deps: webhooks.WebhookDeps = {
    db: ctx.db,
    secretsKey: secretsKey(ctx.config.blobMasterKey),
    allowPrivateNetworks: ctx.config.webhooks.allowPrivateNetworks,
  }
  /** The desk or the lead, with the key's `webhooks:write` (the API's scope check). */
  const manager = (req: FastifyRequest): WebUser => {
    const user = requireUser(req, ['desk', 'lead'])
    if (!user.principal.scopes.has('webhooks:write')) throw new DomainError('forbidden', 'forbidden', 'this key may not manage webhooks')
    return user
  }
  const eventOptions = EVENT_TYPES.filter((e) => e !== 'webhook.test').map((e) => ({ value: e, text: e }))

  const listPage = async (req: FastifyRequest, reply: FastifyReply, form: FormState, created: { url: string; secret: string } | null, status = 200) => {
    const user = manager(req)
    const subs = await webhooks.listSubscriptions(deps, user.principal, { limit: 100 })
    return render(req, reply, 'webhooks', { title: 'Webhooks', subscriptions: subs.items, eventOptions, created, form }, status)
  }
  app.get('/webhooks', async (req, reply) => listPage(req, reply, emptyForm('webhook'), null))
  app.post('/webhooks', { preHandler: ctx.csrf }, async (req, reply) => {
    const user = manager(req)
    const body = (req.body ?? {}) as Record<string, unknown>
    const values = { url: text(body, 'url'), events: list(body, 'events'), description: text(body, 'description'), format: text(body, 'format') || 'standard' }
    const input = { url: values.url, events: values.events, format: values.format, ...(values.description ? { description: values.description } : {}) }
    try {
      validateAgainstContract(req, 'regiobalie:WebhookCreate', input)
      const created = await webhooks.createSubscription(deps, user.principal, input)
      return listPage(req, reply, emptyForm('webhook'), { url: created.url, secret: created.secret }, 201)
    } catch (err) {
      if (!isDomainError(err)) throw err
      return listPage(req, reply, refusedForm('webhook', values, err, LABELS), null, ctx.statusOf[err.kind])
    }
  })

  type Params = { Params: { webhookId: string } }
  const detailPage = async (req: FastifyRequest<Params>, reply: FastifyReply, rotated: { secret: string } | null) => {
    const user = manager(req)
    const id = idParam(req.params.webhookId)
    const [sub, deliveries] = await Promise.all([webhooks.getSubscription(deps, user.principal, id), webhooks.listDeliveries(deps, user.principal, id, { limit: 50 })])
    return render(req, reply, 'webhook', { title: 'Webhook', sub, deliveries: deliveries.items, rotated })
  }
  app.get<Params>('/webhooks/:webhookId', async (req, reply) => detailPage(req, reply, null))
  // A new secret, shown once on the answer to the form; the previous one signs alongside it for 24 hours.
  app.post<Params>('/webhooks/:webhookId/geheim-vernieuwen', { preHandler: ctx.csrf }, async (req, reply) => {
    const user = manager(req)
    const rotated = await webhooks.rotateSecret(deps, user.principal, idParam(req.params.webhookId))
    return detailPage(req, reply, { secret: rotated.secret })
  })
  app.post<Params>('/webhooks/:webhookId/test', { preHandler: ctx.csrf }, async (req, reply) => {
    const user = manager(req)
    const id = idParam(req.params.webhookId)
    await webhooks.sendTestEvent(deps, user.principal, id)
    notice(req, 'Er is een testbericht (webhook.test) verstuurd.')
    return redirect(reply, `/app/webhooks/${id}`)
  })
  app.post<{ Params: { webhookId: string; deliveryId: string } }>('/webhooks/:webhookId/bezorgingen/:deliveryId/opnieuw', { preHandler: ctx.csrf }, async (req, reply) => {
    const user = manager(req)
    const id = idParam(req.params.webhookId)
    await webhooks.redeliver(deps, user.principal, id, idParam(req.params.deliveryId))
    notice(req, 'De bezorging wordt opnieuw geprobeerd.')
    return redirect(reply, `/app/webhooks/${id}`)
  })
  app.post<Params>('/webhooks/:webhookId/verwijderen', { preHandler: ctx.csrf }, async (req, reply) => {
    const user = manager(req)
    await webhooks.deleteSubscription(deps, user.principal, idParam(req.params.webhookId))
    notice(req, 'Het abonnement is verwijderd.')
    return redirect(reply, '/app/webhooks')
  })
}
