import preact from '@preact/preset-vite';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { defineConfig, type Plugin } from 'vite';

/**
 * CodeMirror styles itself through style-mod, which puts its rules in a `<style>` element when the root is
 * a document: `style-src 'self'` blocks that. A constructed stylesheet (document.adoptedStyleSheets) is not
 * subject to the Content-Security-Policy, and style-mod already uses one for shadow roots; make it use one
 * for the document too. Fails the build if style-mod's code changed shape.
 */
function styleModAdoptedSheets(): Plugin {
  const from = '!root.head && root.adoptedStyleSheets && win.CSSStyleSheet';
  return {
    name: 'hookrun:style-mod-adopted-sheets',
    enforce: 'pre',
    transform(code, id) {
      if (!/[\\/]style-mod[\\/]src[\\/]style-mod\.js$/.test(id)) return null;
      if (!code.includes(from)) throw new Error(`style-mod changed: "${from}" not found in ${id}`);
      return { code: code.replace(from, 'root.adoptedStyleSheets && win.CSSStyleSheet'), map: null };
    },
  };
}

/** A `.gz` beside each script and stylesheet, compressed once at build time: the server sends it as is. */
function precompressAssets(): Plugin {
  return {
    name: 'hookrun:precompress-assets',
    apply: 'build',
    writeBundle(options, bundle) {
      for (const file of Object.keys(bundle)) {
        if (!/\.(?:js|css)$/.test(file)) continue;
        const path = join(options.dir!, file);
        const item = bundle[file];
        const source = item.type === 'chunk' ? item.code : item.source;
        writeFileSync(`${path}.gz`, gzipSync(source, { level: 9 }));
      }
    },
  };
}

export default defineConfig({
  root: fileURLToPath(new URL('.', import.meta.url)),
  base: '/console/',
  plugins: [styleModAdoptedSheets(), preact(), precompressAssets()],
  // `npm run dev:console` against an API started with `npm start`.
  server: { proxy: { '/v1': 'http://127.0.0.1:3000' } },
  // The dev server pre-bundles dependencies with esbuild, which skips the plugin above.
  optimizeDeps: { exclude: ['style-mod'] },
  build: {
    outDir: fileURLToPath(new URL('../dist/console', import.meta.url)),
    emptyOutDir: true,
    // The polyfill would be the page's only inline script, which the Content-Security-Policy forbids.
    modulePreload: { polyfill: false },
    assetsInlineLimit: 0,
  },
});
