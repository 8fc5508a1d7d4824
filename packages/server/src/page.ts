/**
 * The answers at the base path itself, for someone who knows it: a small page that says how to
 * use the link when the web client is not built (web.ts serves it when it is), and a redirect from `<base>` to `<base>/`. Strict
 * headers: nothing may load, nothing may frame the page, nothing is cached or leaks a referrer.
 */
import type { ServerResponse } from 'node:http';

const PAGE = Buffer.from(
  `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer">
<title>Safehouse</title>
</head>
<body>
<h1>Safehouse</h1>
<p>This is a private, end-to-end-encrypted chat. Open this link with</p>
<pre>safehouse join &lt;link&gt;</pre>
<p>using the whole link you were given, including everything after the <code>#</code>.
This server was started without its web client (build it with <code>npm run build</code>).</p>
</body>
</html>
`,
  'utf8',
);

const STRICT_HEADERS: readonly [string, string][] = [
  ['Content-Security-Policy', "default-src 'none'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"],
  ['Referrer-Policy', 'no-referrer'],
  ['Cache-Control', 'no-store'],
  ['X-Content-Type-Options', 'nosniff'],
  ['X-Frame-Options', 'DENY'],
  ['Cross-Origin-Opener-Policy', 'same-origin'],
  ['Cross-Origin-Resource-Policy', 'same-origin'],
];

export function sendPage(res: ServerResponse): void {
  res.writeHead(200, [
    ...STRICT_HEADERS,
    ['Content-Type', 'text/html; charset=utf-8'],
    ['Content-Length', String(PAGE.length)],
  ].flat());
  res.end(PAGE);
}

/** `<base>` → `<base>/`. Only someone who already knows the base path can ask for it. */
export function sendRedirect(res: ServerResponse, basePath: string): void {
  res.writeHead(308, [...STRICT_HEADERS, ['Location', `${basePath}/`], ['Content-Length', '0']].flat());
  res.end();
}
