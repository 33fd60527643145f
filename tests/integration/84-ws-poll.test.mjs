// The same streams over a plain WebSocket (npm ws) and by polling: JSON text frames in order
// with the ready control frame, refusals as close codes; {reset, items, next} polling.
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { after, before, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import WebSocket from 'ws';
import { Bridge, publisher, request, shutdown } from './lib/bridge.mjs';
import { ev, stream } from './lib/streams.mjs';
import { createWorld } from './lib/world.mjs';

let w;
let bridge;
let pub;
let reader;

before(async () => {
    w = await createWorld({
        label: 'ws-poll',
        tenants: {
            t: {
                streams: [
                    stream('open', { publicSubscribe: true, events: [ev('app', 'tick')] }),
                    stream('priv', { subscriberRoles: ['reader'], events: [ev('app', 'tick')] }),
                ],
            },
        },
    });
    bridge = await new Bridge(w).start();
    pub = await publisher(w, 't');
    reader = await w.token('t', { roles: ['reader'] });
});

after(async () => {
    await shutdown({ pub, bridge, world: w });
});

/** Open a WebSocket; collects parsed frames; resolves once open (or closed). */
async function openWs(path, headers = {}) {
    const ws = new WebSocket(`ws://127.0.0.1:${bridge.port}${path}`, { headers });
    ws.frames = [];
    ws.closed = null;
    ws.on('message', (m, isBinary) => {
        assert.equal(isBinary, false, 'text frames only');
        ws.frames.push(JSON.parse(m.toString('utf8')));
    });
    ws.on('close', (code, reason) => (ws.closed = { code, reason: reason.toString() }));
    ws.on('error', () => {});
    await Promise.race([once(ws, 'open'), once(ws, 'close')]);
    return ws;
}

async function until(pred, what, timeoutMs = 10000) {
    const deadline = Date.now() + timeoutMs;
    while (!pred()) {
        if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
        await sleep(10);
    }
}

const events = (ws) => ws.frames.filter((f) => f.namespace !== 'mqpush');

describe('WebSocket', () => {
    test('ready control frame, then one JSON text frame per event, in order', async () => {
        const ws = await openWs('/stream/v1/streams/open?tenant=t');
        try {
            await until(() => ws.frames.length >= 1, 'ready');
            assert.deepEqual(ws.frames[0], { namespace: 'mqpush', name: 'ready', cursor: null, replayed: 0 });
            for (let i = 0; i < 25; i++) await pub.publish('app', 'tick', { payload: { n: i } });
            await until(() => events(ws).length === 25, '25 events');
            assert.deepEqual(events(ws).map((e) => e.payload.n), [...Array(25).keys()]);
            for (const e of events(ws)) assert.match(e.id, /^[0-9a-f-]{36}$/);
        } finally {
            ws.close();
        }
    });

    test('a bearer header (or ?token=) opens a private stream; ?after= resumes', async () => {
        const ws = await openWs('/stream/v1/streams/priv', { authorization: `Bearer ${reader}` });
        await until(() => ws.frames.length >= 1, 'ready');
        await pub.publish('app', 'tick', { payload: { n: 'a' } });
        await pub.publish('app', 'tick', { payload: { n: 'b' } });
        await until(() => events(ws).length === 2, 'two events');
        const first = events(ws)[0].id;
        ws.close();
        const again = await openWs(`/stream/v1/streams/priv?token=${reader}&after=${first}`);
        try {
            await until(() => again.frames.some((f) => f.name === 'ready'), 'ready');
            assert.deepEqual(events(again).map((e) => e.payload.n), ['b']);
            assert.equal(again.frames.find((f) => f.name === 'ready').replayed, 1);
        } finally {
            again.close();
        }
    });

    const refusals = [
        ['no token for a private stream', '/stream/v1/streams/priv?tenant=t', {}, 4401, 'unauthorized'],
        ['a junk token', '/stream/v1/streams/priv', { authorization: 'Bearer junk' }, 4401, 'unauthorized'],
        ['no role', '/stream/v1/streams/priv', 'norole', 4403, 'forbidden'],
        ['unknown stream', '/stream/v1/streams/nope?tenant=t', {}, 4404, 'not_found'],
        ['unknown path', '/elsewhere', {}, 4404, 'not_found'],
        ['bad criteria', '/stream/v1/streams/open?tenant=t&criteria=%7B', {}, 4400, 'bad_request'],
    ];
    for (const [name, path, hdrs, code, reason] of refusals) {
        test(`refused with close code ${code}: ${name}`, async () => {
            const headers = hdrs === 'norole' ? { authorization: `Bearer ${await w.token('t', { roles: ['x'] })}` } : hdrs;
            const ws = await openWs(path, headers);
            await until(() => ws.closed !== null, 'close');
            assert.deepEqual(ws.closed, { code, reason });
            assert.equal(ws.frames.length, 0);
        });
    }
});

describe('polling', () => {
    const poll = async (q) => {
        const r = await request(bridge.port, `/stream/v1/streams/open/events?tenant=t${q}`);
        assert.equal(r.status, 200, r.body);
        return JSON.parse(r.body);
    };

    test('{reset, items, next}: from the oldest buffered, then after the cursor, top bounds the page', async () => {
        // The WebSocket tests above held this stream, so the bridge still buffers it.
        const base = await poll('&top=1000');
        assert.equal(base.reset, null);
        assert.ok(base.items.length >= 25, 'the buffered events, oldest first');
        assert.deepEqual(base.items.slice(0, 25).map((e) => e.payload.n), [...Array(25).keys()]);
        assert.equal(base.next, base.items.at(-1).id);
        for (let i = 0; i < 5; i++) await pub.publish('app', 'tick', { payload: { p: i } });
        await sleep(200);
        const page1 = await poll(`&after=${base.next}&top=3`);
        assert.equal(page1.reset, null);
        assert.deepEqual(page1.items.map((e) => e.payload.p), [0, 1, 2]);
        const page2 = await poll(`&after=${page1.next}&top=3`);
        assert.deepEqual(page2.items.map((e) => e.payload.p), [3, 4]);
        assert.equal(page2.next, page2.items.at(-1).id);
        const empty = await poll(`&after=${page2.next}`);
        assert.deepEqual(empty, { reset: null, items: [], next: page2.next });
    });

    test('an invalid cursor resets and pages from the oldest; top is validated', async () => {
        const r = await poll('&after=bogus&top=1000');
        assert.equal(r.reset, 'invalid');
        assert.ok(r.items.length > 0);
        for (const q of ['&top=0', '&top=-1', '&top=x']) {
            const bad = await request(bridge.port, `/stream/v1/streams/open/events?tenant=t${q}`);
            assert.equal(bad.status, 400, q);
        }
    });

    test('criteria narrow a poll; auth is that of the stream', async () => {
        await pub.publish('app', 'tick', { correlationId: 'poll-me' });
        await sleep(200);
        const r = await poll(`&criteria=${encodeURIComponent('{"correlationId":"poll-me"}')}`);
        assert.ok(r.items.length >= 1);
        assert.ok(r.items.every((e) => e.correlationId === 'poll-me'));
        const denied = await request(bridge.port, '/stream/v1/streams/priv/events?tenant=t');
        assert.equal(denied.status, 401);
        const ok = await request(bridge.port, '/stream/v1/streams/priv/events', {
            headers: { authorization: `Bearer ${reader}` },
        });
        assert.equal(ok.status, 200);
    });
});
