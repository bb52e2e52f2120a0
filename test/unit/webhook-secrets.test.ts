// Issue 11: signing secrets are whsec_ + 32 random bytes, stored only encrypted, bound to their
// subscription, and sign as the Standard Webhooks reference library verifies.
import { randomUUID } from 'node:crypto'
import { Webhook } from 'standardwebhooks'
import { describe, expect, it } from 'vitest'
import { signatureHeader } from '../../api/webhooks/signing.js'
import { decryptSecret, encryptSecret, generateSecret, secretsKey } from '../../api/webhooks/secrets.js'

const key = secretsKey(Buffer.alloc(32, 9))

describe('webhook secrets', () => {
  it('are whsec_ and the base64 of 32 random bytes, different every time', () => {
    const a = generateSecret()
    expect(a).toMatch(/^whsec_[A-Za-z0-9+/]{43}=$/)
    expect(Buffer.from(a.slice(6), 'base64')).toHaveLength(32)
    expect(generateSecret()).not.toBe(a)
  })

  it('encrypt to text that holds neither the secret nor its bytes, and decrypt only for their subscription and key', () => {
    const id = randomUUID()
    const secret = generateSecret()
    const stored = encryptSecret(secret, key, id)
    expect(stored).not.toContain(secret.slice(6, 20))
    expect(stored).not.toContain(Buffer.from(secret.slice(6), 'base64').toString('base64url').slice(0, 12))
    expect(decryptSecret(stored, key, id)).toBe(secret)
    expect(() => decryptSecret(stored, key, randomUUID())).toThrow()
    expect(() => decryptSecret(stored, secretsKey(Buffer.alloc(32, 8)), id)).toThrow()
    expect(secretsKey(Buffer.alloc(32, 9)).equals(Buffer.alloc(32, 9))).toBe(false)
  })

  it('sign so that the reference library verifies, with each of two secrets during a rotation', () => {
    const [oldSecret, newSecret] = [generateSecret(), generateSecret()]
    const body = JSON.stringify({ type: 'webhook.test', timestamp: new Date().toISOString(), data: {} })
    const now = new Date()
    const headers = (sig: string) => ({ 'webhook-id': 'msg-1', 'webhook-timestamp': String(Math.floor(now.getTime() / 1000)), 'webhook-signature': sig })
    const both = signatureHeader([newSecret, oldSecret], 'msg-1', now, body)
    expect(both.split(' ')).toHaveLength(2)
    expect(both).toMatch(/^v1,\S+ v1,\S+$/)
    expect(new Webhook(newSecret).verify(body, headers(both))).toEqual(JSON.parse(body))
    expect(new Webhook(oldSecret).verify(body, headers(both))).toEqual(JSON.parse(body))
    expect(() => new Webhook(generateSecret()).verify(body, headers(both))).toThrow()
    expect(() => new Webhook(newSecret).verify(body + ' ', headers(both))).toThrow()
  })
})
