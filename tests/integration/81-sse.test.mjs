// Server-Sent Events from the real bridge, read by npm eventsource and at the wire: order, bodies
// (projections included), ids, headers, the ready frame, heartbeats, per-connection criteria,
// public streams without a token, tokens in the header and in ?token=.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { EventSource } from 'eventsource';
import { Bridge, publisher, request, shutdown } from './lib/bridge.mjs';
import { expectedCopy } from './lib/expect.mjs';
import { SseReader } from './lib/sse.mjs';
import { ev, stream } from './lib/streams.mjs';
import { createWorld } from './lib/world.mjs';

const MAP = { orderId: 'payload.order.id', total: 'payload.order.total' };
const CRITERIA = { context: { region: 'eu' } };

let w;
let bridge;
let pub;
let readerToken;

before(async () => {
    w = await createWorld({
        label: 'sse',
        tenants: {
            t: {
                streams: [
                    stream('open', { publicSubscribe: true, events: [ev('app', 'tick')] }),
                    stream('orders', {
                        subscriberRoles: ['reader'],
                        events: [ev('shop', 'ordered', { map: MAP, criteria: CRITERIA }), ev('app', 'tick')],
                    }),
                ],
            },
        },
    });
    bridge = await new Bridge(w, { sse: { heartbeat_ms: 300, retry_ms: 1500 } }).start();
    pub = await publisher(w, 't');
    readerToken = await w.token('t', { roles: ['reader'], ttl: 600 });
});

after(async () => {
    await shutdown({ pub, bridge, world: w });
});

/** An EventSource that records default events and named control events. */
function openEventSource(url, init) {
    const es = new EventSource(url, init);
    es.got = [];
    es.ready = [];
    es.onmessage = (m) => es.got.push({ id: m.lastEventId, data: JSON.parse(m.data) });
    es.addEventListener('mqpush:ready', (m) => es.ready.push(JSON.parse(m.data)));
    return es;
}

async function until(pred, what, timeoutMs = 10000) {
    const deadline = Date.now() + timeoutMs;
    while (!pred()) {
        if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
        await sleep(10);
    }
}

describe('GET /stream/v1/streams/{id}', () => {
    test('a public stream needs only ?tenant=; events arrive in order as default events with their ids', async () => {
        const es = openEventSource(`${bridge.url}/stream/v1/streams/open?tenant=t`);
        try {
            await until(() => es.ready.length === 1, 'mqpush:ready');
            for (let i = 0; i < 20; i++) await pub.publish('app', 'tick', { payload: { n: i } });
            await until(() => es.got.length === 20, '20 events');
            assert.deepEqual(es.got.map((e) => e.data.payload.n), [...Array(20).keys()]);
            for (const e of es.got) {
                assert.equal(e.id, e.data.id, 'SSE id: is the event id');
                assert.equal(e.data.namespace, 'app');
                assert.equal(e.data.name, 'tick');
            }
            const ids = es.got.map((e) => e.id);
            assert.deepEqual([...ids].sort(), ids, 'ids increase');
            assert.equal(new Set(ids).size, 20);
        } finally {
            es.close();
        }
    });

    test('a private stream with a bearer header gets the projected copy; criteria of the stream apply', async () => {
        const es = openEventSource(`${bridge.url}/stream/v1/streams/orders`, {
            fetch: (input, init) =>
                fetch(input, { ...init, headers: { ...init.headers, authorization: `Bearer ${readerToken}` } }),
        });
        try {
            await until(() => es.ready.length === 1, 'mqpush:ready');
            const events = [
                { correlationId: 'c1', context: { region: 'eu' }, payload: { order: { id: 'o1', total: 10, secret: 'x' } } },
                { correlationId: 'c2', context: { region: 'us' }, payload: { order: { id: 'o2', total: 20 } } },
                { correlationId: 'c3', context: { region: 'eu' }, payload: { order: { id: 'o3', total: 30 } } },
            ];
            for (const e of events) await pub.publish('shop', 'ordered', e);
            await until(() => es.got.length >= 2, 'the two matching events');
            await sleep(100);
            const entry = { map: MAP, criteria: CRITERIA };
            const want = events.map((e) => expectedCopy(entry, e)).filter(Boolean);
            assert.deepEqual(
                es.got.map(({ data: { id, namespace, name, timestamp, ...rest } }) => rest),
                want,
            );
            assert.ok(!JSON.stringify(es.got).includes('secret'), 'the map cuts fields out');
        } finally {
            es.close();
        }
    });

    test('?token= works where headers cannot be set', async () => {
        const es = openEventSource(`${bridge.url}/stream/v1/streams/orders?token=${readerToken}`);
        try {
            await until(() => es.ready.length === 1, 'mqpush:ready');
            await pub.publish('app', 'tick', { payload: { via: 'query' } });
            await until(() => es.got.length === 1, 'one event');
            assert.equal(es.got[0].data.payload.via, 'query');
        } finally {
            es.close();
        }
    });

    test('wire format: headers, retry:, ready frame, heartbeat comments, one data line per event', async () => {
        const r = await SseReader.open(`${bridge.url}/stream/v1/streams/open?tenant=t`);
        try {
            assert.equal(r.status, 200);
            assert.match(r.headers['content-type'], /^text\/event-stream/);
            assert.equal(r.headers['cache-control'], 'no-cache');
            assert.equal(r.headers['x-accel-buffering'], 'no');
            await r.waitNamed('mqpush:ready');
            assert.equal(r.frames[0].retry, '1500', 'retry: comes first');
            const ready = JSON.parse(r.named('mqpush:ready')[0].data);
            assert.equal(typeof ready.replayed, 'number');
            assert.equal(ready.replayed, 0);
            await pub.publish('app', 'tick', { payload: { text: 'line one\nline two' } });
            await r.waitEvents(1);
            const frame = r.frames.find((f) => f.event === undefined && f.data);
            assert.ok(!frame.data.includes('\n'), 'data: is one line');
            assert.equal(JSON.parse(frame.data).payload.text, 'line one\nline two');
            await r.waitFor((x) => x.comments.length >= 2, { what: 'two heartbeats', timeoutMs: 5000 });
        } finally {
            r.close();
        }
    });

    test('?criteria= narrows one connection only', async () => {
        const narrow = await SseReader.open(
            `${bridge.url}/stream/v1/streams/open?tenant=t&criteria=${encodeURIComponent(JSON.stringify({ correlationId: 'keep' }))}`,
        );
        const wide = await SseReader.open(`${bridge.url}/stream/v1/streams/open?tenant=t`);
        try {
            await narrow.waitNamed('mqpush:ready');
            await wide.waitNamed('mqpush:ready');
            for (const c of ['drop', 'keep', 'drop', 'keep']) await pub.publish('app', 'tick', { correlationId: c });
            await wide.waitEvents(4);
            await narrow.waitEvents(2);
            await sleep(200);
            assert.deepEqual(narrow.events().map((e) => e.correlationId), ['keep', 'keep']);
            const m = await bridge.metrics();
            assert.ok(m['mqpush_bridge_deliveries_total{channel="sse",result="filtered"}'] >= 2);
        } finally {
            narrow.close();
            wide.close();
        }
    });

    test('criteria that is not JSON, or not criteria, is a 400 with a JSON body', async () => {
        for (const c of ['{bad', '"text"', '[1,2]']) {
            const r = await request(bridge.port, `/stream/v1/streams/open?tenant=t&criteria=${encodeURIComponent(c)}`);
            assert.equal(r.status, 400, c);
            assert.equal(JSON.parse(r.body).error, 'bad_request');
        }
    });

    test('open streams are counted in /metrics and released when clients leave', async () => {
        const readers = await Promise.all([1, 2, 3].map(() => SseReader.open(`${bridge.url}/stream/v1/streams/open?tenant=t`)));
        await Promise.all(readers.map((r) => r.waitNamed('mqpush:ready')));
        let m = await bridge.metrics();
        assert.ok(m['mqpush_bridge_connections{channel="sse"}'] >= 3);
        readers.forEach((r) => r.close());
        // Every other test of this file has closed its clients too: the gauge goes back to 0.
        const deadline = Date.now() + 5000;
        do {
            await sleep(50);
            m = await bridge.metrics();
        } while (m['mqpush_bridge_connections{channel="sse"}'] !== 0 && Date.now() < deadline);
        assert.equal(m['mqpush_bridge_connections{channel="sse"}'], 0);
        assert.equal(m.mqpush_bridge_consumers, 0);
    });
});
