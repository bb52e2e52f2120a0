// The body of a delivery, rendered from the stored event at every attempt (the same bytes each
// time, so a retry is the same message). Two shapes:
// - standard (Standard Webhooks): `{type, timestamp, data}`, `data` holding ids, references,
//   statuses and `url`, the object's API URL;
// - zgw (the ZGW Notificaties API's notificatie, DOMAIN.md §8.1): `kanaal`, `hoofdObject`,
//   `resource`, `resourceUrl`, `actie`, `aanmaakdatum`, `kenmerken`.
// Neither ever holds a BSN, a name or file bytes: an event carries none (PlatformEvent's contract),
// and the receiver fetches the object with its own key, which the access log records.
import type { WebhookEventJson, WebhookFormat } from '../db/schema.js'

interface ZgwMapping {
  kanaal: string
  resource: string
  actie: 'create' | 'update' | 'partial_update' | 'destroy'
}

// kanaal/resource/actie as a ZGW consumer expects them; the non-ZGW objects get channels of their own.
const ZGW: Record<string, ZgwMapping> = {
  'case.submitted': { kanaal: 'zaken', resource: 'zaak', actie: 'create' },
  'case.status_changed': { kanaal: 'zaken', resource: 'status', actie: 'create' },
  'case.information_requested': { kanaal: 'zaken', resource: 'zaak', actie: 'partial_update' },
  'case.decided': { kanaal: 'zaken', resource: 'resultaat', actie: 'create' },
  'document.reviewed': { kanaal: 'documenten', resource: 'enkelvoudiginformatieobject', actie: 'partial_update' },
  'appointment.booked': { kanaal: 'afspraken', resource: 'afspraak', actie: 'create' },
  'appointment.cancelled': { kanaal: 'afspraken', resource: 'afspraak', actie: 'destroy' },
  'appointment.unschedulable': { kanaal: 'afspraken', resource: 'afspraak', actie: 'partial_update' },
  'invoice.issued': { kanaal: 'facturen', resource: 'factuur', actie: 'create' },
  'remittance.due': { kanaal: 'afdrachten', resource: 'afdracht', actie: 'create' },
  'webhook.test': { kanaal: 'test', resource: 'abonnement', actie: 'update' },
  'webhook.disabled': { kanaal: 'test', resource: 'abonnement', actie: 'partial_update' },
}

export function renderBody(event: WebhookEventJson, format: WebhookFormat, baseUrl: string): string {
  const url = baseUrl + event.objectPath
  if (format === 'standard') {
    return JSON.stringify({ type: event.type, timestamp: event.occurredAt, data: { ...event.data, url } })
  }
  const mapping = ZGW[event.type] ?? { kanaal: 'regiobalie', resource: event.type, actie: 'update' }
  const caseId = event.data.caseId
  const hoofdObject = typeof caseId === 'string' ? `${baseUrl}/v1/cases/${caseId}` : url
  const kenmerken: Record<string, string> = { type: event.type }
  for (const [name, value] of Object.entries(event.data)) {
    if (value !== null) kenmerken[name] = String(value)
  }
  return JSON.stringify({
    kanaal: mapping.kanaal,
    hoofdObject,
    resource: mapping.resource,
    resourceUrl: url,
    actie: mapping.actie,
    aanmaakdatum: event.occurredAt,
    kenmerken,
  })
}

// An event's body is the same bytes for every subscription of its format: rendered once for the
// subscriptions that send it within a short while (a fan-out's deliveries go out together).
const BODIES_KEPT = 20_000
const bodies = new Map<string, string>()
export function bodyOf(event: WebhookEventJson, format: WebhookFormat, baseUrl: string): string {
  const key = `${format}|${event.id}|${baseUrl}`
  let body = bodies.get(key)
  if (body === undefined) {
    body = renderBody(event, format, baseUrl)
    if (bodies.size >= BODIES_KEPT) bodies.delete(bodies.keys().next().value!)
    bodies.set(key, body)
  }
  return body
}
