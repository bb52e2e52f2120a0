// HTTP only: parse, call one service function, shape the reply (STYLE.md §6).
import type { FastifyInstance } from 'fastify'
import type { Db } from '../../db/database.js'
import * as fees from '../../settlement/fees.service.js'
import { recordFee } from '../../cases/case-fee.service.js'
import * as settlement from '../../settlement/settlement.service.js'
import type { OpenApiDocument } from '../openapi.js'
import { declareRoute } from '../route.js'

export function settlementRoutes(app: FastifyInstance, spec: OpenApiDocument, db: Db): void {
  declareRoute(app, spec, 'getTariffs', null, async (req) => fees.getTariffs(db, req.principal, req.query.year))
  declareRoute(app, spec, 'putTariffs', 'tenants:admin', async (req) => fees.putTariffs(db, req.principal, req.params.year, req.body))

  declareRoute(
    app,
    spec,
    'recordFee',
    'settlement:write',
    async (req, reply) => {
      const fee = await recordFee(db, req.principal, req.params.caseId, req.body)
      return reply.header('Location', `/v1/cases/${req.params.caseId}/fees`).code(201).send(fee)
    },
    { idempotent: true },
  )
  declareRoute(app, spec, 'listLedgerEntries', 'settlement:read', async (req) => fees.listLedgerEntries(db, req.principal, req.query))
  declareRoute(app, spec, 'getLedgerBalances', 'settlement:read', async (req) => fees.ledgerBalances(db, req.principal, req.query))

  declareRoute(
    app,
    spec,
    'startSettlement',
    'settlement:write',
    async (req, reply) => {
      const s = await settlement.startSettlement(db, req.principal, req.body)
      return reply.header('Location', `/v1/settlements/${s.id}`).code(202).send(s)
    },
    { idempotent: true },
  )
  declareRoute(app, spec, 'getSettlement', 'settlement:read', async (req) => settlement.getSettlement(db, req.principal, req.params.settlementId))

  declareRoute(app, spec, 'listInvoices', 'settlement:read', async (req) => settlement.listInvoices(db, req.principal, req.query))
  declareRoute(app, spec, 'getInvoice', 'settlement:read', async (req) => settlement.getInvoice(db, req.principal, req.params.invoiceId))
  declareRoute(app, spec, 'getInvoiceUbl', 'settlement:read', async (req, reply) => {
    const stream = await settlement.exportInvoice(db, req.principal, req.params.invoiceId, 'ubl')
    return reply.type('application/xml; charset=utf-8').code(200).send(stream)
  })
  declareRoute(app, spec, 'getInvoiceCsv', 'settlement:read', async (req, reply) => {
    const stream = await settlement.exportInvoice(db, req.principal, req.params.invoiceId, 'csv')
    return reply.type('text/csv; charset=utf-8').code(200).send(stream)
  })
  declareRoute(
    app,
    spec,
    'createCreditNote',
    'settlement:write',
    async (req, reply) => {
      const note = await settlement.createCreditNote(db, req.principal, req.params.invoiceId, req.body)
      return reply.header('Location', `/v1/invoices/${note.id}`).code(201).send(note)
    },
    { idempotent: true },
  )

  declareRoute(app, spec, 'listRemittances', 'settlement:read', async (req) => settlement.listRemittances(db, req.principal, req.query))
  declareRoute(app, spec, 'getRemittance', 'settlement:read', async (req) => settlement.getRemittance(db, req.principal, req.params.remittanceId))
  declareRoute(app, spec, 'getRemittanceNameList', 'settlement:read', async (req, reply) => {
    const csv = await settlement.remittanceNameList(db, req.principal, req.params.remittanceId)
    return reply.type('text/csv; charset=utf-8').header('Cache-Control', 'no-store').code(200).send(csv)
  })
  declareRoute(
    app,
    spec,
    'markRemitted',
    'settlement:write',
    async (req) => settlement.markRemitted(db, req.principal, req.params.remittanceId, req.body),
    { idempotent: true },
  )
}
