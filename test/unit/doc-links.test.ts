import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));

function markdownUnder(folder: string): string[] {
  return readdirSync(folder).flatMap((name) => {
    const path = join(folder, name);
    return statSync(path).isDirectory() ? markdownUnder(path) : name.endsWith('.md') ? [path] : [];
  });
}

const DOCS = [join(ROOT, 'README.md'), join(ROOT, 'CONTRIBUTING.md'), join(ROOT, 'bench/README.md'), ...markdownUnder(join(ROOT, 'docs'))];

/** GitHub's heading anchors: lower case, punctuation dropped, spaces to dashes. */
function anchorsOf(markdown: string): Set<string> {
  const anchors = new Set<string>();
  let fenced = false;
  for (const line of markdown.split('\n')) {
    if (line.startsWith('```')) fenced = !fenced;
    const heading = !fenced && /^#{1,6} (.*)$/.exec(line);
    if (!heading) continue;
    const text = heading[1] ?? '';
    anchors.add(
      text
        .toLowerCase()
        .replace(/[^\p{L}\p{N}\s_-]/gu, '')
        .replace(/\s/g, '-'),
    );
  }
  return anchors;
}

/** Every `[text](target)` outside code, with its line. */
function linksOf(markdown: string): { target: string; line: number }[] {
  const links: { target: string; line: number }[] = [];
  let fenced = false;
  markdown.split('\n').forEach((line, index) => {
    if (line.startsWith('```')) fenced = !fenced;
    if (fenced) return;
    for (const match of line.replace(/`[^`]*`/g, '').matchAll(/\]\(([^)\s]+)\)/g)) links.push({ target: match[1] ?? '', line: index + 1 });
  });
  return links;
}

describe('documentation links', () => {
  it('covers the README, CONTRIBUTING.md, bench/README.md and every page under docs/', () => {
    expect(DOCS.length).toBeGreaterThan(20);
  });

  it.each(DOCS.map((path) => [relative(ROOT, path), path]))('%s: every relative link resolves inside the repository', (_name, path) => {
    const markdown = readFileSync(path, 'utf8');
    const broken: string[] = [];
    for (const { target, line } of linksOf(markdown)) {
      if (/^[a-z]+:/i.test(target)) continue; // https:, mailto:
      const [file = '', anchor] = target.split('#');
      const destination = file === '' ? path : resolve(dirname(path), file);
      if (!destination.startsWith(ROOT)) broken.push(`${line}: ${target} points outside the repository`);
      else if (!existsSync(destination)) broken.push(`${line}: ${target} does not exist`);
      else if (anchor && destination.endsWith('.md') && !anchorsOf(readFileSync(destination, 'utf8')).has(anchor))
        broken.push(`${line}: ${target} has no such heading`);
    }
    expect(broken).toEqual([]);
  });
});
