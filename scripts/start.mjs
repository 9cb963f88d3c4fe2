#!/usr/bin/env node
// `npm start`: builds dist/ first when it is missing or older than the sources, then runs hookrun in
// this same process (so that signals reach it directly). Arguments pass through: `npm start -- worker`.
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const main = join(root, 'dist', 'main.js');
const consoleIndex = join(root, 'dist', 'console', 'index.html');

function newestSource(path) {
  const stat = statSync(path);
  if (!stat.isDirectory()) return stat.mtimeMs;
  return Math.max(0, ...readdirSync(path).map((name) => newestSource(join(path, name))));
}

const inputs = ['src', 'web', 'package.json', 'package-lock.json', 'tsconfig.json', 'tsconfig.build.json', 'nest-cli.json'];
const stale =
  !existsSync(main) ||
  !existsSync(consoleIndex) ||
  statSync(main).mtimeMs < Math.max(...inputs.map((p) => join(root, p)).filter(existsSync).map(newestSource));
if (stale) {
  console.log('Building hookrun (dist/ is missing or older than its sources)...');
  const nest = join(root, 'node_modules', '@nestjs', 'cli', 'bin', 'nest.js');
  if (!existsSync(nest)) {
    console.error('Cannot build: the Nest CLI is not installed. Run "npm ci" (with dev dependencies) first.');
    process.exit(1);
  }
  const vite = join(root, 'node_modules', 'vite', 'bin', 'vite.js');
  // The same two steps as `npm run build`: the API, then the console into dist/console.
  for (const args of [[nest, 'build'], [vite, 'build', '--config', 'web/vite.config.ts', '--logLevel', 'warn']]) {
    const build = spawnSync(process.execPath, args, { cwd: root, stdio: 'inherit' });
    if (build.status !== 0) process.exit(build.status ?? 1);
  }
}
await import(pathToFileURL(main).href);
