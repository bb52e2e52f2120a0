// A tiny browser for app.inject: keeps the session cookie, reads the CSRF token off the page.
import type { FastifyInstance, LightMyRequestResponse } from 'fastify'
import { expect } from 'vitest'

export class WebClient {
  private cookies = new Map<string, string>()

  constructor(private readonly app: FastifyInstance) {}

  private remember(res: LightMyRequestResponse): LightMyRequestResponse {
    const set = res.headers['set-cookie']
    for (const line of Array.isArray(set) ? set : set ? [set] : []) {
      const [pair, ...attrs] = line.split(';')
      const [name, ...value] = pair!.split('=')
      const expired = attrs.some((a) => /^\s*max-age=0/i.test(a) || /^\s*expires=Thu, 01 Jan 1970/i.test(a))
      if (expired || value.join('=') === '') this.cookies.delete(name!.trim())
      else this.cookies.set(name!.trim(), value.join('='))
    }
    return res
  }

  get cookieHeader(): string {
    return [...this.cookies].map(([k, v]) => `${k}=${v}`).join('; ')
  }

  async get(url: string): Promise<LightMyRequestResponse> {
    return this.remember(await this.app.inject({ method: 'GET', url, headers: { cookie: this.cookieHeader } }))
  }

  async post(url: string, form: Record<string, string | string[]>, extraHeaders: Record<string, string> = {}): Promise<LightMyRequestResponse> {
    const body = new URLSearchParams()
    for (const [k, v] of Object.entries(form)) for (const one of Array.isArray(v) ? v : [v]) body.append(k, one)
    return this.remember(
      await this.app.inject({
        method: 'POST',
        url,
        headers: { cookie: this.cookieHeader, 'content-type': 'application/x-www-form-urlencoded', ...extraHeaders },
        payload: body.toString(),
      }),
    )
  }

  async postMultipart(url: string, body: Buffer, contentType: string): Promise<LightMyRequestResponse> {
    return this.remember(await this.app.inject({ method: 'POST', url, headers: { cookie: this.cookieHeader, 'content-type': contentType }, payload: body }))
  }

  /** The CSRF token of the first form on a page. */
  static csrf(res: LightMyRequestResponse): string {
    const m = /name="_csrf" value="([^"]+)"/.exec(res.body)
    if (!m) throw new Error(`no CSRF token on the page (status ${res.statusCode})`)
    return m[1]!
  }

  /** GETs a page and posts one of its forms with the page's token. */
  async submit(pageUrl: string, action: string, form: Record<string, string | string[]>): Promise<LightMyRequestResponse> {
    const page = await this.get(pageUrl)
    return this.post(action, { _csrf: WebClient.csrf(page), ...form })
  }

  async signIn(key: string): Promise<LightMyRequestResponse> {
    return this.submit('/app/inloggen', '/app/inloggen', { key })
  }
}

/** A client signed in with `key` (asserts the sign-in's 303). */
export async function signedIn(app: FastifyInstance, key: string): Promise<WebClient> {
  const web = new WebClient(app)
  expect((await web.signIn(key)).statusCode).toBe(303)
  return web
}
