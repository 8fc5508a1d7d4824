/**
 * A relay in a process of its own for the cluster attack tests (cluster-attacks.test.ts): like
 * relay-proc.ts, with the heartbeat period as argv[4] (production: 1,000 ms), and its pid in the
 * line it prints, so a test can read its memory from /proc.
 */
import { silentLogger, startServer } from '../index.js';

const [url, basePath, heartbeat] = process.argv.slice(2);
const server = await startServer({ port: 0, basePath, logger: silentLogger, cluster: { url: url as string, heartbeatMs: Number(heartbeat ?? 1_000) } });
process.stdout.write(JSON.stringify({ port: server.port, pid: process.pid }) + '\n');
setTimeout(() => process.exit(0), 120_000).unref();
process.stdin.on('end', () => process.exit(0));
process.stdin.resume();
