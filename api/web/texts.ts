// The workbench's Dutch words: labels for the codes the services use, and a message per error code
// and field. The services speak English codes; people read these.
import { findCaseType } from '../domain/case-types.js'
import { findCountry } from '../domain/countries.js'
import { findOutcome } from '../domain/outcomes.js'
import { dutchDate } from '../time.js'
import type { DomainError, InvalidField } from '../domain/errors.js'

const label = (table: Record<string, string>) => (code: string | null | undefined): string =>
  code == null ? '' : (table[code] ?? code.replaceAll('_', ' '))

export const statusLabel = label({
  submitted: 'Ingediend',
  intake: 'Intake',
  in_review: 'In behandeling',
  awaiting_information: 'Wacht op informatie',
  scheduled: 'Afspraak gepland',
  decided: 'Besloten',
  awaiting_ceremony: 'Wacht op ceremonie',
  closed: 'Afgesloten',
  withdrawn: 'Ingetrokken',
  rejected_at_intake: 'Afgewezen bij intake',
})

export const caseTypeLabel = label({
  naturalisation: 'Naturalisatie',
  option: 'Optie',
  first_registration: 'Eerste inschrijving in de BRP',
  ipr_assessment: 'IPR-beoordeling buitenlandse documenten',
})

export const iprMatterLabel = label({
  birth: 'Geboorte',
  marriage: 'Huwelijk',
  divorce: 'Echtscheiding',
  registered_partnership: 'Geregistreerd partnerschap',
  name: 'Naam',
  parentage: 'Afstamming',
  nationality: 'Nationaliteit',
})

export const documentKindLabel = label({
  passport: 'Paspoort',
  id_card: 'Identiteitskaart',
  residence_permit: 'Verblijfsvergunning',
  birth_certificate: 'Geboorteakte',
  marriage_certificate: 'Huwelijksakte',
  divorce_decree: 'Echtscheidingsakte of -vonnis',
  registered_partnership_certificate: 'Akte van partnerschapsregistratie',
  name_change_decision: 'Besluit naamswijziging',
  parentage_document: 'Erkenning of afstammingsakte',
  nationality_certificate: 'Nationaliteitsverklaring',
  civic_integration_diploma: 'Inburgeringsdiploma of ontheffing',
  cohabitation_evidence: 'Bewijs van samenwoning',
  proof_of_address: 'Bewijs van adres',
  other: 'Overig document',
})

export const checklistStatusLabel = label({ missing: 'Ontbreekt', received: 'Ontvangen', accepted: 'Geaccepteerd', rejected: 'Afgekeurd' })

export const reviewStatusLabel = label({
  pending: 'Wordt automatisch gecontroleerd',
  passed: 'Geen bijzonderheden',
  needs_attention: 'Aandacht nodig',
  rejected: 'Onleesbaar of beschadigd',
})

export const verdictLabel = label({ accepted: 'Geaccepteerd', rejected: 'Afgekeurd' })

export const outcomeLabel = label({
  granted: 'Toegekend',
  refused: 'Afgewezen',
  advise_grant: 'Positief advies (verlenen)',
  advise_refuse: 'Negatief advies (afwijzen)',
  grant: 'Verlenen',
  refuse: 'Afwijzen',
  registered: 'Ingeschreven',
  recognised: 'Erkend',
  not_recognised: 'Niet erkend',
})

export const actionLabel = label({
  submit: 'Ingediend',
  route: 'Doorgestuurd naar intake',
  reject_at_intake: 'Afgewezen bij intake',
  assign: 'Toegewezen',
  request_information: 'Informatie opgevraagd',
  information_received: 'Gevraagde informatie ontvangen',
  schedule: 'Afspraak gepland',
  decide: 'Besluit genomen',
  close: 'Afgesloten',
  withdraw: 'Ingetrokken',
  royal_decree_granted: 'Koninklijk Besluit: verleend',
  royal_decree_refused: 'Koninklijk Besluit: afgewezen (IND)',
  ceremony_attended: 'Ceremonie bijgewoond',
  decree_lapsed: 'Besluit vervallen',
})

export const accessActionLabel = label({ 'case.read': 'Dossier ingezien', 'document.download': 'Document gedownload' })
export const purposeLabel = label({ 'case-handling': 'behandeling', 'case-tracking': 'volgen van de zaak' })
export const staffRoleLabel = label({ specialist: 'Specialist', lead: 'Teamleider' })
export const tenantRoleLabel = label({ hub: 'Regiocentrum', member: 'Deelnemende gemeente' })
export const tenantStatusLabel = label({ active: 'Actief', suspended: 'Opgeschort' })
export const clockStatusLabel = label({ running: 'Loopt', met: 'Gehaald', overdue: 'Termijn overschreden', not_started: 'Nog niet gestart', stopped: 'Gestopt' })
export const clockFilterLabel = label({ overdue: 'Termijn overschreden', due_within_10_working_days: 'Verloopt binnen 10 werkdagen' })

/** A statutory clock's Dutch description from the case-type catalogue. */
export const clockLabel = (caseType: string, code: string): string => {
  const def = findCaseType(caseType, dutchDate())
  return def?.statutoryClocks.find((c) => c.code === code)?.descriptionNl ?? code.replaceAll('_', ' ')
}

/** An outcome's Dutch description for its case type (outcomes.ts), else the short label. */
export const outcomeText = (caseType: string, code: string): string => findOutcome(caseType, code)?.descriptionNl ?? outcomeLabel(code)

export const actorLabel = (kind: string): string =>
  ({ member: 'Gemeente', hub: 'Regiocentrum', system: 'Systeem', staff: 'Medewerker regiocentrum', client: 'Gemeente (balie of koppeling)' })[kind] ?? kind

/** Review findings the people read; the review worker's English message is the fallback. */
const FINDINGS: Record<string, string> = {
  'exempt-eu-public-documents': 'Vrijgesteld van legalisatie (EU-verordening openbare documenten).',
  'exempt-treaty': 'Vrijgesteld van legalisatie op grond van een verdrag.',
  'apostille-required': 'Apostille vereist.',
  'legalisation-required': 'Legalisatie vereist.',
  'translation-required': 'Beëdigde vertaling vereist.',
  'document-expired': 'Het document is verlopen.',
  'unreadable-file': 'Het bestand is onleesbaar.',
  'encrypted-pdf': 'De PDF is versleuteld en kan niet worden gecontroleerd.',
  'duplicate-document': 'Dit document is al eerder aangeleverd.',
  'kind-not-expected-for-case-type': 'Dit soort document hoort niet bij dit zaaktype.',
  'rule-data-unconfirmed': 'De regel berust op nog niet bevestigde gegevens; controleer zelf.',
}
export const findingText = (f: { code: string; message?: string }): string => FINDINGS[f.code] ?? f.message ?? f.code

/** What went wrong, per error code, in Dutch. */
const REFUSALS: Record<string, string> = {
  'tariff-not-loaded': 'Voor het jaar van betaling is nog geen landelijke legestabel geladen; de beheerder laadt die eerst.',
  'fee-already-recorded': 'De leges van deze zaak zijn al vastgelegd.',
  'tariff-not-for-case-type': 'Voor dit zaaktype gelden geen landelijke leges.',
  'case-type-not-delegated': 'Uw gemeente heeft voor dit zaaktype vandaag geen geldige dienstverleningsovereenkomst met het regiocentrum.',
  'case-type-not-available': 'Dit zaaktype is vandaag niet beschikbaar.',
  'case-closed': 'Deze zaak is niet meer open; dit kan niet meer.',
  'invalid-transition': 'Dit kan niet in de huidige status van de zaak.',
  'forbidden-action': 'Deze handeling is voor u niet toegestaan.',
  'checklist-incomplete': 'Nog niet alle verplichte documenten zijn geaccepteerd. Beoordeel eerst de documenten.',
  'staff-lacks-skill': 'Deze medewerker heeft niet de vaardigheid voor dit zaaktype.',
  'unknown-staff': 'Deze medewerker is niet (meer) actief bij het regiocentrum.',
  'not-assigned': 'Alleen de specialist aan wie de zaak is toegewezen kan dit doen.',
  'version-mismatch': 'De zaak is intussen door iemand anders gewijzigd. Bekijk de actuele gegevens en probeer het opnieuw.',
  forbidden: 'U hebt geen toestemming voor deze handeling.',
  'not-found': 'Dit bestaat niet, of u hebt er geen toegang toe.',
  'file-too-large': 'Het bestand is groter dan toegestaan.',
  'unsupported-media-type': 'Alleen PDF-, JPEG- en PNG-bestanden worden geaccepteerd.',
  'too-many-parts': 'Stuur precies één bestand mee.',
  'malformed-multipart': 'Het bestand is niet goed aangekomen. Probeer het opnieuw.',
  'document-shredded': 'Dit document is na de bewaartermijn vernietigd.',
  'unknown-municipality': 'Deze gemeentecode staat niet (meer) in de CBS-lijst van gemeenten.',
  'municipality-already-onboarded': 'Deze gemeente is al aangesloten.',
  'region-already-has-hub': 'Deze regio heeft al een regiocentrum.',
  'not-a-member': 'Dit is een regiocentrum; alleen deelnemende gemeenten hebben een overeenkomst.',
  'region-has-no-hub': 'De regio heeft nog geen regiocentrum.',
  'not-a-hub': 'Medewerkers horen bij een regiocentrum, niet bij een deelnemende gemeente.',
  'staff-email-taken': 'Er is al een medewerker met dit e-mailadres.',
  'scope-not-allowed': 'Dit recht is alleen voor de platformbeheerder.',
  'tenant-suspended': 'Uw gemeente is op het platform opgeschort.',
  'appointment-already-open': 'Er staat al een open afspraak van deze soort.',
  'kind-not-needed-for-case-type': 'Deze afspraak hoort niet bij dit zaaktype.',
  'period-not-ended': 'Deze maand is nog niet voorbij. Kies een afgelopen maand, of vink aan dat u de lopende maand nu wilt afrekenen.',
  'billing-details-missing': 'Van het regiocentrum of van een deelnemende gemeente ontbreken de factuurgegevens (OIN, adres, IBAN). Vraag de platformbeheerder ze vast te leggen.',
  'already-remitted': 'Deze afdracht is al als overgemaakt vastgelegd.',
  'appointment-attended': 'Deze afspraak heeft al plaatsgevonden en kan niet meer worden geannuleerd.',
  'appointment-not-open': 'Deze afspraak is al geannuleerd of afgesloten.',
  'appointment-not-booked': 'Deze afspraak is (nog) niet ingepland.',
  'appointment-not-started': 'De uitkomst kan pas worden vastgelegd als de afspraak begonnen is.',
  'not-awaiting-ceremony': 'Een ceremonie kan pas worden aangevraagd als het Koninklijk Besluit is vastgelegd.',
  'webhook-disabled': 'Dit abonnement is uitgeschakeld. Maak een nieuw abonnement aan.',
  'delivery-in-progress': 'Deze bezorging wordt op dit moment geprobeerd. Probeer het zo nog eens.',
  'url-not-allowed': 'Dit adres is niet toegestaan: gebruik https naar een openbaar adres.',
}

const FIELD_PROBLEMS: Record<string, string> = {
  required: 'Dit veld is verplicht.',
  'invalid-bsn': 'Dit is geen geldig burgerservicenummer (9 cijfers die voldoen aan de elfproef).',
  'invalid-date': 'Vul een bestaande datum in als jjjj-mm-dd, bijvoorbeeld 1990-05-17.',
  'date-in-future': 'Deze datum ligt in de toekomst.',
  'unknown-country': 'Kies een land uit de lijst.',
  'not-allowed': 'Deze waarde is hier niet toegestaan.',
  'invalid-format': 'Deze waarde heeft niet de juiste vorm.',
  'invalid-type': 'Deze waarde heeft niet de juiste vorm.',
  'too-long': 'Deze tekst is te lang.',
  'too-short': 'Dit veld is verplicht.',
  'too-few': 'Kies er minstens één.',
  'too-many': 'Dat zijn er te veel.',
  'out-of-range': 'Deze waarde valt buiten het toegestane bereik.',
  'before-valid-from': 'Deze datum ligt vóór de ingangsdatum.',
  'unknown-property': 'Dit veld is onbekend.',
  duplicate: 'Deze waarde komt dubbel voor.',
  'in-the-future': 'Deze datum ligt in de toekomst.',
  'invalid-time': 'Vul een tijd in als uu:mm, bijvoorbeeld 09:00.',
  'inverted-range': 'Het einde moet na het begin liggen.',
  'overlapping-range': 'Dit overlapt met een andere periode.',
  'unknown-location': 'Kies een locatie van het regiocentrum.',
  'unknown-event': 'Kies gebeurtenissen uit de lijst.',
}

export const refusalText = (err: DomainError): string => REFUSALS[err.code] ?? 'Dit is niet gelukt. Controleer de gegevens en probeer het opnieuw.'
export const fieldProblemText = (f: InvalidField): string => FIELD_PROBLEMS[f.code] ?? 'Deze waarde is niet goed.'

/** A country's Dutch name for its ISO code. */
export const countryName = (code: string | null | undefined): string => (code ? (findCountry(code)?.nameNl ?? code) : '')

export const appointmentKindLabel = label({
  intake_interview: 'Intakegesprek (persoonlijke indiening)',
  registration_appearance: 'Verschijning voor inschrijving',
  ceremony: 'Naturalisatieceremonie',
  option_confirmation: 'Uitreiking optiebevestiging',
})
export const appointmentStatusLabel = label({
  requested: 'Aangevraagd, wordt ingepland',
  booked: 'Ingepland',
  unschedulable: 'Niet in te plannen',
  cancelled: 'Geannuleerd',
  attended: 'Verschenen',
  no_show: 'Niet verschenen',
})

/** An instant as Dutch wall-clock time (Europe/Amsterdam), e.g. "2026-12-03 09:30". */
export const dutchDateTime = (iso: string | null): string =>
  iso ? new Intl.DateTimeFormat('sv-SE', { timeZone: 'Europe/Amsterdam', dateStyle: 'short', timeStyle: 'short' }).format(new Date(iso)) : ''

export const settlementStatusLabel = label({ running: 'Bezig', done: 'Klaar', failed: 'Vastgelopen' })
export const remittanceStatusLabel = label({ due: 'Nog over te maken', remitted: 'Overgemaakt' })
export const weekdayLabel = label({ '1': 'maandag', '2': 'dinsdag', '3': 'woensdag', '4': 'donderdag', '5': 'vrijdag', '6': 'zaterdag', '7': 'zondag' })
export const deliveryStatusLabel = label({ pending: 'Wordt bezorgd', delivered: 'Bezorgd', failed: 'Mislukt, wordt opnieuw geprobeerd', dead: 'Opgegeven' })

/** Integer cents as Dutch euros: 45000 → "€ 450,00" (no floating point). */
export const euros = (cents: number): string => {
  const sign = cents < 0 ? '−' : ''
  const abs = Math.abs(cents)
  return `${sign}€ ${Math.floor(abs / 100)},${String(abs % 100).padStart(2, '0')}`
}
export const unschedulableLabel = label({
  'no-staff-with-skill': 'geen medewerker met de vaardigheid voor dit zaaktype',
  'no-availability': 'geen beschikbaarheid van de medewerkers',
  'no-session-within-statutory-term': 'geen ceremonie met een vrije plaats binnen de wettelijke termijn',
})
