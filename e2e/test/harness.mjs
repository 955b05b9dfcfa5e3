// Starts the server under test and talks to its health/debug endpoints.
//
// HYPERSTACK_E2E_SERVER_CMD is the shell command that starts the server, run from the repository
// root. The placeholders {wsport} and {healthport} are replaced with free ports. The default runs
// the synthetic test server (e2e/testserver); the real demo takes its place with
//   HYPERSTACK_E2E_SERVER_CMD='go run ./cmd/hyperstack serve --listen 127.0.0.1:{wsport} --health-listen 127.0.0.1:{healthport} --debug'
// The server must serve /health, /debug/views and /debug/entities on the health port.
import { spawn } from 'node:child_process';
import net from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';

const here = path.dirname(fileURLToPath(import.meta.url));
export const repoRoot = path.resolve(here, '..', '..');

const DEFAULT_CMD = 'go run ./e2e/testserver -addr 127.0.0.1:{wsport} -health-addr 127.0.0.1:{healthport}';

async function freePort() {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

// startServer launches the server and resolves once /health answers (up to startupMs, which covers
// a cold `go run` build).
// command is a command template; it defaults to HYPERSTACK_E2E_SERVER_CMD or the test server.
export async function startServer({ startupMs = 180_000, command } = {}) {
  const wsport = await freePort();
  const healthport = await freePort();
  const template = command || process.env.HYPERSTACK_E2E_SERVER_CMD || DEFAULT_CMD;
  const cmd = template.replaceAll('{wsport}', String(wsport)).replaceAll('{healthport}', String(healthport));
  const child = spawn('sh', ['-c', cmd], { cwd: repoRoot, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  const keep = (d) => { output = (output + d.toString()).slice(-20_000); };
  child.stdout.on('data', keep);
  child.stderr.on('data', keep);
  let exited = null;
  child.on('exit', (code, signal) => { exited = { code, signal }; });

  const wsUrl = `ws://127.0.0.1:${wsport}`;
  const healthUrl = `http://127.0.0.1:${healthport}`;
  const deadline = Date.now() + startupMs;
  for (;;) {
    if (exited) {
      throw new Error(`server command exited (${JSON.stringify(exited)}): ${cmd}\n${output}`);
    }
    try {
      const res = await fetch(`${healthUrl}/health`);
      if (res.ok) break;
    } catch { /* not up yet */ }
    if (Date.now() > deadline) {
      kill(child);
      throw new Error(`server did not become healthy within ${startupMs} ms: ${cmd}\n${output}`);
    }
    await sleep(100);
  }
  return {
    wsUrl,
    healthUrl,
    output: () => output,
    async json(p) {
      const res = await fetch(healthUrl + p);
      if (!res.ok) throw new Error(`GET ${p}: ${res.status} ${await res.text()}`);
      return res.json();
    },
    async stop() {
      if (exited) return;
      const done = new Promise((resolve) => child.on('exit', resolve));
      kill(child, 'SIGTERM');
      const t = setTimeout(() => kill(child, 'SIGKILL'), 15_000);
      await done;
      clearTimeout(t);
    },
  };
}

function kill(child, signal = 'SIGKILL') {
  try {
    process.kill(-child.pid, signal);
  } catch { /* already gone */ }
}

// compareEntities compares a client's entity with the server's. The server caps appended arrays
// (newest items kept) while the client keeps growing them, so a longer client array matches when
// it ends with the server's items and the server's array is at the cap.
export function sameEntity(client, server, arrayCap = 100) {
  if (Array.isArray(client) && Array.isArray(server)) {
    if (client.length > server.length && server.length >= arrayCap) {
      client = client.slice(client.length - server.length);
    }
    if (client.length !== server.length) return false;
    return client.every((v, i) => sameEntity(v, server[i], arrayCap));
  }
  if (client && server && typeof client === 'object' && typeof server === 'object') {
    const ck = Object.keys(client).sort();
    const sk = Object.keys(server).sort();
    if (ck.length !== sk.length || ck.some((k, i) => k !== sk[i])) return false;
    return ck.every((k) => sameEntity(client[k], server[k], arrayCap));
  }
  return Object.is(client, server);
}

// pickEntity waits until srv holds entities and returns the non-derived entity type with the most
// of them (or HYPERSTACK_E2E_ENTITY), the server's views, and the entity's first derived view if
// it has one; withDerived waits for an entity that has one.
export async function pickEntity(srv, { withDerived = false } = {}) {
  const want = process.env.HYPERSTACK_E2E_ENTITY;
  for (let i = 0; i < 200; i++) {
    const views = await srv.json('/debug/views');
    const lists = views.filter((v) => v.mode === 'list' && !v.derived && v.entities > 0)
      .sort((a, b) => b.entities - a.entities);
    const entity = (want ? lists.find((v) => v.entity === want) : lists[0])?.entity;
    const derived = views.find((v) => v.derived && v.entity === entity);
    if (entity && (derived || !withDerived)) return { entity, views, derived };
    await sleep(100);
  }
  throw new Error(withDerived ? 'the server never held an entity with a derived view' : 'the server never held any entity');
}

// entityStack is a stack definition for the official clients: the state, list and append views of
// entity, plus the extra views given.
export function entityStack(name, url, entity, extra = {}) {
  return {
    name,
    url,
    views: {
      [entity]: {
        state: { mode: 'state', view: `${entity}/state` },
        list: { mode: 'list', view: `${entity}/list` },
        append: { mode: 'list', view: `${entity}/append` },
        ...extra,
      },
    },
  };
}
