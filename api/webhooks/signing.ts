// Standard Webhooks signatures (the standardwebhooks library), with the decrypted secrets of a
// subscription kept a short while in memory for its attempts.
import { Webhook } from 'standardwebhooks'
import { decryptSecret } from './secrets.js'
import type { SubscriptionRow } from './webhooks.repository.js'

/** The Standard Webhooks signature header: one `v1,…` per valid secret, separated by spaces. */
export function signatureHeader(secrets: readonly string[], messageId: string, timestamp: Date, body: string): string {
  return secrets.map((secret) => new Webhook(secret).sign(messageId, timestamp, body)).join(' ')
}

// Decrypted secrets, per subscription and ciphertext, for a short while: in memory only, never
// logged or stored. A rotation changes the ciphertext, so a rotated secret is never served stale.
const SIGNER_TTL_MS = 60_000
interface Signers {
  key: string
  until: number
  current: Webhook
  previous: Webhook | null
}
const signerCaches = new WeakMap<Buffer, Map<string, Signers>>()

export function signersOf(secretsKey: Buffer, s: SubscriptionRow, now: Date): Webhook[] {
  let cache = signerCaches.get(secretsKey)
  if (!cache) signerCaches.set(secretsKey, (cache = new Map<string, Signers>()))
  const key = `${s.secret_encrypted}|${s.previous_secret_encrypted ?? ''}`
  let entry = cache.get(s.id)
  const at = Date.now()
  if (!entry || entry.key !== key || entry.until < at) {
    if (cache.size > 10_000) cache.clear()
    entry = {
      key,
      until: at + SIGNER_TTL_MS,
      current: new Webhook(decryptSecret(s.secret_encrypted, secretsKey, s.id)),
      previous: s.previous_secret_encrypted ? new Webhook(decryptSecret(s.previous_secret_encrypted, secretsKey, s.id)) : null,
    }
    cache.set(s.id, entry)
  }
  // The previous secret signs only until it expires: checked at every attempt, not cached.
  const previousValid = entry.previous && s.previous_secret_expires_at && s.previous_secret_expires_at > now
  return previousValid ? [entry.current, entry.previous!] : [entry.current]
}
