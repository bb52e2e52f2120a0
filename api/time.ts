// Municipal deadlines and validity dates are Dutch calendar dates, whatever the server's time zone.
const AMSTERDAM = new Intl.DateTimeFormat('en-CA', { timeZone: 'Europe/Amsterdam', year: 'numeric', month: '2-digit', day: '2-digit' })

let lastMinute = Number.NaN
let lastDate = ''

/** The calendar date in the Netherlands at that instant, as YYYY-MM-DD. */
export const dutchDate = (at: Date = new Date()): string => {
  // The date changes at a Dutch midnight, which is always on a whole UTC minute (offsets are whole
  // hours): the answer for one minute holds for the whole minute.
  const minute = Math.floor(at.getTime() / 60_000)
  if (minute !== lastMinute) {
    lastDate = AMSTERDAM.format(at)
    lastMinute = minute
  }
  return lastDate
}
