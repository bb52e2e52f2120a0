// Validates a UBL document against the OASIS UBL 2.1 XSD (copied to test/fixtures/ubl-2.1) with
// xmllint compiled to WebAssembly: no native binary, runs on Node 20.
import { readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { validateXML } from 'xmllint-wasm'

const root = join(import.meta.dirname, '..', 'fixtures', 'ubl-2.1', 'xsd')
const files = (dir: string) => readdirSync(join(root, dir)).filter((f) => f.endsWith('.xsd')).map((f) => ({ fileName: `${dir}/${f}`, contents: readFileSync(join(root, dir, f), 'utf8') }))
const common = files('common')
const maindoc = files('maindoc')

export async function validateUbl(xml: string, kind: 'Invoice' | 'CreditNote' = 'Invoice'): Promise<{ valid: boolean; errors: string[] }> {
  const main = maindoc.find((f) => f.fileName === `maindoc/UBL-${kind}-2.1.xsd`)!
  const result = await validateXML({
    xml: [{ fileName: 'document.xml', contents: xml }],
    schema: [main],
    preload: [...common, ...maindoc.filter((f) => f !== main)],
    maxMemoryPages: 16_384,
  })
  return { valid: result.valid, errors: result.errors.map((e) => e.rawMessage) }
}
