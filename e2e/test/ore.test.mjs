// The hyperstack-stacks ORE SDK against `hyperstack serve --source sim:ore` with the real ORE stack:
// the entities it receives pass the package's own schemas, use only field names the schemas know,
// are keyed by their ids, and match the server's state.
//
// HYPERSTACK_E2E_ORE_CMD overrides the server command ({stack}, {wsport} and {healthport} are
// replaced). Skipped when the shared ORE stack fixture is absent.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { HyperStack } from 'hyperstack-typescript';
import { ORE_STREAM_STACK, OreRoundSchema, OreMinerSchema, OreTreasurySchema } from 'hyperstack-stacks/ore';
import { startServer, repoRoot, sameEntity } from './harness.mjs';

const stackPath = path.resolve(repoRoot, '..', 'shared', 'fixtures', 'hyperstack', 'OreStream.stack.json');
const haveStack = fs.existsSync(stackPath);
const DEFAULT_ORE_CMD = 'go run ./cmd/hyperstack serve --source sim:ore --stack {stack} --slot-interval 50ms --listen 127.0.0.1:{wsport} --health-listen 127.0.0.1:{healthport} --debug';

let srv;
before(async () => {
  if (!haveStack) return;
  const template = (process.env.HYPERSTACK_E2E_ORE_CMD || DEFAULT_ORE_CMD).replaceAll('{stack}', stackPath);
  srv = await startServer({ command: template });
});
after(async () => { await srv?.stop(); });

const entities = {
  OreRound: { schema: OreRoundSchema, list: 'latest', key: (e) => String(e.id?.round_id) },
  OreMiner: { schema: OreMinerSchema, list: 'list', key: (e) => e.id?.authority },
  OreTreasury: { schema: OreTreasurySchema, list: 'list', key: (e) => e.id?.address },
};

// unwrap strips optional/nullable wrappers from a zod schema.
function unwrap(s) {
  while (s && typeof s.unwrap === 'function' && (s._def.typeName === 'ZodOptional' || s._def.typeName === 'ZodNullable')) {
    s = s.unwrap();
  }
  return s;
}

const ENVELOPE = new Set(['timestamp', 'account_address', 'data', 'slot', 'signature']);

// isCapture recognises the capture envelope the stack's snapshot fields produce (the reference VM's
// CreateCapture: {timestamp, account_address, data, slot, signature}); the SDK types such fields as
// the bare account, which is the envelope's data.
function isCapture(v) {
  return v && typeof v === 'object' && !Array.isArray(v) && 'data' in v && Object.keys(v).every((k) => ENVELOPE.has(k));
}

// unknownFields lists the dotted paths of fields the schema does not declare (zod objects accept
// unknown keys, so a misspelt field would otherwise pass).
function unknownFields(value, schema, prefix = '') {
  const s = unwrap(schema);
  if (!s || s._def.typeName !== 'ZodObject' || value === null || typeof value !== 'object' || Array.isArray(value)) {
    return [];
  }
  const shape = s.shape;
  if (prefix !== '' && isCapture(value) && !Object.keys(value).some((k) => k in shape)) {
    return unknownFields(value.data, schema, `${prefix}.data`);
  }
  const out = [];
  for (const [k, v] of Object.entries(value)) {
    const p = prefix ? `${prefix}.${k}` : k;
    if (!(k in shape)) {
      if (!(prefix === '' && k === '_seq')) out.push(p);
      continue;
    }
    out.push(...unknownFields(v, shape[k], p));
  }
  return out;
}

test('the ORE SDK receives schema-valid OreRound, OreMiner and OreTreasury entities', { skip: haveStack ? false : `shared fixture not found at ${stackPath}; skipping` }, async (t) => {
  const hs = await HyperStack.connect(ORE_STREAM_STACK, { url: srv.wsUrl, maxReconnectAttempts: 0 });
  const stops = [];
  const drain = (iterable) => {
    const it = iterable[Symbol.asyncIterator]();
    let stop = false;
    (async () => { while (!stop) { if ((await it.next()).done) return; } })();
    stops.push(() => { stop = true; it.return?.(); });
  };
  drain(hs.views.OreRound.latest.use({ take: 1 }));
  drain(hs.views.OreMiner.list.use());
  drain(hs.views.OreTreasury.list.use());

  // Wait for the server to hold rounds and miners, then check every type it holds.
  let held = [];
  for (let i = 0; i < 600; i++) {
    const views = await srv.json('/debug/views');
    held = Object.keys(entities).filter((e) => views.some((v) => v.id === `${e}/list` && v.entities > 0));
    if (held.includes('OreRound') && held.includes('OreMiner') && (held.includes('OreTreasury') || i > 100)) break;
    await sleep(100);
  }
  assert.ok(held.includes('OreRound') && held.includes('OreMiner'), `server holds ${held.join(', ') || 'nothing'}`);
  if (!held.includes('OreTreasury')) {
    t.diagnostic('the server produced no OreTreasury entity; its checks did not run');
  }

  for (const name of held) {
    const { schema, list, key } = entities[name];
    const view = `${name}/${list}`;
    let checked = 0;
    for (let i = 0; i < 300 && checked === 0; i++) {
      for (const k of hs.store.keys(view)) {
        const e = hs.store.get(view, k);
        const r = schema.safeParse(e);
        assert.ok(r.success, `${view} ${k} fails the SDK schema: ${r.success ? '' : JSON.stringify(r.error.issues.slice(0, 3))}`);
        assert.deepEqual(unknownFields(e, schema), [], `${view} ${k} has fields the SDK does not know`);
        assert.equal(key(e), k, `${view} entity keyed ${k} has id ${key(e)}`);
        checked++;
      }
      if (checked === 0) await sleep(100);
    }
    assert.ok(checked > 0, `the client received no ${name}`);
  }

  // The top round the client holds is the server's.
  for (let i = 0; ; i++) {
    const doc = await srv.json('/debug/entities?view=OreRound/latest&take=1');
    const keys = hs.store.keys('OreRound/latest');
    if (doc.entities.length === 1 && keys.length === 1 && keys[0] === doc.entities[0].key &&
        sameEntity(hs.store.get('OreRound/latest', keys[0]), doc.entities[0].data)) break;
    assert.ok(i < 300, `OreRound/latest never matched the server: client ${keys}, server ${doc.entities.map((e) => e.key)}`);
    await sleep(50);
  }
  assert.equal(hs.connectionState, 'connected');
  for (const stop of stops) stop();
  hs.disconnect();
});
