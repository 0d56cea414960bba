// Builds the three pages of civgrid's front end into web/dist (served by `civgrid serve`):
// index.html (the command-centre console), report.html (residents, public) and field.html (the
// grid workers' installable app). The service worker (sw.js) is generated here with the exact
// list of built files, so the field app opens without signal once it has been loaded once.
import { defineConfig } from 'vite';
import preact from '@preact/preset-vite';
import { resolve } from 'node:path';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';

function serviceWorker() {
  return {
    name: 'civgrid-sw',
    apply: 'build',
    generateBundle(_opts, bundle) {
      const files = Object.keys(bundle).filter((f) => !f.endsWith('.map'));
      const shell = ['/field.html', '/report.html', '/manifest.webmanifest', '/icon.svg'];
      const list = [...new Set([...shell, ...files.map((f) => '/' + f)])].sort();
      const version = createHash('sha256').update(JSON.stringify(list)).digest('hex').slice(0, 12);
      const template = readFileSync(resolve(__dirname, 'src/sw.template.js'), 'utf8');
      const source = template
        .replace('__CG_VERSION__', JSON.stringify(version))
        .replace('__CG_PRECACHE__', JSON.stringify(list));
      this.emitFile({ type: 'asset', fileName: 'sw.js', source });
    },
  };
}

export default defineConfig({
  plugins: [preact(), serviceWorker()],
  base: '/',
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    chunkSizeWarningLimit: 1500,
    rollupOptions: {
      input: {
        console: resolve(__dirname, 'index.html'),
        report: resolve(__dirname, 'report.html'),
        field: resolve(__dirname, 'field.html'),
      },
    },
  },
  test: {
    include: ['src/**/*.test.js'],
    environment: 'node',
  },
});
