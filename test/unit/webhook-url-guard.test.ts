// Issue 11: the SSRF guard refuses every internal address class, for literal addresses and for
// host names that resolve to them; WEBHOOK_ALLOW_PRIVATE_NETWORKS lifts it (and allows http).
import { describe, expect, it } from 'vitest'
import { checkWebhookUrl, isForbiddenAddress, systemResolver, type Resolver } from '../../api/webhooks/url-guard.js'

const publicOnly: Resolver = async () => [{ address: '93.184.215.14', family: 4 }]
const guarded = (resolve: Resolver = publicOnly) => ({ allowPrivateNetworks: false, resolve })
const resolvesTo = (address: string): Resolver => async () => [{ address, family: address.includes(':') ? 6 : 4 }]

const CLASSES: Record<string, string[]> = {
  'loopback 127/8': ['127.0.0.1', '127.255.255.254'],
  'private 10/8': ['10.0.0.1', '10.255.255.255'],
  'private 172.16/12': ['172.16.0.1', '172.31.255.255'],
  'private 192.168/16': ['192.168.0.1', '192.168.255.254'],
  'link-local 169.254/16 (metadata)': ['169.254.169.254', '169.254.0.1'],
  'CGNAT 100.64/10': ['100.64.0.1', '100.127.255.254', '100.100.100.200'],
  'IPv6 loopback ::1': ['::1'],
  'IPv6 unique local fc00::/7': ['fc00::1', 'fd00:ec2::254', 'fdff:ffff::1'],
  'IPv6 link-local fe80::/10': ['fe80::1'],
  'unspecified and this-network': ['0.0.0.0', '::', '0.1.2.3'],
  'IPv4-mapped IPv6 of internal addresses': ['::ffff:127.0.0.1', '::ffff:10.0.0.1', '::ffff:7f00:1', '64:ff9b::a9fe:a9fe'],
  multicast: ['224.0.0.1', 'ff02::1'],
}

describe('isForbiddenAddress', () => {
  for (const [name, addresses] of Object.entries(CLASSES)) {
    it(`refuses ${name}`, () => {
      for (const a of addresses) expect(isForbiddenAddress(a), a).toBe(true)
    })
  }
  it('allows public unicast addresses, right next to the blocked ranges', () => {
    for (const a of ['93.184.215.14', '9.255.255.255', '11.0.0.0', '172.15.255.255', '172.32.0.0', '192.167.255.255', '100.63.255.255', '100.128.0.0', '2a00:1450:400e:80f::200e', '::ffff:93.184.215.14']) {
      expect(isForbiddenAddress(a), a).toBe(false)
    }
  })
})

describe('checkWebhookUrl with the guard on', () => {
  it('refuses every address class as a literal in the URL', async () => {
    for (const addresses of Object.values(CLASSES)) {
      for (const a of addresses) {
        const host = a.includes(':') ? `[${a}]` : a
        const check = await checkWebhookUrl(`https://${host}/hook`, guarded())
        expect(check.ok, a).toBe(false)
        expect(check.reason).toMatch(/internal address/)
      }
    }
  })

  it('refuses a host name that resolves to any internal address', async () => {
    for (const addresses of Object.values(CLASSES)) {
      for (const a of addresses) {
        expect((await checkWebhookUrl('https://receiver.example/hook', guarded(resolvesTo(a)))).ok, a).toBe(false)
      }
    }
    // One bad address among good ones is enough to refuse.
    const mixed: Resolver = async () => [{ address: '93.184.215.14', family: 4 }, { address: '127.0.0.1', family: 4 }]
    expect((await checkWebhookUrl('https://receiver.example/hook', guarded(mixed))).ok).toBe(false)
  })

  it('refuses localhost as the system resolver answers it (127.0.0.1 or ::1)', async () => {
    const check = await checkWebhookUrl('https://localhost:8443/hook', guarded(systemResolver))
    expect(check.ok).toBe(false)
  })

  it('refuses plain http, credentials in the URL, metadata names and names that do not resolve', async () => {
    expect(await checkWebhookUrl('http://receiver.example/hook', guarded())).toMatchObject({ ok: false, reason: 'must be https' })
    expect((await checkWebhookUrl('https://user:pw@receiver.example/hook', guarded())).ok).toBe(false)
    expect((await checkWebhookUrl('https://metadata.google.internal/computeMetadata/v1/', guarded())).ok).toBe(false)
    expect((await checkWebhookUrl('ftp://receiver.example/', guarded())).ok).toBe(false)
    expect((await checkWebhookUrl('not a url', guarded())).ok).toBe(false)
    const fails: Resolver = async () => Promise.reject(new Error('ENOTFOUND'))
    expect(await checkWebhookUrl('https://nowhere.example/', guarded(fails))).toMatchObject({ ok: false, reason: 'does not resolve' })
  })

  it('refuses the decimal and hexadecimal spellings of loopback (the URL parser normalises them)', async () => {
    for (const url of ['https://2130706433/', 'https://0x7f.0.0.1/', 'https://0177.0.0.1/', 'https://127.1/']) {
      expect((await checkWebhookUrl(url, guarded())).ok, url).toBe(false)
    }
  })

  it('allows https to a public address and returns the address to connect to', async () => {
    expect(await checkWebhookUrl('https://receiver.example/hook', guarded())).toEqual({ ok: true, address: { address: '93.184.215.14', family: 4 } })
  })
})

describe('checkWebhookUrl with WEBHOOK_ALLOW_PRIVATE_NETWORKS=true', () => {
  it('allows http and loopback, still refuses other schemes and credentials', async () => {
    const lifted = { allowPrivateNetworks: true, resolve: resolvesTo('127.0.0.1') }
    expect(await checkWebhookUrl('http://127.0.0.1:9/hook', lifted)).toEqual({ ok: true, address: null })
    expect((await checkWebhookUrl('https://10.0.0.1/hook', lifted)).ok).toBe(true)
    expect((await checkWebhookUrl('file:///etc/passwd', lifted)).ok).toBe(false)
    expect((await checkWebhookUrl('http://a:b@127.0.0.1/', lifted)).ok).toBe(false)
  })
})
