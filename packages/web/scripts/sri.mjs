// Pins every script and style sheet of dist/index.html by Subresource Integrity (sha384 of the
// file as built), and refuses a build that would need what the Content-Security-Policy forbids:
// an inline script or style, or a resource from another origin. Run after `vite build`.
import { createHash } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const dist = process.argv[2] ?? 'dist';
const file = join(dist, 'index.html');
let html = readFileSync(file, 'utf8');

if (/<script(?![^>]*\bsrc=)[^>]*>/i.test(html)) throw new Error('index.html has an inline script: the CSP forbids it');
if (/<style[\s>]|\sstyle=/i.test(html)) throw new Error('index.html has an inline style: the CSP forbids it');

let pinned = 0;
html = html.replace(/<(script|link)\b([^>]*?)\s(src|href)="([^"]+)"([^>]*)>/g, (tag, name, before, attr, url, after) => {
  if (/^(https?:)?\/\//.test(url)) throw new Error(`index.html loads ${url} from another origin`);
  if (/\bintegrity=/.test(tag)) return tag;
  const body = readFileSync(join(dist, url.replace(/^\.\//, '')));
  const integrity = `sha384-${createHash('sha384').update(body).digest('base64')}`;
  pinned++;
  return `<${name}${before} ${attr}="${url}" integrity="${integrity}"${after}>`;
});
if (pinned === 0) throw new Error('index.html references no script: nothing to pin');
writeFileSync(file, html);
const sha256 = createHash('sha256').update(html).digest('hex');
console.log(`sri: pinned ${pinned} file(s); index.html sha256 ${sha256}`);
