import { existsSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { Eta } from 'eta';
import { templatesDir } from '../paths.js';

/**
 * Template files: the built-in ones under templates/, each of which the operator may
 * replace with a file of the same path under TEMPLATES_DIR (e.g. email/digest.mjml.eta,
 * web/edition.eta). A template included by another (layout, partials) is looked up
 * the same way, whichever folder its parent came from.
 */
let overrideRoot: string | undefined;
let generation = 0;

export function setTemplatesOverride(dir: string | undefined): void {
  overrideRoot = dir;
  generation += 1;
  for (const engine of engines) engine.templatesSync.reset();
}

/** Changes whenever the templates in use may have: part of the key of anything rendered with them. */
export function templatesGeneration(): number {
  return generation;
}

/** The file for `template` (relative to `views`, a folder of templates/), or relative to the including file. */
function templateFile(views: string, template: string, parent: string | undefined): string {
  const name = path.extname(template) ? template : `${template}.eta`;
  const roots = [overrideRoot, templatesDir].filter((root): root is string => root !== undefined);
  const parentRoot = parent === undefined ? undefined : roots.find((root) => !path.relative(root, parent).startsWith('..'));
  const relative =
    parent === undefined || parentRoot === undefined
      ? path.join(path.relative(templatesDir, views), name)
      : path.relative(parentRoot, path.join(path.dirname(parent), name));
  if (relative.startsWith('..') || path.isAbsolute(relative)) throw new Error(`template ${template} is outside the templates folder`);
  const override = overrideRoot === undefined ? undefined : path.join(overrideRoot, relative);
  return override !== undefined && existsSync(override) ? override : path.join(templatesDir, relative);
}

const engines: Eta[] = [];

/** An Eta engine over a folder of templates/ that honours TEMPLATES_DIR. */
export function templateEngine(views: string, options: { autoEscape: boolean }): Eta {
  const engine = new Eta({ views, autoEscape: options.autoEscape, cache: true });
  engine.resolvePath = (template, resolveOptions) => templateFile(views, template, resolveOptions?.filepath);
  engines.push(engine);
  return engine;
}

/**
 * Markup escapes every value by default; plain text must not (an "&" in a title is
 * an "&" in the text part). Both cache compiled templates.
 */
export const markupTemplates = templateEngine(templatesDir, { autoEscape: true });
export const textTemplates = templateEngine(templatesDir, { autoEscape: false });

export class TemplateError extends Error {}

function filesUnder(root: string, dir = ''): string[] {
  const folder = path.join(root, dir);
  if (!existsSync(folder)) return [];
  return readdirSync(folder, { withFileTypes: true }).flatMap((entry) =>
    entry.isDirectory() ? filesUnder(root, path.join(dir, entry.name)) : entry.name.endsWith('.eta') ? [path.join(dir, entry.name)] : [],
  );
}

/**
 * Compiles every template that will be used, the operator's first: a mistake is a
 * clear error when the program starts, not a crash in the middle of a send.
 */
export function compileAllTemplates(): void {
  const names = new Set([...filesUnder(templatesDir), ...(overrideRoot ? filesUnder(overrideRoot) : [])]);
  for (const name of names) {
    const file = templateFile(templatesDir, name, undefined);
    const engine = name.endsWith('.txt.eta') ? textTemplates : markupTemplates;
    try {
      engine.compile(engine.readFile(file), { filepath: file });
    } catch (error) {
      throw new TemplateError(
        `template ${file} does not compile: ${error instanceof Error ? error.message.split('\n')[0] : String(error)}`,
      );
    }
  }
}
