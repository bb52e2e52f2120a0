import { createHash, randomBytes } from 'node:crypto'
import type { KeyKind } from '../db/schema.js'

// Keys are recognisable (`rbk_` + kind letter, so a leaked key is easy to spot in a scanner) and carry
// 256 bits of randomness. Only their SHA-256 is stored: with that much entropy a slow hash adds nothing.
const KIND_LETTER: Record<KeyKind, string> = { admin: 'a', client: 'c', staff: 's' }

export interface NewApiKey {
  key: string
  prefix: string
  hash: Buffer
}

export const hashApiKey = (key: string): Buffer => createHash('sha256').update(key, 'utf8').digest()

export function generateApiKey(kind: KeyKind): NewApiKey {
  const key = `rbk_${KIND_LETTER[kind]}_${randomBytes(32).toString('base64url')}`
  return { key, prefix: key.slice(0, 12), hash: hashApiKey(key) }
}

/** The prefix shown for a key that was given from outside (the bootstrap admin token). */
export const keyPrefix = (key: string): string => key.slice(0, 12)
