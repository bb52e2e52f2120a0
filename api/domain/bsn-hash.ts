import { createHmac } from 'node:crypto'

/**
 * The keyed hash under which a BSN is stored for look-ups (access-log search): equal BSNs give equal
 * hashes, but without the key a hash cannot be turned back into a BSN by trying all 10^9 numbers.
 */
export const bsnHash = (key: Buffer, bsn: string): Buffer => createHmac('sha256', key).update(`bsn:${bsn}`, 'utf8').digest()
