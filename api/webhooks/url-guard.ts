// The SSRF guard for outbound webhook requests (API.md "Webhooks"). A subscription URL must be
// https and every address its host resolves to must be a public unicast address: no loopback,
// private (RFC 1918, unique-local), link-local, CGNAT, metadata, multicast or reserved range. It is
// checked when the subscription is made and again before every delivery (DNS can change), and the
// delivery connects to the very address that was checked, so a second lookup cannot swap it.
import { lookup as dnsLookup } from 'node:dns/promises'
import { BlockList, isIP } from 'node:net'

export interface ResolvedAddress {
  address: string
  family: 4 | 6
}

/** Resolves a host name to all its addresses (node's resolver; tests pass their own). */
export type Resolver = (hostname: string) => Promise<ResolvedAddress[]>

export const systemResolver: Resolver = async (hostname) =>
  (await dnsLookup(hostname, { all: true, verbatim: true })).map((a) => ({ address: a.address, family: a.family === 6 ? 6 : 4 }))

const blocked = new BlockList()
for (const [net, prefix] of [
  ['0.0.0.0', 8], // "this network"
  ['10.0.0.0', 8], // private
  ['100.64.0.0', 10], // CGNAT (also Alibaba's metadata 100.100.100.200)
  ['127.0.0.0', 8], // loopback
  ['169.254.0.0', 16], // link-local (cloud metadata 169.254.169.254)
  ['172.16.0.0', 12], // private
  ['192.0.0.0', 24], // IETF protocol assignments
  ['192.0.2.0', 24], // documentation
  ['192.168.0.0', 16], // private
  ['198.18.0.0', 15], // benchmarking
  ['198.51.100.0', 24], // documentation
  ['203.0.113.0', 24], // documentation
  ['224.0.0.0', 4], // multicast
  ['240.0.0.0', 4], // reserved, broadcast
] as const) {
  blocked.addSubnet(net, prefix, 'ipv4')
}
for (const [net, prefix] of [
  ['::', 128], // unspecified
  ['::1', 128], // loopback
  ['100::', 64], // discard
  ['2001:db8::', 32], // documentation
  ['fc00::', 7], // unique local (AWS metadata fd00:ec2::254)
  ['fe80::', 10], // link-local
  ['fec0::', 10], // site-local (deprecated)
  ['ff00::', 8], // multicast
] as const) {
  blocked.addSubnet(net, prefix, 'ipv6')
}

// Names that answer with instance metadata on cloud networks, whatever they resolve to here.
const METADATA_NAMES = new Set(['metadata', 'metadata.google.internal', 'metadata.goog', 'instance-data', 'instance-data.ec2.internal'])

/** The IPv4 address an IPv6 address embeds (IPv4-mapped, -compatible, NAT64), if any. */
function embeddedIpv4(address: string): string | null {
  const lower = address.toLowerCase()
  const dotted = /^(?:::ffff:|::|64:ff9b::)(\d+\.\d+\.\d+\.\d+)$/.exec(lower)
  if (dotted) return dotted[1]!
  const hex = /^(?:::ffff:|64:ff9b::)([0-9a-f]{1,4}):([0-9a-f]{1,4})$/.exec(lower)
  if (hex) {
    const hi = parseInt(hex[1]!, 16)
    const lo = parseInt(hex[2]!, 16)
    return `${hi >> 8}.${hi & 255}.${lo >> 8}.${lo & 255}`
  }
  return null
}

/** True when a connection to this address could reach the platform's own network. */
export function isForbiddenAddress(address: string): boolean {
  const family = isIP(address)
  if (family === 4) return blocked.check(address, 'ipv4')
  if (family === 6) {
    const v4 = embeddedIpv4(address)
    if (v4 !== null) return isIP(v4) !== 4 || blocked.check(v4, 'ipv4')
    return blocked.check(address, 'ipv6')
  }
  return true
}

export interface UrlCheck {
  ok: boolean
  /** Why not (for the 422 detail and the delivery's last error); never echoes resolved addresses. */
  reason?: string
  /** The checked address to connect to (null when the guard is lifted). */
  address?: ResolvedAddress | null
}

export interface GuardOptions {
  allowPrivateNetworks: boolean
  resolve: Resolver
}

/** Checks a webhook URL and resolves its host; the caller connects to `address`. */
export async function checkWebhookUrl(raw: string, options: GuardOptions): Promise<UrlCheck> {
  let url: URL
  try {
    url = new URL(raw)
  } catch {
    return { ok: false, reason: 'is not a URL' }
  }
  if (url.username || url.password) return { ok: false, reason: 'must not carry credentials' }
  if (options.allowPrivateNetworks) {
    if (url.protocol !== 'https:' && url.protocol !== 'http:') return { ok: false, reason: 'must be http or https' }
    return { ok: true, address: null }
  }
  if (url.protocol !== 'https:') return { ok: false, reason: 'must be https' }
  const host = url.hostname.replace(/^\[|\]$/g, '').toLowerCase().replace(/\.$/, '')
  if (METADATA_NAMES.has(host)) return { ok: false, reason: 'names a cloud metadata service' }
  let addresses: ResolvedAddress[]
  if (isIP(host)) {
    addresses = [{ address: host, family: isIP(host) === 6 ? 6 : 4 }]
  } else {
    try {
      addresses = await options.resolve(host)
    } catch {
      return { ok: false, reason: 'does not resolve' }
    }
  }
  if (addresses.length === 0) return { ok: false, reason: 'does not resolve' }
  if (addresses.some((a) => isForbiddenAddress(a.address))) {
    return { ok: false, reason: 'resolves to a loopback, private, link-local or otherwise internal address' }
  }
  return { ok: true, address: addresses[0]! }
}

// The SSRF guard runs before every batch; the DNS answers it checks are kept for a few seconds
// (per resolver), so a burst to one host does not resolve it per delivery. The addresses are
// checked against the forbidden ranges every time.
const DNS_TTL_MS = 5_000
const resolverCaches = new WeakMap<Resolver, Resolver>()
export function cachedResolver(resolve: Resolver): Resolver {
  let cached = resolverCaches.get(resolve)
  if (!cached) {
    const answers = new Map<string, { until: number; addresses: ResolvedAddress[] }>()
    cached = async (hostname) => {
      const hit = answers.get(hostname)
      if (hit && hit.until > Date.now()) return hit.addresses
      const addresses = await resolve(hostname)
      if (answers.size > 10_000) answers.clear()
      answers.set(hostname, { until: Date.now() + DNS_TTL_MS, addresses })
      return addresses
    }
    resolverCaches.set(resolve, cached)
  }
  return cached
}
