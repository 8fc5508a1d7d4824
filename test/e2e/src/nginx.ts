/**
 * nginx as a test-owned process: a config in a temp dir, `-g 'daemon off;'`, on a port picked
 * free just before. The config is the one docs/deploy.md gives for a hidden path (same
 * directives), with the test's ports and paths.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { freePort, isRoot, TempDir, waitForPort } from './ops.js';

export type Nginx = { port: number; dir: TempDir; child: ChildProcess; stop(): Promise<void>; errors(): string };

/** The `location` block docs/deploy.md documents for a hidden path in front of Safehouse. */
export function hiddenLocation(hidden: string, upstreamPort: number): string {
  return `
    # Without this, nginx itself would answer ${hidden} with a 301 to ${hidden}/: a tell.
    location = ${hidden} { return 404; }
    location ${hidden}/ {
      proxy_pass http://127.0.0.1:${upstreamPort};
      proxy_http_version 1.1;
      proxy_set_header Upgrade $http_upgrade;
      proxy_set_header Connection $connection_upgrade;
      proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
      proxy_read_timeout 1h;
      proxy_buffering off;
      # Safehouse's own 404 becomes this site's own 404 page; so does nginx's 502 while the relay is down.
      proxy_intercept_errors on;
      error_page 404 502 504 = @notfound;
      error_log /dev/null;
    }`;
}

export async function startNginx(hidden: string, upstreamPort: number, listenPort?: number): Promise<Nginx> {
  return startNginxWith(
    {
      http: "map $http_upgrade $connection_upgrade { default upgrade; '' close; }",
      server: `location @notfound { return 404; }\n${hiddenLocation(hidden, upstreamPort)}`,
    },
    listenPort,
  );
}

/**
 * nginx with the given directives: `http` inside the `http { }` block, `server` inside the one
 * `server { }` block, whose only other location answers every path with nginx's own 404.
 */
export async function startNginxWith(parts: { http: string; server: string }, listenPort?: number): Promise<Nginx> {
  const dir = new TempDir();
  for (const d of ['body', 'proxy', 'fastcgi', 'uwsgi', 'scgi']) mkdirSync(dir.at(d));
  const port = listenPort ?? (await freePort());
  const conf = `
${isRoot ? 'user root;' : ''}
worker_processes 1;
pid ${dir.at('nginx.pid')};
error_log ${dir.at('error.log')} warn;
events { worker_connections 128; }
http {
  access_log off;
  client_body_temp_path ${dir.at('body')};
  proxy_temp_path ${dir.at('proxy')};
  fastcgi_temp_path ${dir.at('fastcgi')};
  uwsgi_temp_path ${dir.at('uwsgi')};
  scgi_temp_path ${dir.at('scgi')};
  ${parts.http}
  server {
    listen 127.0.0.1:${port};
    server_tokens off;
    # The rest of the site (here: nothing) answers with its own 404.
    location / { return 404; }
    ${parts.server}
  }
}
`;
  const file = dir.file('nginx.conf', conf, 0o644);
  const child = spawn('nginx', ['-c', file, '-p', dir.path, '-g', 'daemon off;'], {
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr?.setEncoding('utf8').on('data', (c: string) => (stderr += c));
  await waitForPort(port).catch((e: Error) => {
    child.kill('SIGKILL');
    throw new Error(`${e.message}; nginx said: ${stderr}`);
  });
  return {
    port,
    dir,
    child,
    errors: () => stderr,
    stop: async () => {
      if (child.exitCode === null) {
        const done = new Promise((r) => child.once('exit', r));
        child.kill('SIGQUIT');
        await done;
      }
      dir.remove();
    },
  };
}
