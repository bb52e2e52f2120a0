// HTTP only: parse, call one service function, shape the reply (STYLE.md §6).
import type { FastifyInstance } from 'fastify'
import * as webhooks from '../../webhooks/webhooks.service.js'
import type { OpenApiDocument } from '../openapi.js'
import { declareRoute } from '../route.js'

export function webhookRoutes(app: FastifyInstance, spec: OpenApiDocument, deps: webhooks.WebhookDeps): void {
  declareRoute(app, spec, 'createWebhook', 'webhooks:write', async (req, reply) => {
    const created = await webhooks.createSubscription(deps, req.principal, req.body)
    return reply.header('Location', `/v1/webhooks/${created.id}`).code(201).send(created)
  })
  declareRoute(app, spec, 'listWebhooks', 'webhooks:write', async (req) => webhooks.listSubscriptions(deps, req.principal, req.query))
  declareRoute(app, spec, 'getWebhook', 'webhooks:write', async (req) => webhooks.getSubscription(deps, req.principal, req.params.webhookId))
  declareRoute(app, spec, 'deleteWebhook', 'webhooks:write', async (req, reply) => {
    await webhooks.deleteSubscription(deps, req.principal, req.params.webhookId)
    return reply.code(204).send()
  })
  declareRoute(app, spec, 'rotateWebhookSecret', 'webhooks:write', async (req) => webhooks.rotateSecret(deps, req.principal, req.params.webhookId))
  declareRoute(app, spec, 'testWebhook', 'webhooks:write', async (req, reply) =>
    reply.code(202).send(await webhooks.sendTestEvent(deps, req.principal, req.params.webhookId)),
  )
  declareRoute(app, spec, 'listWebhookDeliveries', 'webhooks:write', async (req) =>
    webhooks.listDeliveries(deps, req.principal, req.params.webhookId, req.query),
  )
  declareRoute(app, spec, 'redeliverWebhookDelivery', 'webhooks:write', async (req, reply) =>
    reply.code(202).send(await webhooks.redeliver(deps, req.principal, req.params.webhookId, req.params.deliveryId)),
  )
}
