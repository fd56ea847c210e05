/** Rewrites the README's rules tables from the rule registry: `npm run docs:rules`. */
import { readFileSync, writeFileSync } from 'node:fs';
import { renderRulesTables } from '../shared/rules/docs';

const path = new URL('../README.md', import.meta.url);
const before = readFileSync(path, 'utf8');
const after = renderRulesTables(before);
if (after !== before) writeFileSync(path, after);
process.stdout.write(
  after === before ? 'README.md rules tables are up to date\n' : 'README.md rules tables rewritten\n',
);
