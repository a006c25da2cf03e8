import { dateFormatter, type DateStyle } from './dates.js';

/**
 * Editions are split by their readers' time zone, but the zone changes only the
 * dates. So a digest is compiled once with a token for each date and for its web
 * address (which names the edition), and each edition's copy is made by putting
 * its zone's dates and its address in: one MJML compile per distinct content,
 * not per zone.
 *
 * Tokens are longer than any date they stand for, so text wrapped around a token
 * only gets shorter when the date goes in, and a size measured with tokens is an
 * upper bound.
 */
const DATE_TOKEN_LENGTH = 44;

export class Localizer {
  private readonly dates: Array<{ date: Date; style: DateStyle }> = [];
  readonly onlineToken: string;

  constructor(private readonly nonce: string) {
    // As long as a long real address, so that sizes measured with it stay an upper bound.
    this.onlineToken = `https://fd-online-${nonce}.invalid/`.padEnd(160, 'x');
  }

  date(date: Date, style: DateStyle): string {
    this.dates.push({ date, style });
    return `FD-DATE-${this.nonce}-${this.dates.length - 1}-`.padEnd(DATE_TOKEN_LENGTH, 'x');
  }

  /** The body with this edition's dates (in `timeZone` and `locale`) and web address. */
  localize(body: string, locale: string, timeZone: string, onlineUrl: string): string {
    return body
      .replace(new RegExp(`FD-DATE-${this.nonce}-(\\d+)-x*`, 'g'), (_all, index: string) => {
        const { date, style } = this.dates[Number(index)]!;
        return dateFormatter(locale, timeZone, style).format(date);
      })
      .replaceAll(this.onlineToken, onlineUrl);
  }
}
