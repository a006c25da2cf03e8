/**
 * Feed dates as a forgiving reader takes them: RFC 822 and its sloppy variants, ISO 8601
 * with or without a zone, and odd forms like `2023-06-29 00:30:00 UTC`. Undefined when
 * nothing sensible can be read.
 */

const ZONES: Record<string, string> = {
  UT: '+0000',
  UTC: '+0000',
  GMT: '+0000',
  Z: '+0000',
  EST: '-0500',
  EDT: '-0400',
  CST: '-0600',
  CDT: '-0500',
  MST: '-0700',
  MDT: '-0600',
  PST: '-0800',
  PDT: '-0700',
  CET: '+0100',
  CEST: '+0200',
  MET: '+0100',
  MEST: '+0200',
  BST: '+0100',
  EET: '+0200',
  EEST: '+0300',
  JST: '+0900',
  KST: '+0900',
  IST: '+0530',
  AEST: '+1000',
  AEDT: '+1100',
  NZST: '+1200',
  NZDT: '+1300',
};

const MONTHS = ['jan', 'feb', 'mar', 'apr', 'may', 'jun', 'jul', 'aug', 'sep', 'oct', 'nov', 'dec'];

function offsetMinutes(zone: string | undefined): number | undefined {
  if (zone === undefined || zone === '') return 0; // no zone: UTC, as feedparser reads it
  const named = ZONES[zone.toUpperCase()];
  const numeric = (named ?? zone).match(/^([+-])(\d{1,2}):?(\d{2})?$/);
  if (!numeric) return undefined;
  const minutes = Number(numeric[2]) * 60 + Number(numeric[3] ?? 0);
  return numeric[1] === '-' ? -minutes : minutes;
}

function utc(year: number, month: number, day: number, h: number, m: number, s: number, zone: string | undefined): Date | undefined {
  const offset = offsetMinutes(zone);
  if (offset === undefined || month < 0 || month > 11 || day < 1 || day > 31 || h > 24 || m > 59 || s > 60) return undefined;
  const fullYear = year < 100 ? (year < 50 ? 2000 + year : 1900 + year) : year;
  const date = new Date(Date.UTC(fullYear, month, day, h, m, s) - offset * 60_000);
  return Number.isNaN(date.getTime()) ? undefined : date;
}

// 2003-12-31T10:14:55.123-08:00, 2003-12-31 10:14:55 UTC, 20031231T101455Z, 2003-12-31
const ISO = /^(\d{4})-?(\d{2})-?(\d{2})(?:[T\s]+(\d{1,2}):?(\d{2})(?::?(\d{2})(?:[.,]\d+)?)?)?\s*([A-Za-z]{1,5}|[+-]\d{1,2}(?::?\d{2})?)?$/;
// [Wed,] 02 Oct 2002 [13:00[:00]] [GMT|+0200|EST]
const RFC822 =
  /^(?:[A-Za-z]+,?\s*)?(\d{1,2})[\s-]+([A-Za-z]{3})[A-Za-z]*\.?[\s-]+(\d{2,4})(?:[\sT]+(\d{1,2}):(\d{2})(?::(\d{2}))?)?\s*([A-Za-z]{1,5}|[+-]\d{1,2}:?\d{2})?$/;

export function parseFeedDate(raw: string | undefined): Date | undefined {
  const text = raw?.trim().replace(/\s+/g, ' ');
  if (!text) return undefined;
  const iso = text.match(ISO);
  if (iso) {
    const [, y, mo, d, h, mi, s, zone] = iso;
    return utc(Number(y), Number(mo) - 1, Number(d), Number(h ?? 0), Number(mi ?? 0), Number(s ?? 0), zone);
  }
  const rfc = text.match(RFC822);
  if (rfc) {
    const [, d, mon, y, h, mi, s, zone] = rfc;
    const month = MONTHS.indexOf(mon!.toLowerCase());
    if (month >= 0) return utc(Number(y), month, Number(d), Number(h ?? 0), Number(mi ?? 0), Number(s ?? 0), zone);
  }
  // Last resort for forms such as "Sun Jan 4 16:29:06 PST 2004": V8's own date reader.
  const fallback = new Date(text);
  return Number.isNaN(fallback.getTime()) ? undefined : fallback;
}
