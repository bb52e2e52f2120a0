// The national fee tables shipped with the project, read from naturalisation_tariffs.csv next to this
// module (a copy of shared/data/naturalisation_fees.csv for the years whose codes are all confirmed;
// the file's header says which years, why, and how compensation is derived).
import { readRecords, required } from './csv.js'

export interface ShippedTariffRow {
  year: number
  code: string
  description: string
  feeCents: bigint
  compensationCents: bigint
  source: string
}

const where = (i: number) => `naturalisation_tariffs.csv row ${i + 2}`

export const SHIPPED_TARIFF_ROWS: readonly ShippedTariffRow[] = readRecords(new URL('./naturalisation_tariffs.csv', import.meta.url)).map((r, i) => ({
  year: Number(required(r.year ?? null, where(i))),
  code: required(r.tariffCode ?? null, where(i)),
  description: required(r.description ?? null, where(i)),
  feeCents: BigInt(required(r.feeCents ?? null, where(i))),
  compensationCents: BigInt(required(r.compensationCents ?? null, where(i))),
  source: required(r.source ?? null, where(i)),
}))
