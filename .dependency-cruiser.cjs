// @ts-check
// The import direction of src/ (README, Layout), checked by `npm run lint`: a folder imports
// only folders on later lines of LAYERS, never one on its own line or above; and no file
// of src/, test/ or scripts/ is part of an import cycle. Type-only imports count: a loop
// of types is a loop of ideas all the same.

/** Top to bottom. Folders on one line do not import each other. */
const LAYERS = [
  ['cli'],
  ['web'],
  ['scheduler'],
  ['jobs'],
  ['bounces'],
  ['subscribers'],
  ['mail'],
  ['render'],
  ['feeds', 'planet'],
  ['digest'],
  ['links', 'log', 'demo'],
  ['db'],
  ['config'],
  ['own'],
];

const folders = (list) => `^src/(${list.join('|')})/`;

const direction = LAYERS.flatMap((line, index) =>
  line.map((folder) => ({
    name: `layout-${folder}`,
    comment: `src/${folder}/ imports only folders below its line in LAYERS (.dependency-cruiser.cjs, README Layout)`,
    severity: 'error',
    from: { path: `^src/${folder}/` },
    to: { path: folders([...LAYERS.slice(0, index).flat(), ...line.filter((other) => other !== folder)]) },
  })),
);

/** @type {import('dependency-cruiser').IConfiguration} */
module.exports = {
  forbidden: [
    {
      name: 'no-cycle',
      comment: 'Import cycles tie modules into one: move the shared piece down, or pass a function in',
      severity: 'error',
      from: {},
      to: { circular: true },
    },
    ...direction,
    {
      name: 'layout-root',
      comment: 'src/problem.ts and src/paths.ts are below every folder',
      severity: 'error',
      from: { path: '^src/[^/]+\\.ts$' },
      to: { path: folders(LAYERS.flat()) },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    exclude: { path: '^(dist|node_modules)/' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
  },
};
