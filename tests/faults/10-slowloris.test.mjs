// Slow clients on purpose (slowloris): a thousand connections sending their request heads (plain
// HTTP and WebSocket upgrades) a byte every two seconds are closed by lws's header timeout,
// while new requests and stream events keep their usual latency; WebSockets that dribble a frame
// a byte at a time (the plain stream ignores client messages and keeps serving them; Engine.IO
// ends them at its heartbeat timeout); a plain WebSocket reader that stops reading is dropped as
// slow while another gets every event in order.
import assert from 'node:assert/strict';
import net from 'node:net';
import { after, before, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { Bridge, publisher, shutdown } from '../integration/lib/bridge.mjs';
import { SseReader } from '../integration/lib/sse.mjs';
import { ev, stream } from '../integration/lib/streams.mjs';
import { createWorld } from '../integration/lib/world.mjs';
import { fdCount, fdsBackTo, healthz, prober, quantile, summary, until } from './lib/measure.mjs';
import { OP, RawWs, frame } from './lib/rawws.mjs';

const SLOW_HEADS = 1000;
// lws's timeout for a request head (http/server.c: timeout_secs), checked once a second
const HEAD_TIMEOUT_MS = 10000;
const PING_INTERVAL_MS = 2000;
const PING_TIMEOUT_MS = 2000;
const SEND_QUEUE = 256 * 1024;
const STREAM = '/stream/v1/streams/open?tenant=t';
// what "usual latency" allows on 2 shared cores with the sanitizers: before the fix for slow
// heads a new request waited the whole header timeout
const LATENCY_MAX_MS = 1000;

let w;
let bridge;
let pub;
let watcher;
let tick = 0;

before(async () => {
    w = await createWorld({
        label: 'f-slowloris',
        tenants: {
            t: {
                streams: [
                    stream('open', { publicSubscribe: true, events: [ev('app', 'tick')] }),
                    stream('big', { publicSubscribe: true, events: [ev('app', 'big')] }),
                ],
            },
        },
    });
    bridge = await new Bridge(w, {
        limits: { send_queue_bytes: SEND_QUEUE },
        extra: { socketio: { ping_interval_ms: PING_INTERVAL_MS, ping_timeout_ms: PING_TIMEOUT_MS } },
    }).start();
    pub = await publisher(w, 't');
    watcher = await SseReader.open(`${bridge.url}${STREAM}`);
    await watcher.waitNamed('mqpush:ready');
});

after(async () => {
    watcher?.close();
    await shutdown({ pub, bridge, world: w, timeoutMs: 60000 });
});

/** Publish one tick and wait until the SSE watcher has it; resolves the milliseconds taken. */
async function tickLatency() {
    const n = ++tick;
    const t0 = Date.now();
    await pub.publish('app', 'tick', { payload: { n } });
    await watcher.waitFor((r) => r.events().some((e) => e.payload.n === n), { what: `tick ${n}`, timeoutMs: 15000 });
    return Date.now() - t0;
}

/**
 * A connection that sends head, then one more byte every intervalMs, and notes when the bridge
 * ends it ({openedAt, endedAt}); it never closes by itself.
 */
function slowHead(head, intervalMs) {
    const s = net.connect(bridge.port, '127.0.0.1');
    const c = { sock: s, openedAt: 0, endedAt: 0, got: '' };
    s.on('connect', () => {
        c.openedAt = Date.now();
        s.write(head);
        c.timer = setInterval(() => s.write('a'), intervalMs);
    });
    s.on('data', (d) => (c.got += d.toString('latin1')));
    s.on('error', () => {});
    s.on('close', () => {
        c.endedAt = Date.now();
        clearInterval(c.timer);
    });
    return c;
}

describe('slow request heads', () => {
    test(`${SLOW_HEADS} heads sent a byte every 2 s: closed after the header timeout, nobody else waits`, async () => {
        const fds0 = fdCount(bridge.proc.pid);
        const base = [];
        for (let i = 0; i < 10; i++) base.push((await healthz(bridge.port)).ms);
        const slow = [];
        for (let i = 0; i < SLOW_HEADS; i++) {
            const head =
                i % 2 === 0
                    ? 'GET /healthz HTTP/1.1\r\nHost: x\r\nX-Pad: '
                    : `GET ${STREAM} HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 13\r\nX-Pad: `;
            slow.push(slowHead(head, 2000));
        }
        await until(() => slow.every((c) => c.openedAt || c.endedAt), 'the slow connections to open');
        const probes = prober(bridge.port, 250);
        const ticks = [];
        let fresh;
        try {
            // while they dribble: requests on new connections, events to a reader, a new stream
            for (let i = 0; i < 8; i++) {
                ticks.push(await tickLatency());
                if (i === 3) {
                    const t0 = Date.now();
                    fresh = await SseReader.open(`${bridge.url}${STREAM}`);
                    await fresh.waitNamed('mqpush:ready', { timeoutMs: 15000 });
                    fresh.readyMs = Date.now() - t0;
                }
                await sleep(800);
            }
            await until(() => slow.every((c) => c.endedAt), 'the bridge to close every slow head', HEAD_TIMEOUT_MS + 10000);
        } finally {
            fresh?.close();
            for (const c of slow) {
                clearInterval(c.timer);
                c.sock.destroy();
            }
        }
        const results = await probes.stop();
        const lat = results.map((r) => r.ms);
        const lives = slow.map((c) => c.endedAt - c.openedAt);
        console.log(`# healthz before ${summary(base)}; during ${summary(lat)}; ticks ${summary(ticks)}; new stream ready in ${fresh.readyMs} ms`);
        console.log(`# slow heads lived ${summary(lives)}`);
        assert.ok(results.every((r) => r.status === 200), `every probe answered: ${JSON.stringify(results.filter((r) => r.status !== 200))}`);
        assert.ok(quantile(lat, 1) < LATENCY_MAX_MS, `healthz during the attack: ${summary(lat)}`);
        assert.ok(quantile(ticks, 1) < LATENCY_MAX_MS, `events during the attack: ${summary(ticks)}`);
        assert.ok(fresh.readyMs < LATENCY_MAX_MS, `a new stream took ${fresh.readyMs} ms`);
        // closed by the header timeout: not before it, and not long after (lws checks each second)
        assert.ok(quantile(lives, 0) >= HEAD_TIMEOUT_MS - 1000, `closed too early: ${summary(lives)}`);
        assert.ok(quantile(lives, 1) <= HEAD_TIMEOUT_MS + 5000, `closed too late: ${summary(lives)}`);
        assert.ok(slow.every((c) => !/^HTTP\/1\.1 (200|101)/.test(c.got)), 'no slow head was served');
        const fds = await fdsBackTo(bridge, fds0);
        assert.ok(fds <= fds0 + 2, `descriptors ${fds0} before, ${fds} after`);
    });
});

describe('WebSockets that dribble a frame', () => {
    test('the plain stream keeps serving them and ignores the frame; Engine.IO ends them at its heartbeat timeout', async () => {
        const PLAIN = 100;
        const EIO = 50;
        const plain = await Promise.all(Array.from({ length: PLAIN }, () => RawWs.open(bridge.port, STREAM)));
        await Promise.all(plain.map((c) => c.waitText((t) => JSON.parse(t).name === 'ready', { what: 'ready' })));
        const eio = await Promise.all(
            Array.from({ length: EIO }, () => RawWs.open(bridge.port, '/socket.io/?EIO=4&transport=websocket')),
        );
        await Promise.all(eio.map((c) => c.waitText((t) => t[0] === '0', { what: 'the open packet' })));
        const eioOpened = Date.now();
        const plainFrame = frame(OP.TEXT, JSON.stringify({ hello: 'a frame sent one byte at a time' }));
        const eioFrame = frame(OP.TEXT, '40{"stream":"open"}'); // a CONNECT that never completes
        const probes = prober(bridge.port, 250);
        const ticks = [];
        const first = tick + 1;
        try {
            for (let i = 0; i < Math.max(plainFrame.length, 8); i++) {
                if (i < plainFrame.length) for (const c of plain) await c.write(plainFrame.subarray(i, i + 1));
                if (i < eioFrame.length - 1) for (const c of eio) await c.write(eioFrame.subarray(i, i + 1));
                if (i % 4 === 0) ticks.push(await tickLatency());
                await sleep(250);
            }
            // the frame is complete: ignored, the connection as before (a ping gets its pong)
            for (const c of plain) await c.send(OP.PING, 'still there?');
            await until(() => plain.every((c) => c.messages.some((m) => m.opcode === OP.PONG)), 'a pong on every plain WebSocket');
            ticks.push(await tickLatency());
            const want = Array.from({ length: tick - first + 1 }, (_, k) => first + k);
            await until(
                () => plain.every((c) => c.texts().map((t) => JSON.parse(t)).filter((e) => e.name === 'tick').length === want.length),
                'every tick on every plain WebSocket',
            );
            for (const c of plain) {
                assert.equal(c.ended, false, 'a plain WebSocket still open');
                const got = c.texts().map((t) => JSON.parse(t)).filter((e) => e.name === 'tick');
                assert.deepEqual(got.map((e) => e.payload.n), want, 'every event, in order');
            }
            await until(() => eio.every((c) => c.ended), 'the Engine.IO sessions to end', 15000);
        } finally {
            for (const c of [...plain, ...eio]) c.destroy();
        }
        const lat = (await probes.stop()).map((r) => r.ms);
        const eioLives = eio.map((c) => c.closedAt - eioOpened);
        console.log(`# healthz ${summary(lat)}; ticks ${summary(ticks)}; Engine.IO dribblers ended after ${summary(eioLives)}`);
        assert.ok(quantile(lat, 1) < LATENCY_MAX_MS, summary(lat));
        assert.ok(quantile(ticks, 1) < LATENCY_MAX_MS, summary(ticks));
        // no pong: the session ends pingInterval + pingTimeout after the open packet, with a close
        for (const c of eio) assert.equal(c.close?.code, 1000, `Engine.IO close: ${JSON.stringify(c.close)}`);
        assert.ok(quantile(eioLives, 0) >= PING_INTERVAL_MS + PING_TIMEOUT_MS - 500, summary(eioLives));
        assert.ok(quantile(eioLives, 1) <= PING_INTERVAL_MS + PING_TIMEOUT_MS + 4000, summary(eioLives));
    });
});

describe('a WebSocket reader that never reads', () => {
    test('dropped once its backlog stays over send_queue_bytes; another reader gets every event in order', async () => {
        const path = '/stream/v1/streams/big?tenant=t';
        const stalled = await RawWs.open(bridge.port, path, { pauseAfterOpen: true });
        const healthy = await RawWs.open(bridge.port, path);
        await healthy.waitText((t) => JSON.parse(t).name === 'ready', { what: 'ready' });
        const dropped0 = (await bridge.metrics()).mqpush_bridge_slow_clients_dropped_total;
        const pad = 'x'.repeat(32 * 1024);
        const sentAt = [];
        const gotAt = [];
        const events = () => healthy.texts().map((t) => JSON.parse(t)).filter((e) => e.name === 'big');
        healthy.sock.on('data', () => {
            const n = events().length;
            while (gotAt.length < n) gotAt.push(Date.now());
        });
        let dropped = false;
        try {
            // loopback socket buffers hold megabytes: publish at the healthy reader's pace until
            // the bridge gives up on the stalled one
            while (!dropped && sentAt.length < 1500) {
                for (let i = 0; i < 20; i++) {
                    sentAt.push(Date.now());
                    await pub.publish('app', 'big', { payload: { n: sentAt.length - 1, pad } });
                }
                await until(() => events().length >= sentAt.length, `${sentAt.length} events at the healthy reader`, 15000);
                dropped = (await bridge.metrics()).mqpush_bridge_slow_clients_dropped_total > dropped0;
            }
            assert.ok(dropped, `not dropped after ${sentAt.length} events of 32 KiB`);
            // it is gone: reading again finds the end of the connection
            stalled.sock.resume();
            await until(() => stalled.ended, 'the stalled connection to be closed');
            for (let i = 0; i < 5; i++) {
                sentAt.push(Date.now());
                await pub.publish('app', 'big', { payload: { n: sentAt.length - 1, pad } });
            }
            await until(() => events().length >= sentAt.length, 'the events after the drop');
        } finally {
            stalled.destroy();
            healthy.destroy();
        }
        const lat = gotAt.map((t, i) => t - sentAt[i]);
        console.log(`# stalled reader dropped after ${sentAt.length - 5} events of 32 KiB; the other's latency ${summary(lat)}`);
        assert.deepEqual(events().map((e) => e.payload.n), [...sentAt.keys()], 'every event once, in order');
        assert.equal((await bridge.metrics()).mqpush_bridge_slow_clients_dropped_total, dropped0 + 1);
        assert.ok(quantile(lat, 0.99) < LATENCY_MAX_MS, summary(lat));
    });
});
