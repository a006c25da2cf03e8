import type mjml2htmlFunction from 'mjml';

type Mjml2Html = typeof mjml2htmlFunction;

// mjml takes about a second to load: only commands that render pay for it.
let mjml: Promise<Mjml2Html> | undefined;
function loadMjml(): Promise<Mjml2Html> {
  mjml ??= import('mjml').then((module) => module.default);
  return mjml;
}

export class MjmlError extends Error {}

let compiles = 0;

/** How many MJML compiles this process has run: the benchmark checks it equals the editions. */
export function mjmlCompileCount(): number {
  return compiles;
}

/**
 * mjml 5 is async. `fonts: {}` stops it from linking Google Fonts; minifying CSS
 * would warn about a missing cssnano on every compile on Node 20.
 */
export async function compileMjml(source: string): Promise<string> {
  compiles += 1;
  const mjml2html = await loadMjml();
  const result = await mjml2html(source, {
    validationLevel: 'strict',
    fonts: {},
    minify: true,
    minifyOptions: { minifyCss: false },
  });
  if (result.errors.length > 0) {
    throw new MjmlError(`MJML template error: ${result.errors.map((e) => e.formattedMessage).join('; ')}`);
  }
  return restylePreheader(result.html);
}

/**
 * MJML hides the preheader with 1px white text, which SpamAssassin scores as
 * HTML_FONT_LOW_CONTRAST; display:none keeps it out of sight and out of the score.
 */
function restylePreheader(html: string): string {
  return html.replace(
    /<div style="display:none;font-size:1px;color:#ffffff;line-height:1px;max-height:0px;max-width:0px;opacity:0;overflow:hidden;">/,
    '<div style="display:none;max-height:0;overflow:hidden;mso-hide:all;">',
  );
}
