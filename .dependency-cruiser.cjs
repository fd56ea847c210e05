// The layers of issue #23, checked by `npm run lint:deps` in CI (.ci/run). tsPreCompilationDeps makes type-only
// imports count: a layer that needs another's types depends on it as much as one that calls it.
/** @type {import('dependency-cruiser').IConfiguration} */
module.exports = {
  forbidden: [
    {
      name: 'no-cycles',
      comment: 'No import cycles anywhere, type-only ones included.',
      severity: 'error',
      from: {},
      to: { circular: true },
    },
    {
      name: 'shared-is-the-product',
      comment: 'shared/ is what the function bundles are built from: it imports no tooling.',
      severity: 'error',
      from: { path: '^shared/' },
      to: { path: '^(cli|local|deploy|bench|functions|scripts|test)/' },
    },
    {
      name: 'functions-import-only-shared',
      comment: 'A function is a thin entry point over shared/; anything else would be bundled into it.',
      severity: 'error',
      from: { path: '^functions/([^/]+)/' },
      to: { pathNot: ['^shared/', '^node_modules/', '^functions/$1/'], dependencyTypesNot: ['core'] },
    },
    {
      name: 'deploy-does-not-import-local',
      comment:
        'deploy/ talks to the real cloud; what it shares with the emulator lives in shared/ or is data.',
      severity: 'error',
      from: { path: '^deploy/' },
      to: { path: '^local/' },
    },
    {
      name: 'local-does-not-import-deploy-code',
      comment:
        'The local cloud reads the role and trust policies as data (deploy/*.json), never deploy/ code.',
      severity: 'error',
      from: { path: '^local/' },
      to: { path: '^deploy/', pathNot: '\\.json$' },
    },
    {
      name: 'commands-do-not-import-commands',
      comment: 'What two commands share lives in a cli/ module that is not a command.',
      severity: 'error',
      from: { path: '^cli/commands/([^/]+)\\.ts$', pathNot: '^cli/commands/index\\.ts$' },
      to: { path: '^cli/commands/', pathNot: '^cli/commands/$1$' },
    },
    {
      name: 'not-to-unresolvable',
      comment: 'An import that does not resolve would be a runtime failure.',
      severity: 'error',
      from: {},
      to: { couldNotResolve: true },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    exclude: { path: '^(node_modules|dist)/' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: {
      exportsFields: ['exports'],
      conditionNames: ['import', 'require', 'node', 'default', 'types'],
      mainFields: ['module', 'main', 'types', 'typings'],
    },
    reporterOptions: { text: { highlightFocused: true } },
  },
};
