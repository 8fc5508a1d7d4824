/**
 * A relay in a process of its own (for tests that SIGKILL it, as a crash would): joins the
 * cluster on the Redis at argv[2] under base path argv[3], prints `{"port":N}`, and runs until killed.
 */
import { silentLogger, startServer } from '../index.js';

const [url, basePath] = process.argv.slice(2);
const server = await startServer({ port: 0, basePath, logger: silentLogger, cluster: { url: url as string, heartbeatMs: 200 } });
process.stdout.write(JSON.stringify({ port: server.port }) + '\n');
// Never outlives the test that started it.
setTimeout(() => process.exit(0), 120_000).unref();
process.stdin.on('end', () => process.exit(0));
process.stdin.resume();
