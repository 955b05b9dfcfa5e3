// The official hyperstack-typescript client against a running server: state, list, append and
// derived views end up holding exactly the server's entities, kept current by live frames.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { HyperStack } from 'hyperstack-typescript';
import { startServer, sameEntity, pickEntity, entityStack } from './harness.mjs';

if (typeof globalThis.WebSocket !== 'function') {
  throw new Error('no global WebSocket: run node with --experimental-websocket (Node 20) or use Node >= 22');
}

// The servers under test: HYPERSTACK_E2E_SERVER_CMD alone when set, else the synthetic test server
// (derived views, large integers, appended histories) and the built-in demo of `hyperstack serve`.
const targets = process.env.HYPERSTACK_E2E_SERVER_CMD
  ? [['server', process.env.HYPERSTACK_E2E_SERVER_CMD]]
  : [
    ['test server', 'go run ./e2e/testserver -addr 127.0.0.1:{wsport} -health-addr 127.0.0.1:{healthport}'],
    ['hyperstack serve demo', 'go run ./cmd/hyperstack serve --listen 127.0.0.1:{wsport} --health-listen 127.0.0.1:{healthport} --debug'],
  ];

let srv;

// drain consumes an async iterable from use() so that the subscription stays active.
function drain(iterable) {
  const it = iterable[Symbol.asyncIterator]();
  let stop = false;
  (async () => {
    while (!stop) {
      const r = await it.next();
      if (r.done) return;
    }
  })();
  return () => { stop = true; it.return?.(); };
}

// converge polls until the client's store for view equals the server's entities, or fails with
// the last difference. Sources update in bursts, so a moment of equality comes quickly.
async function converge(hs, view, { query = '', keys = null } = {}) {
  let last = '';
  for (let i = 0; i < 300; i++) {
    const doc = await srv.json(`/debug/entities?view=${encodeURIComponent(view)}${query}`);
    const server = new Map(doc.entities.map((e) => [e.key, e.data]));
    const clientKeys = keys ? keys.filter((k) => hs.store.has(view, k)) : hs.store.keys(view);
    const missing = [...server.keys()].filter((k) => !clientKeys.includes(k));
    const extra = clientKeys.filter((k) => !server.has(k));
    const differing = [...server.keys()].filter((k) => clientKeys.includes(k) && !sameEntity(hs.store.get(view, k), server.get(k)));
    if (server.size > 0 && missing.length === 0 && extra.length === 0 && differing.length === 0) {
      return server;
    }
    last = JSON.stringify({ view, server: server.size, client: clientKeys.length, missing: missing.slice(0, 3), extra: extra.slice(0, 3), differing: differing.slice(0, 3),
      sample: differing[0] ? { client: hs.store.get(view, differing[0]), server: server.get(differing[0]) } : undefined });
    await sleep(50);
  }
  assert.fail(`client store never matched the server: ${last}`);
}

for (const [name, command] of targets) {
  describe(name, () => {
    before(async () => { srv = await startServer({ command }); });
    after(async () => { await srv?.stop(); srv = undefined; });

    test('state, list and append views hold the server state', async () => {
      const { entity, derived } = await pickEntity(srv);
      const stack = entityStack('e2e', srv.wsUrl, entity, derived ? { derived: { mode: 'list', view: derived.id } } : {});
      const hs = await HyperStack.connect(stack, { url: srv.wsUrl, maxReconnectAttempts: 0 });
      const states = [];
      hs.onConnectionStateChange((s, err) => states.push(err ? `${s}: ${err}` : s));
      const frames = [];
      hs.onFrame((f) => frames.push(f));

      const first = await srv.json(`/debug/entities?view=${entity}/list`);
      const stateKey = first.entities[0].key;
      const stops = [
        drain(hs.views[entity].list.use()),
        drain(hs.views[entity].append.use()),
        drain(hs.views[entity].state.use(stateKey)),
      ];
      if (derived) stops.push(drain(hs.views[entity].derived.use({ take: 5 })));

      await converge(hs, `${entity}/list`);
      await converge(hs, `${entity}/append`);
      await converge(hs, `${entity}/state`, { query: `&key=${encodeURIComponent(stateKey)}`, keys: [stateKey] });
      if (derived) {
        await converge(hs, derived.id, { query: '&take=5' });
      }

      // Live frames arrived after the snapshots, with the shapes the client expects.
      const ops = (view) => new Set(frames.filter((f) => f.entity === view).map((f) => f.op));
      for (const view of [`${entity}/list`, `${entity}/append`]) {
        assert.ok(ops(view).has('snapshot'), `${view} got a snapshot`);
        await waitFor(() => ops(view).has('patch'), `${view} gets live patches`);
      }
      const subscribed = frames.filter((f) => f.op === 'subscribed');
      assert.deepEqual(subscribed.find((f) => f.view === `${entity}/list`)?.sort, { field: ['_seq'], order: 'desc' });
      assert.equal(subscribed.find((f) => f.view === `${entity}/append`)?.sort, undefined);
      if (derived) {
        // The window moves as balances change: entities enter (upsert) and leave (delete).
        await waitFor(() => ops(derived.id).has('upsert') || ops(derived.id).has('patch'), `${derived.id} changes`);
        await converge(hs, derived.id, { query: '&take=5' });
      }
      // After more live traffic the stores still match.
      const seen = frames.length;
      await waitFor(() => frames.length > seen + 20, 'more live frames');
      await converge(hs, `${entity}/list`);
      await converge(hs, `${entity}/append`);

      assert.equal(hs.connectionState, 'connected', `connection states: ${states.join(', ')}`);
      for (const stop of stops) stop();
      hs.disconnect();
    });

    test('errors are reported as socket issues and the connection stays usable', async () => {
      const { entity } = await pickEntity(srv);
      const stack = { name: 'e2e', url: srv.wsUrl, views: { Nope: { list: { mode: 'list', view: 'Nope/list' } }, [entity]: { list: { mode: 'list', view: `${entity}/list` } } } };
      const hs = await HyperStack.connect(stack, { url: srv.wsUrl, maxReconnectAttempts: 0 });
      const issues = [];
      hs.onSocketIssue((i) => issues.push(i));
      const stopA = drain(hs.views.Nope.list.use());
      await waitFor(() => issues.length > 0, 'a socket issue for the unknown view');
      assert.equal(issues[0].error, 'unknown-view');
      assert.equal(issues[0].fatal, false);
      const stopB = drain(hs.views[entity].list.use());
      await converge(hs, `${entity}/list`);
      assert.equal(hs.connectionState, 'connected');
      stopA();
      stopB();
      hs.disconnect();
    });
  });
}

async function waitFor(cond, what, tries = 400) {
  for (let i = 0; i < tries; i++) {
    if (cond()) return;
    await sleep(50);
  }
  assert.fail(`timed out waiting: ${what}`);
}
