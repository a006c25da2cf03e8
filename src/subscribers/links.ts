// scripts/bench still imports LinkConfig from here (another branch's area): the integrator can point it at src/links/urls.ts and drop this file.
export type { LinkConfig } from '../links/urls.js';
