import { readFileSync } from 'node:fs';
import { join } from 'node:path';

import { describe, expect, it } from '@jest/globals';

/**
 * hookrun is benchmarked under package.json's `hookrun.nodeFlags` (bench/lib/processes.mjs); every way
 * of starting it must pass the same flags, or users would run something other than what was measured.
 */
const root = join(import.meta.dirname, '..');
const read = (file: string): string => readFileSync(join(root, file), 'utf8');
const pkg = JSON.parse(read('package.json')) as { scripts: Record<string, string>; hookrun: { nodeFlags: string[] } };
const flags = pkg.hookrun.nodeFlags;

/** The arguments between `node` and the script in each JSON-array command naming dist/main.js. */
function nodeArgsOfExecForms(text: string): string[][] {
  return [...text.matchAll(/\[\s*"node"((?:\s*,\s*"[^"]*")*)\s*\]/g)]
    .map((match) => [...match[1].matchAll(/"([^"]*)"/g)].map((arg) => arg[1]))
    .filter((args) => args.includes('dist/main.js'))
    .map((args) => args.slice(0, args.indexOf('dist/main.js')));
}

describe('Node.js flags hookrun runs under', () => {
  it('are set in package.json', () => {
    expect(flags.length).toBeGreaterThan(0);
    for (const flag of flags) expect(flag).toMatch(/^--[a-z-]+(=\S+)?$/);
  });

  it('are passed by npm start', () => {
    expect(pkg.scripts.start).toBe(`node ${flags.join(' ')} scripts/start.mjs`);
  });

  it("are passed by the Dockerfile's command", () => {
    const commands = nodeArgsOfExecForms(read('Dockerfile'));
    expect(commands).toEqual([flags]);
  });

  it('are passed by both services of docker-compose.yml that run hookrun', () => {
    const commands = nodeArgsOfExecForms(read('docker-compose.yml'));
    expect(commands).toEqual([flags, flags]);
  });
});
