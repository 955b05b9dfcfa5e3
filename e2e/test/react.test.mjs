// The official React bindings, hyperstack-react, against the built-in demo of `hyperstack serve`:
// components under <HyperstackProvider> that call useHyperstack(stack), a list view's use(), a
// state view's use(key), a sorted view's useOne() and useConnectionState render exactly the
// server's entities, re-render on live frames, and release their subscriptions when unmounted.
// Rendering uses react-test-renderer inside act(), so no DOM is needed.
//
// HYPERSTACK_E2E_REACT_CMD overrides the server command ({wsport} and {healthport} are replaced);
// the server must serve /status, /metrics and the /debug endpoints on its health port.
import { describe, test, before, after, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import React from 'react';
import TestRenderer from 'react-test-renderer';
// hyperstack-react@0.6.9 declares "type": "module" while its "main" (dist/index.js) is CommonJS, so
// node cannot load the bare specifier. Bundlers read the "module" field instead; this is that build.
import { HyperstackProvider, useHyperstack, useConnectionState } from 'hyperstack-react/dist/index.esm.js';
import { startServer, sameEntity, pickEntity, entityStack } from './harness.mjs';

if (typeof globalThis.WebSocket !== 'function') {
  throw new Error('no global WebSocket: run node with --experimental-websocket (Node 20) or use Node >= 22');
}

const DEFAULT_CMD = 'go run ./cmd/hyperstack serve --listen 127.0.0.1:{wsport} --health-listen 127.0.0.1:{healthport} --debug';
const h = React.createElement;
const { act } = TestRenderer;
// Tells React that this is a test environment, so updates inside act() are flushed when it ends.
globalThis.IS_REACT_ACT_ENVIRONMENT = true;

let srv;
// Everything hyperstack-react or React logs as an error while the tests run.
const loggedErrors = [];

// pickViews waits until the demo holds an entity with a derived (sorted) view and returns the
// entity, that view and the key of a state entity.
async function pickViews() {
  const { entity, derived } = await pickEntity(srv, { withDerived: true });
  const first = await srv.json(`/debug/entities?view=${encodeURIComponent(`${entity}/list`)}`);
  return { entity, derived: derived.id, stateKey: first.entities[0].key };
}

// makeStack builds the stack definition the hooks read: list, state and append views of entity,
// and its derived sorted view as `top`.
function makeStack({ entity, derived }) {
  return entityStack('e2e-react', srv.wsUrl, entity, { top: { mode: 'list', view: derived } });
}

// The components. Each renders a host element whose props carry what its hook returned, so the
// assertions read the rendered tree. renders counts renders per pane.
const renders = { list: 0, state: 0, top: 0, append: 0, status: 0 };

function ListPane({ stack, entity }) {
  const { views } = useHyperstack(stack);
  const list = views[entity].list.use();
  renders.list++;
  return h('list', { items: list.data ?? [], loading: list.isLoading, error: list.error?.message });
}

function AppendPane({ stack, entity }) {
  const { views } = useHyperstack(stack);
  const list = views[entity].append.use();
  renders.append++;
  return h('append', { items: list.data ?? [], loading: list.isLoading, error: list.error?.message });
}

function StatePane({ stack, entity, stateKey }) {
  const { views } = useHyperstack(stack);
  const state = views[entity].state.use({ key: stateKey });
  renders.state++;
  return h('state', { item: state.data ?? null, loading: state.isLoading, error: state.error?.message });
}

function TopPane({ stack, entity }) {
  const { views } = useHyperstack(stack);
  const top = views[entity].top.useOne();
  renders.top++;
  return h('top', { item: top.data ?? null, loading: top.isLoading, error: top.error?.message });
}

function StatusPane({ stack }) {
  const hs = useHyperstack(stack);
  const connection = useConnectionState(stack);
  renders.status++;
  return h('status', {
    connection,
    hookState: hs.connectionState,
    isConnected: hs.isConnected,
    loading: hs.isLoading,
    error: hs.error?.message,
    client: hs.client,
  });
}

const PANES = { list: ListPane, append: AppendPane, state: StatePane, top: TopPane, status: StatusPane };

function App({ panes, ...props }) {
  return h(HyperstackProvider, { maxReconnectAttempts: 0 },
    ...panes.map((name) => h(PANES[name], { key: name, ...props })));
}

// mount renders element inside act and remembers the renderer, so a failed test still unmounts
// its tree (and closes its client) before the next test counts the server's connections.
const mounted = new Set();
async function mount(element) {
  let renderer;
  await act(async () => { renderer = TestRenderer.create(element); });
  mounted.add(renderer);
  return renderer;
}
async function unmount(renderer) {
  mounted.delete(renderer);
  await act(async () => { renderer.unmount(); });
}

// Reading the rendered tree.
const rendered = (renderer, type) => {
  const found = renderer.root.findAllByType(type);
  assert.ok(found.length === 1, `exactly one <${type}> is rendered`);
  return found[0].props;
};

// settle lets the WebSocket and React run for a moment inside act(), so every update that arrives
// is rendered when it returns; fn runs at the end, still inside act, and its result is returned.
async function settle(fn = async () => undefined, ms = 50) {
  let out;
  await act(async () => {
    await sleep(ms);
    out = await fn();
  });
  return out;
}

// until polls check (after a settle) until it returns a truthy value, for a bounded number of
// tries; describe() explains the last failure.
async function until(check, what, { tries = 400, fetch, describe: explain } = {}) {
  let last = '';
  for (let i = 0; i < tries; i++) {
    const fetched = await settle(fetch);
    const ok = check(fetched);
    if (ok) return ok;
    if (explain) last = explain(fetched);
  }
  assert.fail(`timed out waiting: ${what}${last ? `: ${last}` : ''}`);
}

// matchAll pairs every server entity with a distinct rendered item equal to it.
function matchAll(items, serverEntities) {
  if (items.length !== serverEntities.length) return `rendered ${items.length} items, server holds ${serverEntities.length}`;
  const used = new Set();
  for (const { key, data } of serverEntities) {
    const i = items.findIndex((item, j) => !used.has(j) && sameEntity(item, data));
    if (i < 0) return `no rendered item equals server entity ${key}: ${JSON.stringify(data).slice(0, 300)}`;
    used.add(i);
  }
  return '';
}

// sameKeys reports how the keys the client's store holds for view differ from the server's.
function sameKeys(client, view, serverEntities) {
  const have = new Set(client.store.keys(view));
  const want = new Set(serverEntities.map((e) => e.key));
  const missing = [...want].filter((k) => !have.has(k));
  const extra = [...have].filter((k) => !want.has(k));
  return missing.length || extra.length ? `store keys differ: missing ${missing.slice(0, 3)}, extra ${extra.slice(0, 3)}` : '';
}

// convergeList waits until the <type> element renders exactly the server's entities of view and,
// given the client, its store holds exactly the server's keys.
async function convergeList(renderer, type, view, { query = '', client } = {}) {
  const diff = (doc) => matchAll(rendered(renderer, type).items, doc.entities) || (client ? sameKeys(client, view, doc.entities) : '');
  return until(
    (doc) => doc.entities.length > 0 && diff(doc) === '' && doc,
    `<${type}> renders the entities of ${view}`,
    {
      fetch: () => srv.json(`/debug/entities?view=${encodeURIComponent(view)}${query}`),
      describe: diff,
    },
  );
}

// convergeItem waits until the <type> element renders the first entity the server holds for view.
async function convergeItem(renderer, type, view, query = '') {
  return until(
    (doc) => doc.entities.length > 0 && sameEntity(rendered(renderer, type).item, doc.entities[0].data) && doc,
    `<${type}> renders ${view}${query}`,
    {
      fetch: () => srv.json(`/debug/entities?view=${encodeURIComponent(view)}${query}`),
      describe: (doc) => JSON.stringify({ rendered: rendered(renderer, type).item, server: doc.entities[0] }).slice(0, 600),
    },
  );
}

// metric reads one unlabelled sample from the server's Prometheus endpoint.
async function metric(name) {
  const res = await fetch(`${srv.healthUrl}/metrics`);
  const text = await res.text();
  const line = text.split('\n').find((l) => l.startsWith(`${name} `));
  assert.ok(line, `/metrics has ${name}`);
  return Number(line.slice(name.length + 1));
}

const serverLoad = async () => ({
  clients: (await srv.json('/status')).clients,
  connections: await metric('hyperstack_ws_connections_active'),
  subscriptions: await metric('hyperstack_ws_subscriptions_active'),
});

describe('hyperstack-react against the hyperstack serve demo', () => {
  let originalError;
  before(async () => {
    originalError = console.error;
    console.error = (...args) => { loggedErrors.push(args.map(String).join(' ')); originalError(...args); };
    srv = await startServer({ command: process.env.HYPERSTACK_E2E_REACT_CMD || DEFAULT_CMD });
  });
  afterEach(async () => {
    for (const renderer of mounted) await unmount(renderer);
  });
  after(async () => {
    console.error = originalError;
    await srv?.stop();
    srv = undefined;
  });

  test('hooks render the server state, follow live frames and disconnect on unmount', async () => {
    const picked = await pickViews();
    const { entity, derived, stateKey } = picked;
    const stack = makeStack(picked);
    const props = { stack, entity, stateKey };
    const panes = ['status', 'list', 'state', 'top'];
    const errorsBefore = loggedErrors.length;

    const renderer = await mount(h(App, { panes, ...props }));
    // The connection states useConnectionState renders, in order (for failure messages).
    const seenStates = [];
    const recordState = () => {
      const s = rendered(renderer, 'status').connection;
      if (seenStates.at(-1) !== s) seenStates.push(s);
      return s;
    };
    recordState();

    await until(() => recordState() === 'connected', 'useConnectionState reports connected',
      { describe: () => seenStates.join(' -> ') });
    const status = rendered(renderer, 'status');
    assert.equal(status.hookState, 'connected');
    assert.equal(status.isConnected, true);
    assert.equal(status.loading, false);
    assert.equal(status.error, undefined);

    const client = status.client;
    const frames = [];
    const offFrame = client.onFrame((f) => frames.push(f));
    const issues = [];
    const offIssue = client.onSocketIssue((i) => issues.push(i));

    // The list, the state entity and the top of the sorted view converge to the server's.
    const listDoc = await convergeList(renderer, 'list', `${entity}/list`, { client });
    await convergeItem(renderer, 'state', `${entity}/state`, `&key=${encodeURIComponent(stateKey)}`);
    await convergeItem(renderer, 'top', derived, '&take=1');
    assert.equal(rendered(renderer, 'list').loading, false);
    assert.equal(rendered(renderer, 'state').loading, false);
    assert.equal(rendered(renderer, 'top').loading, false);

    // Live frames re-render the list with changed data, and it still matches the server.
    const shown = rendered(renderer, 'list').items;
    const rendersBefore = renders.list;
    await until(() => {
      const now = rendered(renderer, 'list').items;
      return now !== shown && matchAll(now, shown.map((data, i) => ({ key: String(i), data }))) !== '';
    }, 'the list re-renders with changed entities');
    assert.ok(renders.list > rendersBefore, 'the list pane rendered again');
    const later = await convergeList(renderer, 'list', `${entity}/list`, { client });
    assert.ok(later.seq > listDoc.seq, `the server moved on (seq ${listDoc.seq} -> ${later.seq})`);
    await until(() => frames.some((f) => f.entity === `${entity}/list` && f.op === 'patch'),
      'live patch frames for the list view');

    assert.deepEqual(issues, [], 'no socket issues');
    assert.equal(recordState(), 'connected', `states: ${seenStates.join(' -> ')}`);
    assert.deepEqual(seenStates.slice(-1), ['connected']);

    // Unmounting the provider closes the client: the server sees no client and no subscription.
    offFrame();
    offIssue();
    await unmount(renderer);
    assert.equal(client.connectionState, 'disconnected');
    await until((load) => load.clients === 0 && load.connections === 0 && load.subscriptions === 0,
      'the server drops the connection and its subscriptions',
      { fetch: serverLoad, describe: (load) => JSON.stringify(load) });
    assert.deepEqual(loggedErrors.slice(errorsBefore), [], 'nothing was logged as an error');
  });

  test('unmounting one component releases only its subscription', async () => {
    const picked = await pickViews();
    const { entity, stateKey } = picked;
    const stack = makeStack(picked);
    const props = { stack, entity, stateKey };
    const errorsBefore = loggedErrors.length;
    const listView = `${entity}/list`;

    const renderer = await mount(h(App, { panes: ['status', 'list', 'state', 'top'], ...props }));
    await until(() => rendered(renderer, 'status').connection === 'connected', 'connected');
    const client = rendered(renderer, 'status').client;
    const frames = [];
    const offFrame = client.onFrame((f) => frames.push(f));
    const issues = [];
    const offIssue = client.onSocketIssue((i) => issues.push(i));
    await convergeList(renderer, 'list', listView, { client });
    // This connection is the only one: three subscriptions (list, state, top).
    await until((load) => load.clients === 1 && load.subscriptions === 3, 'the server holds three subscriptions',
      { fetch: serverLoad, describe: (load) => JSON.stringify(load) });

    // Unmount the list pane alone: its hook sends unsubscribe and the server drops that one.
    await act(async () => {
      renderer.update(h(App, { panes: ['status', 'state', 'top'], ...props }));
    });
    assert.equal(renderer.root.findAllByType('list').length, 0);
    await until((load) => load.clients === 1 && load.subscriptions === 2, 'the server drops the list subscription',
      { fetch: serverLoad, describe: (load) => JSON.stringify(load) });

    // Mount a pane on another view. Its subscribed frame is queued after everything the server
    // sent for the list before it processed the unsubscribe, so after it no list frame may come.
    await act(async () => {
      renderer.update(h(App, { panes: ['status', 'state', 'top', 'append'], ...props }));
    });
    await until(() => frames.some((f) => f.op === 'subscribed' && f.view === `${entity}/append`),
      'the append view is acknowledged');
    const listFrames = () => frames.filter((f) => f.entity === listView && f.op !== 'subscribed').length;
    const fence = listFrames();
    const framesAtFence = frames.length;
    await convergeList(renderer, 'append', `${entity}/append`, { client });
    await until(() => frames.filter((f) => f.entity === `${entity}/append` && f.op === 'patch').length >= 10,
      'live patches for the append view');
    assert.ok(frames.length > framesAtFence, 'frames kept coming');
    assert.equal(listFrames(), fence, 'no list frame arrives after the list pane is unmounted');
    await convergeItem(renderer, 'state', `${entity}/state`, `&key=${encodeURIComponent(stateKey)}`);
    assert.equal(rendered(renderer, 'status').connection, 'connected');
    assert.deepEqual(issues, [], 'no socket issues');

    offFrame();
    offIssue();
    await unmount(renderer);
    await until((load) => load.clients === 0 && load.connections === 0 && load.subscriptions === 0,
      'the server drops the connection and its subscriptions',
      { fetch: serverLoad, describe: (load) => JSON.stringify(load) });
    assert.deepEqual(loggedErrors.slice(errorsBefore), [], 'nothing was logged as an error');
  });
});
