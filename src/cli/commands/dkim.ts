import type { Command } from 'commander';
import { loadConfig } from '../../config/config.js';
import { dkimDnsRecord } from '../../own/dkim.js';
import { CliProblem } from '../output.js';

/** DNS TXT strings hold at most 255 characters; longer records are split into several. */
const TXT_STRING = 255;

export function registerDkimCommand(program: Command): void {
  program
    .command('dkim-record')
    .description('print the DNS TXT record to publish for DKIM_SELECTOR and DKIM_DOMAIN')
    .action(() => {
      const { dkim } = loadConfig();
      if (dkim === undefined) throw new CliProblem('DKIM is off: set DKIM_DOMAIN, DKIM_SELECTOR and DKIM_PRIVATE_KEY_FILE first');
      const record = dkimDnsRecord(dkim.privateKey);
      const strings = record.match(new RegExp(`.{1,${TXT_STRING}}`, 'g'))!.map((part) => `"${part}"`);
      console.log(`${dkim.selector}._domainkey.${dkim.domain}. IN TXT ${strings.join(' ')}`);
    });
}
