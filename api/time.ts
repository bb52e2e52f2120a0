// Municipal deadlines and validity dates are Dutch calendar dates, whatever the server's time zone.
const AMSTERDAM = new Intl.DateTimeFormat('en-CA', { timeZone: 'Europe/Amsterdam', year: 'numeric', month: '2-digit', day: '2-digit' })

/** The calendar date in the Netherlands at that instant, as YYYY-MM-DD. */
export const dutchDate = (at: Date = new Date()): string => AMSTERDAM.format(at)
