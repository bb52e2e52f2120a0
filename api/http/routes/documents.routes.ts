// HTTP only. The upload route is the one route with a multipart body: @fastify/multipart is
// registered here, in this route's own scope, with the explicit limits from the config.
import multipart from '@fastify/multipart'
import type { FastifyInstance } from 'fastify'
import type { Config } from '../../config.js'
import type { OpenApiDocument } from '../openapi.js'
import { claimIdempotencyKey, idempotencyKeyOf, IdempotentReplay, requestHash, sendReplay } from '../plugins/idempotency.js'
import { declareRoute } from '../route.js'
import * as documents from '../../documents/documents.service.js'
import { DomainError } from '../../domain/errors.js'
import { downloadFilename } from '../../documents/sniff.js'
import { UPLOAD_CHUNK_BYTES } from '../../documents/sealer.js'


/** Content-Disposition for a sanitised file name (RFC 6266; the name is already ASCII-safe). */
const attachment = (filename: string): string => `attachment; filename="${filename}"`

export async function documentRoutes(app: FastifyInstance, spec: OpenApiDocument, deps: documents.DocumentDeps, limits: Config['upload']): Promise<void> {
  await app.register(async (upload) => {
    await upload.register(multipart, {
      throwFileSizeLimit: true,
      // Larger parser buffers than busboy's defaults: fewer, bigger chunks through the upload
      // pipeline (issue 13), still bounded per request.
      highWaterMark: UPLOAD_CHUNK_BYTES,
      fileHwm: UPLOAD_CHUNK_BYTES,
      limits: {
        fileSize: limits.maxFileBytes,
        files: 1,
        fields: limits.maxFields,
        fieldSize: limits.maxFieldBytes,
        fieldNameSize: 100,
        parts: limits.maxParts,
        headerPairs: 50,
      },
    })
    declareRoute(
      upload,
      spec,
      'uploadDocument',
      'documents:write',
      async (req, reply) => {
        const caseId = req.params.caseId
        const key = idempotencyKeyOf(req)
        const hooks: documents.UploadHooks = key
          ? {
              beforeCommit: async (fingerprint) => {
                const replay = await claimIdempotencyKey(deps.db, req, key, requestHash(req, fingerprint))
                if (replay) throw new IdempotentReplay(replay)
              },
            }
          : {}
        try {
          const doc = await documents.uploadDocument(deps, req.principal, caseId, req.parts(), hooks)
          return await reply.header('Location', `/v1/documents/${doc.id}`).code(201).send(doc)
        } catch (err) {
          if (err instanceof IdempotentReplay) return sendReplay(reply, err.replay)
          throw err
        }
      },
      { idempotent: false },
    )
  })

  declareRoute(app, spec, 'listDocuments', 'documents:read', async (req) =>
    documents.listDocuments(deps, req.principal, req.params.caseId),
  )
  declareRoute(app, spec, 'getDocument', 'documents:read', async (req) =>
    documents.getDocument(deps, req.principal, req.params.documentId),
  )
  declareRoute(app, spec, 'getDocumentContent', 'documents:read', async (req, reply) => {
    const documentId = req.params.documentId
    let content: Awaited<ReturnType<typeof documents.openDocumentContent>>
    try {
      content = await documents.openDocumentContent(deps, req.principal, documentId)
    } catch (err) {
      if (err instanceof DomainError && err.code === 'blob-unavailable') req.log.error({ documentId }, 'document blob unavailable')
      throw err
    }
    content.stream.once('error', (err) => req.log.error({ documentId, err: err.message }, 'document blob failed during download; response aborted'))
    return reply
      .type(content.contentType)
      .headers({
        // Rows stored before names took the sniffed extension are made safe on the way out too.
        'Content-Disposition': attachment(downloadFilename(content.filename, content.contentType)),
        'X-Content-Type-Options': 'nosniff',
        'Cache-Control': 'private, no-store',
        'Content-Security-Policy': "default-src 'none'; sandbox; frame-ancestors 'none'",
      })
      .code(200)
      .send(content.stream)
  })
  declareRoute(app, spec, 'recordVerdict', 'documents:write', async (req) =>
    documents.recordVerdict(deps, req.principal, req.params.documentId, req.body),
  )
}
