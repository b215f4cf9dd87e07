import fs from 'node:fs';

export interface StaticAsset {
  contentType: string;
  body: Buffer;
}

// Only these files are served under /assets/: a fixed list, so no request path ever
// reaches the file system. They come from the installed uplot package, never a CDN.
const FILES = new Map<string, { module: string; contentType: string }>([
  ['uPlot.iife.min.js', { module: 'uplot/dist/uPlot.iife.min.js', contentType: 'application/javascript; charset=utf-8' }],
  ['uPlot.min.css', { module: 'uplot/dist/uPlot.min.css', contentType: 'text/css; charset=utf-8' }],
]);

const cache = new Map<string, StaticAsset>();

/** The asset served at /assets/<name>, or undefined for any other name. */
export function statusAsset(name: string): StaticAsset | undefined {
  const file = FILES.get(name);
  if (!file) return undefined;
  let asset = cache.get(name);
  if (!asset) {
    asset = { contentType: file.contentType, body: fs.readFileSync(require.resolve(file.module)) };
    cache.set(name, asset);
  }
  return asset;
}
