/**
 * Dates in the reader's zone and the configured locale. Formatters cost far more to
 * build than to use, so each (locale, zone, style) is built once.
 */
const STYLES = {
  /** The digest's header: "Tuesday 1 December 2026". */
  long: { weekday: 'long', day: 'numeric', month: 'long', year: 'numeric' },
  /** "3 March 2026". */
  day: { day: 'numeric', month: 'long', year: 'numeric' },
  /** Beside a post: "1 Dec, 07:15". */
  post: { day: 'numeric', month: 'short', hour: '2-digit', minute: '2-digit' },
} satisfies Record<string, Intl.DateTimeFormatOptions>;

export type DateStyle = keyof typeof STYLES;

const formatters = new Map<string, Intl.DateTimeFormat>();

export function dateFormatter(locale: string, timeZone: string, style: DateStyle): Intl.DateTimeFormat {
  const key = `${locale}|${timeZone}|${style}`;
  let formatter = formatters.get(key);
  if (formatter === undefined) {
    formatter = new Intl.DateTimeFormat(locale, { ...STYLES[style], timeZone });
    formatters.set(key, formatter);
  }
  return formatter;
}
