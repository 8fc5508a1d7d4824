/** What to do when this page cannot make keys here (secure.ts): HTTPS, or an SSH tunnel. */
import { loopbackLink, tunnelCommand, type CryptoCheck } from '../secure.js';

export function Unsupported({ check, link }: { check: Exclude<CryptoCheck, { ok: true }>; link: string }) {
  const local = loopbackLink(link, check.port);
  if (check.reason === 'no-ed25519')
    return (
      <main class="join">
        <h1>Safehouse</h1>
        <p class="error" role="alert">
          This browser cannot make the keys Safehouse uses (Ed25519 in WebCrypto).
        </p>
        <p>Open the link in a current Firefox, Chrome, Edge or Safari, or use the terminal client: safehouse join LINK.</p>
      </main>
    );
  return (
    <main class="join">
      <h1>Safehouse</h1>
      <p class="error" role="alert">
        This page was opened over plain HTTP on a network address, so the browser withholds the cryptography it needs: your keys would have to be
        made elsewhere, and Safehouse will not do that.
      </p>
      <h2>What to do</h2>
      <ul>
        <li>Ask the operator for an https:// link (a certificate, or a reverse proxy with TLS), or</li>
        <li>
          reach the server through an SSH tunnel, so that it is on your own machine:
          <pre class="command">{tunnelCommand(check.host, check.port)}</pre>
          and, while it runs, open the same link on your own machine (browsers treat 127.0.0.1 as secure):
          {local !== undefined && <pre class="command">{local}</pre>}
        </li>
        <li>Or use the terminal client: safehouse join LINK.</li>
      </ul>
    </main>
  );
}
