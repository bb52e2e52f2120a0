import { Writable } from 'node:stream'
import { describe, expect, it } from 'vitest'
import { createLogger } from '../../api/logger.js'

const capture = () => {
  const lines: string[] = []
  const stream = new Writable({
    write(chunk: Buffer, _enc, done) {
      lines.push(chunk.toString('utf8'))
      done()
    },
  })
  return { logger: createLogger('info', stream), text: () => lines.join('') }
}

describe('log redaction', () => {
  it('never writes a BSN, a name, a birth date or a key, at any usual depth', () => {
    const { logger, text } = capture()
    logger.info({ bsn: '111222333', subject: { bsn: '123456782', givenNames: 'Fatima', surname: 'El Amrani', dateOfBirth: '1990-01-02' } }, 'case submitted')
    logger.info({ case: { subject: { givenNames: 'Jan' } }, request: { body: { subject: { surname: 'Jansen', bsn: '999999990' } } } }, 'nested')
    logger.info({ req: { headers: { authorization: 'Bearer rbk_c_topsecret' } }, key: 'rbk_c_topsecret2' }, 'auth')
    logger.info({ document: { bytes: 'JVBERi0xLjQK', content: 'JVBERi0xLjQK' } }, 'upload')
    const out = text()
    for (const secret of ['111222333', '123456782', '999999990', 'Fatima', 'El Amrani', 'Jansen', '1990-01-02', 'Jan"', 'topsecret', 'JVBERi0']) {
      expect(out).not.toContain(secret)
    }
    expect(out).toContain('[redacted]')
    expect(out).toContain('case submitted')
  })

  it('logs errors without a driver detail that may quote the data being written', () => {
    const { logger, text } = capture()
    const err = Object.assign(new Error('duplicate key value violates unique constraint'), { code: '23505', detail: 'Key (bsn)=(111222333) already exists.' })
    logger.error({ err }, 'insert failed')
    const out = text()
    expect(out).toContain('23505')
    expect(out).toContain('duplicate key value')
    expect(out).not.toContain('111222333')
  })
})
