import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { basename, join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';

/**
 * docs/cloud-facts.md lists every vendor fact the code relies on, each under a `### <id>: title` heading;
 * code (or README.md) cites a fact by its id. This test keeps the two in step, and keeps comments from citing
 * research notes that live outside the repository.
 */

const ROOT = join(__dirname, '..', '..');
const FACTS_FILE = join(ROOT, 'docs', 'cloud-facts.md');
const SCANNED_DIRS = ['shared', 'functions', 'local', 'cli', 'deploy', 'bench', 'scripts', 'test'];
// README.md cites the facts its prose rests on (the price facts behind "What it costs", for one).
const SCANNED_FILES = ['s.yaml', 'README.md'];
const SCANNED_EXTENSIONS = ['.ts', '.mjs', '.cjs', '.sh', '.yaml'];
const SKIPPED_DIRS = new Set(['node_modules', 'dist', '.git']);

const HEADING = /^### (F-[A-Z0-9-]+)/gm;
const CITATION = /(?<![A-Za-z0-9_-])F-[A-Z0-9]+(?:-[A-Z0-9]+)+/g;
const OUTSIDE_REFERENCE = /\.\.\/shared\/reference|(?<![\w/.-])shared\/reference\//g;
const SECTION_OF_MD = /([A-Za-z0-9_-]+\.md)`?\s*§/g;

function walk(dir: string, out: string[]): string[] {
  if (!existsSync(dir)) return out;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    if (SKIPPED_DIRS.has(entry.name)) continue;
    const path = join(dir, entry.name);
    if (entry.isDirectory()) walk(path, out);
    else if (SCANNED_EXTENSIONS.some((ext) => entry.name.endsWith(ext))) out.push(path);
  }
  return out;
}

function scannedFiles(): string[] {
  const files = SCANNED_DIRS.flatMap((dir) => walk(join(ROOT, dir), []));
  for (const name of SCANNED_FILES) if (existsSync(join(ROOT, name))) files.push(join(ROOT, name));
  return files;
}

/** Every markdown file name in the repository, to tell a section of a local document from an outside one. */
function repositoryMarkdownNames(): Set<string> {
  const names = new Set<string>();
  const visit = (dir: string) => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      if (SKIPPED_DIRS.has(entry.name)) continue;
      const path = join(dir, entry.name);
      if (entry.isDirectory()) visit(path);
      else if (entry.name.endsWith('.md')) names.add(entry.name);
    }
  };
  visit(ROOT);
  return names;
}

const lineOf = (text: string, offset: number): number => text.slice(0, offset).split('\n').length;

function listedIds(): string[] {
  const text = readFileSync(FACTS_FILE, 'utf8');
  return [...text.matchAll(HEADING)].map((match) => match[1] as string);
}

interface Citation {
  id: string;
  where: string;
}

function citations(): Citation[] {
  const found: Citation[] = [];
  for (const file of scannedFiles()) {
    const text = readFileSync(file, 'utf8');
    for (const match of text.matchAll(CITATION)) {
      found.push({ id: match[0], where: `${relative(ROOT, file)}:${lineOf(text, match.index ?? 0)}` });
    }
  }
  return found;
}

describe('docs/cloud-facts.md and the code that cites it', () => {
  it('lists each fact id once, under a level-3 heading', () => {
    const ids = listedIds();
    expect(ids.length).toBeGreaterThan(0);
    const repeated = ids.filter((id, i) => ids.indexOf(id) !== i);
    expect(repeated).toEqual([]);
  });

  it('gives every fact a source line', () => {
    const text = readFileSync(FACTS_FILE, 'utf8');
    const sections = text.split(/^### /m).slice(1);
    const withoutSource = sections
      .filter((section) => /^F-/.test(section) && !/^Source:/m.test(section))
      .map((section) => section.split(':')[0]);
    expect(withoutSource).toEqual([]);
  });

  it('lists every fact id the code cites', () => {
    const listed = new Set(listedIds());
    const unlisted = citations()
      .filter((citation) => !listed.has(citation.id))
      .map((citation) => `${citation.id} (${citation.where})`);
    expect(unlisted).toEqual([]);
  });

  it('lists no fact that nothing cites', () => {
    const cited = new Set(citations().map((citation) => citation.id));
    // A fact may cite another inside the document; that does not count as use by the code.
    const uncited = listedIds().filter((id) => !cited.has(id));
    expect(uncited).toEqual([]);
  });

  it('has no comment that cites research notes outside the repository', () => {
    const markdown = repositoryMarkdownNames();
    const outside: string[] = [];
    for (const file of scannedFiles()) {
      if (basename(file) === basename(__filename)) continue;
      const text = readFileSync(file, 'utf8');
      const where = (offset: number) => `${relative(ROOT, file)}:${lineOf(text, offset)}`;
      for (const match of text.matchAll(OUTSIDE_REFERENCE))
        outside.push(`${where(match.index ?? 0)} ${match[0]}`);
      for (const match of text.matchAll(SECTION_OF_MD)) {
        const name = match[1] as string;
        if (!markdown.has(name)) outside.push(`${where(match.index ?? 0)} ${match[0]}`);
      }
    }
    expect(outside).toEqual([]);
  });
});
