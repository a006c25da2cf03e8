import { Eta } from 'eta';
import { templatesDir } from '../paths.js';

/**
 * Two engines over templates/: markup escapes every value by default; plain text
 * must not (an "&" in a title is an "&" in the text part). Both cache compiled templates.
 */
export const markupTemplates = new Eta({ views: templatesDir, autoEscape: true, cache: true });
export const textTemplates = new Eta({ views: templatesDir, autoEscape: false, cache: true });
