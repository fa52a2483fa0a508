import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

/**
 * How far a reader walks from a command to the SQL it runs, measured on
 * dependency-cruiser's graph of src/ (the one `npm run lint` checks).
 *
 * From the command file, breadth first, every import (type-only ones too: a
 * reader follows them as well) until a SQL builder is reached; a builder is
 * not walked through. For each builder reached, its shortest path; the figure
 * is the number of distinct non-builder files on those paths, the command file
 * included. `hops` is the longest of those shortest paths, in imports.
 */

/** A statement builder: a `*-sql.ts` anywhere in src/, or a planner in src/sql/. */
export function isSqlBuilder(path: string): boolean {
  return path.endsWith('-sql.ts') || path.startsWith('src/sql/');
}

export interface ImportGraph {
  /** file → the src/ files it imports, in dependency-cruiser's order */
  readonly [file: string]: readonly string[];
}

export interface SqlPath {
  /** the non-builder files a reader crosses, the command file first */
  files: string[];
  /** the builders reached */
  builders: string[];
  /** the longest shortest path to a builder, in imports */
  hops: number;
}

export function sqlPathOf(graph: ImportGraph, command: string): SqlPath {
  const previous = new Map<string, string | null>([[command, null]]);
  const depth = new Map<string, number>([[command, 0]]);
  const queue = [command];
  const builders: string[] = [];
  for (let index = 0; index < queue.length; index += 1) {
    const file = queue[index] as string;
    if (file !== command && isSqlBuilder(file)) {
      builders.push(file);
      continue;
    }
    for (const next of graph[file] ?? []) {
      if (previous.has(next)) continue;
      previous.set(next, file);
      depth.set(next, (depth.get(file) ?? 0) + 1);
      queue.push(next);
    }
  }
  const crossed = new Set<string>();
  for (const builder of builders) {
    for (let file = previous.get(builder) ?? null; file !== null; file = previous.get(file) ?? null) crossed.add(file);
  }
  const files = queue.filter((file) => crossed.has(file));
  const hops = Math.max(0, ...builders.map((builder) => depth.get(builder) ?? 0));
  return { files, builders: builders.sort(), hops };
}

interface CruiseOutput {
  modules: { source: string; dependencies: { resolved: string }[] }[];
}

/** src/'s import graph, from dependency-cruiser with the lint's own config. */
export function importGraphOfSrc(): ImportGraph {
  const root = fileURLToPath(new URL('../..', import.meta.url));
  const bin = fileURLToPath(new URL('../../node_modules/dependency-cruiser/bin/dependency-cruise.mjs', import.meta.url));
  const json = execFileSync(process.execPath, [bin, 'src', '--config', '.dependency-cruiser.cjs', '--output-type', 'json'], {
    cwd: root,
    encoding: 'utf8',
    maxBuffer: 64 * 1024 * 1024,
  });
  const output = JSON.parse(json) as CruiseOutput;
  const graph: Record<string, string[]> = {};
  for (const module of output.modules) {
    graph[module.source] = module.dependencies.map((dependency) => dependency.resolved).filter((resolved) => resolved.startsWith('src/'));
  }
  return graph;
}
