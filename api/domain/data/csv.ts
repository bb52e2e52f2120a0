// Reference tables ship as CSV files next to their modules (copied from shared/data, header comment
// lines starting with '#' citing the source). Read once, at import.
import { readFileSync } from 'node:fs'

/** RFC 4180 CSV: quoted fields, doubled quotes, commas and line breaks inside quotes. */
export function parseCsv(text: string): string[][] {
  const rows: string[][] = []
  let row: string[] = []
  let field = ''
  let quoted = false
  for (let i = 0; i < text.length; i++) {
    const c = text[i]
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') {
        field += '"'
        i++
      } else if (c === '"') quoted = false
      else field += c
    } else if (c === '"') quoted = true
    else if (c === ',') {
      row.push(field)
      field = ''
    } else if (c === '\n') {
      row.push(field)
      rows.push(row)
      row = []
      field = ''
    } else if (c !== '\r') field += c
  }
  if (field !== '' || row.length > 0) rows.push([...row, field])
  return rows
}

const camel = (s: string): string => s.replace(/_([a-z0-9])/g, (_, c: string) => c.toUpperCase())

/** The rows of a CSV file as records with camelCase keys; an empty cell is null. */
export function readRecords(url: URL): Array<Record<string, string | null>> {
  const text = readFileSync(url, 'utf8')
    .split('\n')
    .filter((line) => !line.startsWith('#'))
    .join('\n')
  const [header, ...body] = parseCsv(text)
  if (!header) throw new Error(`${url.pathname}: no header row`)
  return body.map((cells, i) => {
    if (cells.length !== header.length) throw new Error(`${url.pathname}: row ${i + 2} has ${cells.length} cells, not ${header.length}`)
    return Object.fromEntries(header.map((col, j) => [camel(col), cells[j] === '' ? null : (cells[j] ?? null)]))
  })
}

/** A value of a closed set, or a start-up error naming the file, row and column. */
export function oneOf<T extends string | null>(value: string | null, allowed: readonly T[], where: string): T {
  if (!(allowed as readonly (string | null)[]).includes(value)) throw new Error(`${where}: unexpected value ${JSON.stringify(value)}`)
  return value as T
}

export function required(value: string | null, where: string): string {
  if (value === null) throw new Error(`${where}: missing value`)
  return value
}
