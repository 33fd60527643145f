// Load and trouble: 1,000 concurrent SSE clients each get 100 events, none lost or doubled; a
// reader that stops reading is dropped while the others keep receiving; a broker restart is
// survived with clients connected.
import assert from 'node:assert/strict';
import net from 'node:net';
import { after, before, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { Bridge, publisher, shutdown } from './lib/bridge.mjs';
import { SseReader } from './lib/sse.mjs';
import { ev, stream } from './lib/streams.mjs';
import { createWorld } from './lib/world.mjs';

const CLIENTS = 1000;
const EVENTS = 100;

let w;
let bridge;
let pub;

before(async () => {
    w = await createWorld({
        label: 'sse-load',
        tenants: {
            t: {
                streams: [
                    stream('many', { publicSubscribe: true, events: [ev('app', 'tick')] }),
                    stream('big', { publicSubscribe: true, events: [ev('app', 'big')] }),
                    stream('steady', { publicSubscribe: true, events: [ev('app', 'steady')] }),
                ],
            },
        },
    });
    bridge = await new Bridge(w, {
        limits: { send_queue_bytes: 256 * 1024, max_connections: 5000 },
        sse: { heartbeat_ms: 60000 },
    }).start();
    pub = await publisher(w, 't');
});

after(async () => {
    await shutdown({ pub, bridge, world: w, timeoutMs: 60000 });
});

async function openMany(n, path) {
    const readers = [];
    for (let i = 0; i < n; i += 100) {
        const batch = await Promise.all(
            Array.from({ length: Math.min(100, n - i) }, () => SseReader.open(`${bridge.url}${path}`)),
        );
        readers.push(...batch);
    }
    await Promise.all(readers.map((r) => r.waitNamed('mqpush:ready', { timeoutMs: 30000 })));
    return readers;
}

describe('load', () => {
    test(`${CLIENTS} concurrent clients each receive ${EVENTS} events, in order, none lost or doubled`, async () => {
        const readers = await openMany(CLIENTS, '/stream/v1/streams/many?tenant=t');
        try {
            for (const r of readers) assert.equal(r.status, 200);
            const m0 = await bridge.metrics();
            assert.ok(m0['mqpush_bridge_connections{channel="sse"}'] >= CLIENTS);
            for (let i = 0; i < EVENTS; i++) await pub.publish('app', 'tick', { payload: { n: i } });
            await Promise.all(readers.map((r) => r.waitEvents(EVENTS, { timeoutMs: 60000 })));
            await sleep(200);
            const want = [...Array(EVENTS).keys()];
            let ids = null;
            for (const r of readers) {
                const evs = r.events();
                assert.deepEqual(evs.map((e) => e.payload.n), want);
                const these = evs.map((e) => e.id);
                if (ids) assert.deepEqual(these, ids, 'every client sees the same ids');
                ids = these;
            }
            assert.equal(new Set(ids).size, EVENTS);
        } finally {
            readers.forEach((r) => r.close());
        }
    });

    test('a reader that stops reading is dropped as slow; the others get everything', async () => {
        // A raw client that sends the request and then never reads a byte.
        const stalled = net.connect(bridge.port, '127.0.0.1');
        await new Promise((res) => stalled.once('connect', res));
        stalled.write('GET /stream/v1/streams/big?tenant=t HTTP/1.1\r\nHost: x\r\nAccept: text/event-stream\r\n\r\n');
        stalled.pause();
        let stalledClosed = false;
        stalled.on('close', () => (stalledClosed = true));
        stalled.on('error', () => {});
        const fast = await openMany(3, '/stream/v1/streams/big?tenant=t');
        const dropped0 = (await bridge.metrics()).mqpush_bridge_slow_clients_dropped_total;
        const pad = 'x'.repeat(32 * 1024);
        let sent = 0;
        try {
            // Loopback socket buffers hold megabytes: keep publishing, at the pace the healthy
            // readers take, until the bridge gives up on the stalled one.
            while (sent < 1500) {
                for (let i = 0; i < 20; i++) await pub.publish('app', 'big', { payload: { n: sent++, pad } });
                await Promise.all(fast.map((r) => r.waitFor((x) => x.frames.length >= sent, { timeoutMs: 30000 })));
                const m = await bridge.metrics();
                if (m.mqpush_bridge_slow_clients_dropped_total > dropped0) break;
                await sleep(100);
            }
            const m = await bridge.metrics();
            assert.equal(m.mqpush_bridge_slow_clients_dropped_total, dropped0 + 1, `after ${sent} events of 32 KiB`);
            await Promise.all(fast.map((r) => r.waitEvents(sent, { timeoutMs: 60000 })));
            for (const r of fast) assert.deepEqual(r.events().map((e) => e.payload.n), [...Array(sent).keys()]);
            stalled.resume(); // let the kernel deliver the close
            const deadline = Date.now() + 10000;
            while (!stalledClosed && Date.now() < deadline) await sleep(20);
            assert.ok(stalledClosed, 'the stalled connection was closed by the bridge');
        } finally {
            fast.forEach((r) => r.close());
            stalled.destroy();
        }
    });
});

describe('broker restart', () => {
    test('clients stay connected and receive events published once the link is back', async () => {
        const readers = await openMany(20, '/stream/v1/streams/steady?tenant=t');
        try {
            await pub.publish('app', 'steady', { payload: { phase: 'before' } });
            await Promise.all(readers.map((r) => r.waitEvents(1)));
            await pub.end();
            await w.broker.stop();
            const start = Date.now();
            while ((await bridge.metrics()).mqpush_bridge_broker_up !== 0 && Date.now() - start < 10000) await sleep(20);
            await sleep(500);
            await w.broker.start({ samePort: true });
            await bridge.waitHealthy({ timeoutMs: 40000 });
            pub = await publisher(w, 't');
            // The bridge subscribed again on reconnect: wait until an event makes it through.
            await pub.publish('app', 'steady', { payload: { phase: 'after' } });
            await Promise.all(readers.map((r) => r.waitEvents(2, { timeoutMs: 20000 })));
            for (const r of readers) {
                assert.equal(r.ended, false, 'still connected');
                assert.deepEqual(r.events().map((e) => e.payload.phase), ['before', 'after']);
            }
        } finally {
            readers.forEach((r) => r.close());
        }
    });
});
