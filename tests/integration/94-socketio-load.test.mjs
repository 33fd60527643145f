// socket.io under load: 1,000 concurrent socket.io-client WebSocket clients each get every
// event, in order, with the same ids; long-polling clients too; a client that stops reading is
// dropped once its backlog passes limits.send_queue_bytes, while the others keep receiving
// every event promptly.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { Bridge, publisher, shutdown } from './lib/bridge.mjs';
import { EioWs, closeSocket, connected, sio, until } from './lib/sio.mjs';
import { SseReader } from './lib/sse.mjs';
import { ev, stream } from './lib/streams.mjs';
import { createWorld } from './lib/world.mjs';

const CLIENTS = 1000;
const POLLERS = 100;
const EVENTS = 100;
const SEND_QUEUE = 256 * 1024;

let w;
let bridge;
let pub;
const keepers = [];

before(async () => {
    w = await createWorld({
        label: 'socketio-load',
        tenants: {
            t: {
                streams: [
                    stream('many', { publicSubscribe: true, events: [ev('app', 'tick')] }),
                    stream('big', { publicSubscribe: true, events: [ev('app', 'big')] }),
                ],
            },
        },
    });
    bridge = await new Bridge(w, { limits: { send_queue_bytes: SEND_QUEUE, max_connections: 5000 } }).start();
    pub = await publisher(w, 't');
    for (const s of ['many', 'big']) {
        const r = await SseReader.open(`${bridge.url}/stream/v1/streams/${s}?tenant=t`);
        keepers.push(r);
        await r.waitNamed('mqpush:ready');
    }
});

after(async () => {
    keepers.forEach((r) => r.close());
    await shutdown({ pub, bridge, world: w, timeoutMs: 60000 });
});

async function openMany(n, path, opts) {
    const sockets = [];
    try {
        for (let i = 0; i < n; i += 100) {
            const batch = Array.from({ length: Math.min(100, n - i) }, () => sio(bridge, path, opts));
            sockets.push(...batch);
            await Promise.all(batch.map((s) => connected(s, 30000)));
        }
    } catch (e) {
        sockets.forEach(closeSocket);
        throw e;
    }
    return sockets;
}

function checkAll(sockets, n, label) {
    const want = [...Array(n).keys()];
    let ids = null;
    for (const [i, s] of sockets.entries()) {
        const got = s.got.filter((g) => g.event === 'app:tick');
        assert.deepEqual(got.map((g) => g.data.payload.n), want, `${label} client ${i}: all, once, in order`);
        const these = got.map((g) => g.offset);
        assert.deepEqual(these, got.map((g) => g.data.id));
        if (ids) assert.deepEqual(these, ids, 'every client sees the same ids');
        ids = these;
    }
    assert.equal(new Set(ids).size, n);
}

describe('load', () => {
    test(`${CLIENTS} WebSocket clients each receive ${EVENTS} events, in order, none lost or doubled`, async () => {
        const t0 = Date.now();
        const sockets = await openMany(CLIENTS, '/t?stream=many', { transports: ['websocket'] });
        const connectedMs = Date.now() - t0;
        try {
            const m0 = await bridge.metrics();
            assert.ok(m0['mqpush_bridge_connections{channel="socketio"}'] >= CLIENTS, JSON.stringify(m0));
            const t1 = Date.now();
            for (let i = 0; i < EVENTS; i++) await pub.publish('app', 'tick', { payload: { n: i } });
            await until(() => sockets.every((s) => s.got.length >= EVENTS), `${EVENTS} events on every client`, 40000);
            const deliveredMs = Date.now() - t1;
            await sleep(200);
            checkAll(sockets, EVENTS, 'websocket');
            console.log(`# ${CLIENTS} clients connected in ${connectedMs} ms; ${EVENTS} events to all in ${deliveredMs} ms`);
        } finally {
            sockets.forEach(closeSocket);
        }
    });

    test(`${POLLERS} long-polling clients each receive ${EVENTS} events, in order`, async () => {
        const sockets = await openMany(POLLERS, '/t?stream=many', { transports: ['polling'] });
        try {
            for (let i = 0; i < EVENTS; i++) await pub.publish('app', 'tick', { payload: { n: i } });
            await until(() => sockets.every((s) => s.got.length >= EVENTS), `${EVENTS} events on every poller`, 30000);
            await sleep(200);
            checkAll(sockets, EVENTS, 'polling');
        } finally {
            sockets.forEach(closeSocket);
        }
    });

    test('a client that stops reading is dropped as slow; the others get every event promptly', async () => {
        // A wire-level client that joins the namespace and then never reads again.
        const stalled = await EioWs.open(bridge.port, { autoPong: false });
        await stalled.openPacket();
        assert.equal((await stalled.join('/t', { stream: 'big' })).type, 0);
        stalled.ws._socket.pause();
        const fast = await openMany(3, '/t?stream=big', { transports: ['websocket'] });
        const dropped0 = (await bridge.metrics()).mqpush_bridge_slow_clients_dropped_total;
        const pad = 'x'.repeat(32 * 1024);
        const sentAt = [];
        let sent = 0;
        let worst = 0;
        try {
            // Loopback socket buffers hold megabytes: keep publishing, at the pace the healthy
            // clients take, until the bridge gives up on the stalled one.
            while (sent < 1500) {
                for (let i = 0; i < 20; i++) {
                    await pub.publish('app', 'big', { payload: { n: sent, pad } });
                    sentAt[sent++] = Date.now();
                }
                await until(() => fast.every((s) => s.got.length >= sent), `${sent} events on the fast clients`, 10000);
                const m = await bridge.metrics();
                if (m.mqpush_bridge_slow_clients_dropped_total > dropped0) break;
            }
            for (const s of fast)
                for (const g of s.got) worst = Math.max(worst, g.at - sentAt[g.data.payload.n]);
            const m = await bridge.metrics();
            assert.equal(m.mqpush_bridge_slow_clients_dropped_total, dropped0 + 1, `after ${sent} events of 32 KiB`);
            // A few more after the drop: still everything, promptly.
            for (let i = 0; i < 5; i++) {
                await pub.publish('app', 'big', { payload: { n: sent, pad } });
                sentAt[sent++] = Date.now();
            }
            await until(() => fast.every((s) => s.got.length >= sent), 'the events after the drop', 10000);
            for (const s of fast) {
                assert.deepEqual(s.got.map((g) => g.data.payload.n), [...Array(sent).keys()]);
                assert.equal(s.connected, true);
                for (const g of s.got) worst = Math.max(worst, g.at - sentAt[g.data.payload.n]);
            }
            console.log(`# stalled client dropped after ${sent - 5} events of 32 KiB; worst latency of the others ${worst} ms`);
            assert.ok(worst < 2000, `an event took ${worst} ms to reach a healthy client`);
            stalled.ws._socket.resume(); // let the kernel deliver the close
            await stalled.waitClosed(10000);
        } finally {
            fast.forEach(closeSocket);
            stalled.close();
        }
    });
});
