// The official Yellowstone client (@triton-one/yellowstone-grpc, Triton's Rust/tonic core through
// NAPI) against `hyperstack sim` (unary calls, a filtered subscription delivering account updates,
// transactions, slots and block metadata, a mid-stream ping, and a from_slot replay) and against
// `hyperstack replay --serve-geyser` serving the bundled demo archive.
//
// HYPERSTACK_E2E_SIM_CMD and HYPERSTACK_E2E_REPLAY_CMD override the commands (run from the
// repository root); {listen} is replaced with the address to serve on. The simulator prints
// "serving Yellowstone gRPC on ADDR" once it listens, replay "... Yellowstone endpoint ... addr=ADDR".
import test from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createRequire } from 'node:module';
import { setTimeout as sleep } from 'node:timers/promises';
import { repoRoot } from './harness.mjs';

const require = createRequire(import.meta.url);
const yellowstone = require('@triton-one/yellowstone-grpc');
const Client = yellowstone.default ?? yellowstone.Client;
const { CommitmentLevel, SlotStatus } = yellowstone;

const TOKEN_PROGRAM = 'TokenkegQfeZyiNwAJbNbGKPFXCWuBvf9Ss623VQ5DA';
const DEFAULT_CMD = 'go run ./cmd/hyperstack sim --scenario spl-token --seed 3 --rate 50 --listen {listen} --log-level warn';
// The demo archive: 2,000 SPL Token slots recorded at 400 ms a slot, served 40 times faster.
const DEFAULT_REPLAY_CMD = 'go run ./cmd/hyperstack replay fixtures/demo-spl-token.db --serve-geyser {listen} --speed 40';
const DEMO_FIRST_SLOT = 400_000_000n;
const DEMO_LAST_SLOT = 400_001_999n;

// startSim launches the simulator and resolves with its address once it listens.
function startSim(opts) {
  return startServer(process.env.HYPERSTACK_E2E_SIM_CMD || DEFAULT_CMD, /serving Yellowstone gRPC on (\S+)/, opts);
}

// startReplay serves the demo archive with `hyperstack replay --serve-geyser`.
function startReplay(opts) {
  return startServer(process.env.HYPERSTACK_E2E_REPLAY_CMD || DEFAULT_REPLAY_CMD, /Yellowstone endpoint.* addr=(\S+)/, opts);
}

// startServer launches a command that serves Yellowstone gRPC and resolves with its endpoint once
// its output matches listening (whose first group is the address).
async function startServer(template, listening, { startupMs = 180_000 } = {}) {
  const cmd = template.replaceAll('{listen}', '127.0.0.1:0');
  const child = spawn('sh', ['-c', cmd], { cwd: repoRoot, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  let exited = null;
  child.on('exit', (code, signal) => { exited = { code, signal }; });
  const addr = await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`server did not listen within ${startupMs} ms: ${cmd}\n${output}`)), startupMs);
    const onData = (d) => {
      output = (output + d.toString()).slice(-20_000);
      const m = output.match(listening);
      if (m) {
        clearTimeout(timer);
        resolve(m[1]);
      }
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    child.on('exit', () => {
      clearTimeout(timer);
      reject(new Error(`server exited (${JSON.stringify(exited)}): ${cmd}\n${output}`));
    });
  });
  return {
    endpoint: `http://${addr}`,
    async stop() {
      if (exited) return;
      const done = new Promise((resolve) => child.on('exit', resolve));
      try { process.kill(-child.pid, 'SIGTERM'); } catch { /* gone */ }
      const t = setTimeout(() => { try { process.kill(-child.pid, 'SIGKILL'); } catch { /* gone */ } }, 15_000);
      await done;
      clearTimeout(t);
    },
  };
}

// request builds a complete SubscribeRequest (the client needs every map present).
function request(parts) {
  return {
    accounts: {},
    slots: {},
    transactions: {},
    transactionsStatus: {},
    blocks: {},
    blocksMeta: {},
    entry: {},
    accountsDataSlice: [],
    commitment: CommitmentLevel.PROCESSED,
    ...parts,
  };
}

// open subscribes; errors that arrive after a test stopped listening are dropped instead of
// surfacing as uncaught exceptions.
async function open(client) {
  const stream = await client.subscribe();
  stream.on('error', () => {});
  return stream;
}

// firstReplayedSlot subscribes to slots from the given slot and resolves with the first slot
// the stream delivers.
async function firstReplayedSlot(client, from) {
  const stream = await open(client);
  stream.write(request({ slots: { slots: { filterByCommitment: true } }, fromSlot: from.toString() }));
  let replayed = null;
  await collect(stream, (u) => {
    if (u.slot && replayed === null) replayed = BigInt(u.slot.slot);
    return replayed !== null;
  });
  stream.destroy();
  return replayed;
}

// collect reads updates from stream until done(update) returns true, the stream fails or ends, or
// timeoutMs passes.
function collect(stream, done, timeoutMs = 60_000) {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      cleanup();
      stream.destroy();
      reject(new Error('timed out waiting for updates'));
    }, timeoutMs);
    const onData = (u) => {
      if (done(u)) {
        cleanup();
        resolve();
      }
    };
    const onError = (e) => {
      cleanup();
      reject(e);
    };
    const onEnd = () => {
      cleanup();
      reject(new Error('the stream ended'));
    };
    const cleanup = () => {
      clearTimeout(timer);
      stream.off('data', onData);
      stream.off('error', onError);
      stream.off('end', onEnd);
    };
    stream.on('data', onData);
    stream.on('error', onError);
    stream.on('end', onEnd);
  });
}

function bytesLength(b) {
  return b ? b.length : 0;
}

test('official Yellowstone client against hyperstack sim', { timeout: 300_000 }, async (t) => {
  const sim = await startSim();
  t.after(() => sim.stop());
  const client = new Client(sim.endpoint, undefined, undefined);
  await client.connect();

  await t.test('unary calls', async () => {
    const version = await client.getVersion();
    const parsed = JSON.parse(version.version);
    assert.ok(parsed.version, `GetVersion ${version.version}`);

    const pong = await client.ping(3);
    assert.equal(pong.count, 3);

    // The simulated chain starts at slot 400,000,000; wait until it has produced a slot.
    let slot = 0n;
    for (let i = 0; i < 200 && slot === 0n; i++) {
      slot = BigInt((await client.getSlot(CommitmentLevel.PROCESSED)).slot);
      if (slot === 0n) await sleep(50);
    }
    assert.ok(slot >= 400_000_000n, `GetSlot ${slot}`);
  });

  let firstSlot = null;
  let lastSlot = null;
  await t.test('subscribe: accounts, transactions, slots, block meta, ping', async () => {
    const stream = await open(client);
    const seen = { account: 0, transaction: 0, blockMeta: 0, statuses: new Set(), pong: false };
    stream.write(request({
      accounts: { tokens: { account: [], owner: [TOKEN_PROGRAM], filters: [] } },
      transactions: { txs: { vote: false, accountInclude: [TOKEN_PROGRAM], accountExclude: [], accountRequired: [] } },
      slots: { slots: {} },
      blocksMeta: { meta: {} },
    }));
    let pinged = false;
    await collect(stream, (u) => {
      if (u.account) {
        const info = u.account.account;
        assert.deepEqual(u.filters, ['tokens']);
        assert.ok([82, 165].includes(bytesLength(info.data)), `token account data of ${bytesLength(info.data)} bytes`);
        assert.equal(bytesLength(info.pubkey), 32);
        assert.ok(BigInt(info.lamports) > 0n && BigInt(info.writeVersion) > 0n);
        seen.account++;
      } else if (u.transaction) {
        const info = u.transaction.transaction;
        assert.deepEqual(u.filters, ['txs']);
        assert.equal(bytesLength(info.signature), 64);
        assert.ok(info.meta.logMessages.some((l) => l === `Program ${TOKEN_PROGRAM} invoke [1]`), 'token program logs');
        assert.ok(info.transaction.message.instructions.length > 0);
        seen.transaction++;
      } else if (u.slot) {
        assert.deepEqual(u.filters, ['slots']);
        if (firstSlot === null) firstSlot = BigInt(u.slot.slot);
        if (lastSlot === null || BigInt(u.slot.slot) > lastSlot) lastSlot = BigInt(u.slot.slot);
        seen.statuses.add(u.slot.status);
      } else if (u.blockMeta) {
        assert.deepEqual(u.filters, ['meta']);
        assert.ok(u.blockMeta.blockhash.length > 0);
        seen.blockMeta++;
      } else if (u.pong) {
        assert.equal(u.pong.id, 42);
        seen.pong = true;
      }
      if (!pinged && seen.account > 0) {
        // A ping request gets a pong and leaves the filter alone.
        pinged = true;
        stream.write(request({ ping: { id: 42 } }));
      }
      return seen.account >= 20 && seen.transaction >= 5 && seen.blockMeta >= 3 && seen.pong &&
        [SlotStatus.SLOT_PROCESSED, SlotStatus.SLOT_CONFIRMED, SlotStatus.SLOT_FINALIZED].every((s) => seen.statuses.has(s));
    });
    stream.destroy();
  });

  await t.test('subscribe with from_slot replays the buffer', async () => {
    assert.ok(firstSlot !== null);
    // Replay from a few slots behind the last slot seen: well inside the replay buffer however long
    // the earlier subtests took on a busy machine. A fresh client: calls on a client whose stream
    // was just destroyed can stall in the client library.
    const from = lastSlot - 3n > firstSlot ? lastSlot - 3n : firstSlot;
    const fresh = new Client(sim.endpoint, undefined, undefined);
    await fresh.connect();
    const replayed = await firstReplayedSlot(fresh, from);
    assert.equal(replayed, from, `replay from ${from} started at ${replayed}`);
  });
});

test('official Yellowstone client against hyperstack replay --serve-geyser', { timeout: 300_000 }, async (t) => {
  const srv = await startReplay();
  t.after(() => srv.stop());
  const client = new Client(srv.endpoint, undefined, undefined);
  await client.connect();

  // The archive starts flowing with the first subscription.
  let lastSlot = null;
  await t.test('subscribe: the archive\'s accounts, transactions, slots and block meta', async () => {
    const stream = await open(client);
    const seen = { account: 0, transaction: 0, blockMeta: 0, statuses: new Set() };
    let firstSlot = null;
    let prevSlot = 0n;
    stream.write(request({
      accounts: { tokens: { account: [], owner: [TOKEN_PROGRAM], filters: [] } },
      transactions: { txs: { vote: false, accountInclude: [TOKEN_PROGRAM], accountExclude: [], accountRequired: [] } },
      slots: { slots: {} },
      blocksMeta: { meta: {} },
    }));
    await collect(stream, (u) => {
      if (u.account) {
        assert.deepEqual(u.filters, ['tokens']);
        assert.ok([82, 165].includes(bytesLength(u.account.account.data)));
        seen.account++;
      } else if (u.transaction) {
        assert.deepEqual(u.filters, ['txs']);
        assert.equal(bytesLength(u.transaction.transaction.signature), 64);
        seen.transaction++;
      } else if (u.slot) {
        assert.deepEqual(u.filters, ['slots']);
        const s = BigInt(u.slot.slot);
        assert.ok(s >= DEMO_FIRST_SLOT && s <= DEMO_LAST_SLOT, `slot ${s} is in the archive`);
        if (firstSlot === null) firstSlot = s;
        if (s > prevSlot) prevSlot = s;
        lastSlot = prevSlot;
        seen.statuses.add(u.slot.status);
      } else if (u.blockMeta) {
        assert.deepEqual(u.filters, ['meta']);
        seen.blockMeta++;
      }
      return seen.account >= 20 && seen.transaction >= 5 && seen.blockMeta >= 3 &&
        [SlotStatus.SLOT_PROCESSED, SlotStatus.SLOT_CONFIRMED, SlotStatus.SLOT_FINALIZED].every((s) => seen.statuses.has(s));
    });
    stream.destroy();
    assert.equal(firstSlot, DEMO_FIRST_SLOT, 'the first subscriber gets the archive from its first slot');
  });

  await t.test('unary calls and from_slot', async () => {
    // A fresh client: calls on a client whose stream was just destroyed can stall in the library.
    const fresh = new Client(srv.endpoint, undefined, undefined);
    await fresh.connect();
    const pong = await fresh.ping(5);
    assert.equal(pong.count, 5);
    const slot = BigInt((await fresh.getSlot(CommitmentLevel.PROCESSED)).slot);
    assert.ok(slot >= lastSlot && slot <= DEMO_LAST_SLOT, `GetSlot ${slot} (last seen ${lastSlot})`);
    const from = slot - 3n;
    const replayed = await firstReplayedSlot(fresh, from);
    assert.equal(replayed, from, `replay from ${from} started at ${replayed}`);
  });
});
