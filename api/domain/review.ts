// The automated review of one document (API.md "Documents"): a pure function from what is known
// about the document and its case to a status and findings. The worker gathers the inputs.
import { isExpectedDocument, type CaseTypeDefinition } from './case-types.js'
import type { DocumentKind } from './document-kinds.js'
import { legalisationFindings, legalisationRequirement, translationFinding, type DocumentForm, type Finding } from './legalisation.js'

export type { Finding }

export type Integrity = { status: 'ok' } | { status: 'encrypted' } | { status: 'unreadable'; reason: string }

export interface ReviewInput {
  kind: DocumentKind
  issuingCountry: string
  language: string
  expiresOn: string | null
  /** The form the uploader stated (optional): decides the narrow treaty exemptions. */
  documentForm?: DocumentForm | null
  /** The upload date: the day the document is presented for use in the Netherlands. */
  presentedOn: string
  /** Today, for expiry. */
  today: string
  caseType: CaseTypeDefinition | undefined
  duplicateOf: string | null
  integrity: Integrity
}

export interface ReviewOutcome {
  status: 'passed' | 'needs_attention' | 'rejected'
  findings: Finding[]
}

const finding = (code: string, severity: Finding['severity'], nl: string, en: string): Finding => ({ code, severity, message: { nl, en } })

export function reviewDocument(input: ReviewInput): ReviewOutcome {
  const findings: Finding[] = []
  if (input.integrity.status === 'unreadable') {
    findings.push(finding('unreadable-file', 'error', 'Het bestand is beschadigd of onleesbaar.', 'The file is corrupt or unreadable.'))
    // Nothing else can be judged about a file that cannot be read.
    return { status: 'rejected', findings }
  }
  if (input.integrity.status === 'encrypted') {
    findings.push(
      finding('encrypted-pdf', 'warning', 'De PDF is versleuteld of met een wachtwoord beveiligd.', 'The PDF is encrypted or password protected.'),
    )
  }
  if (input.caseType && !isExpectedDocument(input.caseType, input.kind)) {
    findings.push(
      finding(
        'kind-not-expected-for-case-type',
        'warning',
        'Dit soort document hoort niet bij dit type zaak.',
        'This kind of document is not expected for this case type.',
      ),
    )
  }
  if (input.expiresOn && input.expiresOn < input.today) {
    findings.push(finding('document-expired', 'warning', 'Het document is verlopen.', 'The document has expired.'))
  }
  if (input.duplicateOf) {
    findings.push(
      finding('duplicate-document', 'warning', 'Hetzelfde bestand is al eerder bij deze zaak aangeleverd.', 'The same file was already uploaded to this case.'),
    )
  }
  const legalisation = { documentKind: input.kind, issuingCountry: input.issuingCountry, presentedOn: input.presentedOn, documentForm: input.documentForm ?? null }
  const requirement = legalisationRequirement(legalisation)
  findings.push(...legalisationFindings(legalisation, requirement))
  // An EU public document with its multilingual standard form (Reg. 2016/1191) may need no translation.
  const withEuForm = input.documentForm === 'eu_multilingual_form' && requirement.requirement === 'exempt-eu-public-documents'
  const translation = translationFinding(input.language, { euMultilingualForm: withEuForm })
  if (translation) findings.push(translation)
  const attention = findings.some((f) => f.severity !== 'info')
  return { status: attention ? 'needs_attention' : 'passed', findings }
}

/**
 * The stored file of a document cannot be read (missing or corrupt blob): our fault, not the
 * citizen's, so the document is not rejected; a specialist must look (and ask for it again).
 */
export const blobUnavailableOutcome = (): ReviewOutcome => ({
  status: 'needs_attention',
  findings: [
    finding(
      'blob-unavailable',
      'error',
      'Het opgeslagen bestand van dit document is niet leesbaar; vraag het document opnieuw op.',
      'The stored file of this document cannot be read; ask for the document again.',
    ),
  ],
})
