// Signing secrets of webhook subscriptions. A secret is `whsec_` + the base64 of 32 random bytes
// (Standard Webhooks' format), shown to the tenant once and stored only encrypted: AES-256-GCM
// under a key derived from BLOB_MASTER_KEY with HKDF for this one purpose, so the document keys and
// the webhook secrets never share a key. The subscription id is the additional authenticated data:
// an encrypted secret copied onto another subscription does not decrypt.
import { createCipheriv, createDecipheriv, hkdfSync, randomBytes } from 'node:crypto'

const SECRET_BYTES = 32
const IV_BYTES = 12
const TAG_BYTES = 16
const FORMAT = 'v1'
const PURPOSE = 'regiobalie:webhook-signing-secret:v1'

export const SECRET_PREFIX = 'whsec_'

export function generateSecret(): string {
  return SECRET_PREFIX + randomBytes(SECRET_BYTES).toString('base64')
}

export const secretsKey = (masterKey: Buffer): Buffer => Buffer.from(hkdfSync('sha256', masterKey, Buffer.alloc(0), PURPOSE, 32))

const aad = (subscriptionId: string): Buffer => Buffer.from(`${PURPOSE}:${subscriptionId}`, 'utf8')

/** `v1.<iv>.<tag>.<ciphertext>`, each base64url. */
export function encryptSecret(secret: string, key: Buffer, subscriptionId: string): string {
  const iv = randomBytes(IV_BYTES)
  const cipher = createCipheriv('aes-256-gcm', key, iv)
  cipher.setAAD(aad(subscriptionId))
  const ciphertext = Buffer.concat([cipher.update(secret, 'utf8'), cipher.final()])
  return [FORMAT, iv.toString('base64url'), cipher.getAuthTag().toString('base64url'), ciphertext.toString('base64url')].join('.')
}

export function decryptSecret(stored: string, key: Buffer, subscriptionId: string): string {
  const [format, iv, tag, ciphertext] = stored.split('.')
  if (format !== FORMAT || !iv || !tag || !ciphertext) throw new Error('encrypted webhook secret has an unknown format')
  const ivBytes = Buffer.from(iv, 'base64url')
  const tagBytes = Buffer.from(tag, 'base64url')
  if (ivBytes.length !== IV_BYTES || tagBytes.length !== TAG_BYTES) throw new Error('encrypted webhook secret has an unknown format')
  const decipher = createDecipheriv('aes-256-gcm', key, ivBytes)
  decipher.setAAD(aad(subscriptionId))
  decipher.setAuthTag(tagBytes)
  return Buffer.concat([decipher.update(Buffer.from(ciphertext, 'base64url')), decipher.final()]).toString('utf8')
}
