// Resuming an SSE stream: Last-Event-ID (and ?after=) brings exactly the missed events, then
// the live tail with nothing lost or doubled, even while events keep coming; cursors that
// cannot be honoured get mqpush:reset; a token that expires ends the stream with
// mqpush:reconnect.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { Bridge, publisher, shutdown } from './lib/bridge.mjs';
import { SseReader } from './lib/sse.mjs';
import { ev, stream } from './lib/streams.mjs';
import { createWorld } from './lib/world.mjs';

const REPLAY = 50;

let w;
let bridge;
let pub;
let seq = 0;

before(async () => {
    w = await createWorld({
        label: 'sse-resume',
        tenants: {
            t: {
                streams: [
                    stream('s', { publicSubscribe: true, events: [ev('app', 'tick')] }),
                    stream('p', { subscriberRoles: ['reader'], events: [ev('app', 'tick')] }),
                ],
            },
        },
        limits: { token_leeway_seconds: 0 },
    });
    bridge = await new Bridge(w, { sse: { replay_max_events: REPLAY, heartbeat_ms: 10000 } }).start();
    pub = await publisher(w, 't');
});

after(async () => {
    await shutdown({ pub, bridge, world: w });
});

const url = (extra = '') => `${bridge.url}/stream/v1/streams/s?tenant=t${extra}`;
const tick = () => pub.publish('app', 'tick', { payload: { n: ++seq } });

async function live(extraUrl = '', headers = {}) {
    const r = await SseReader.open(url(extraUrl), { headers });
    await r.waitNamed('mqpush:ready');
    return r;
}

describe('resume', () => {
    test('Last-Event-ID replays exactly the missed events, then mqpush:ready with their count', async () => {
        const first = await live();
        for (let i = 0; i < 5; i++) await tick();
        await first.waitEvents(5);
        const seen = first.events();
        first.close();
        const lastId = seen.at(-1).id;
        const missedFrom = seq + 1;
        for (let i = 0; i < 7; i++) await tick();
        await sleep(100);
        const again = await SseReader.open(url(), { headers: { 'last-event-id': lastId } });
        try {
            await again.waitNamed('mqpush:ready');
            const got = again.events().map((e) => e.payload.n);
            assert.deepEqual(got, Array.from({ length: 7 }, (_, i) => missedFrom + i));
            const ready = again.named('mqpush:ready')[0];
            assert.deepEqual(JSON.parse(ready.data), { cursor: again.events().at(-1).id, replayed: 7 });
            assert.equal(ready.id, again.events().at(-1).id, 'ready moves the last event id');
            assert.equal(again.named('mqpush:reset').length, 0);
            // The ready frame comes after the replayed events and before live ones.
            const idx = again.frames.findIndex((f) => f.event === 'mqpush:ready');
            assert.equal(again.frames.slice(0, idx).filter((f) => f.data && !f.event).length, 7);
        } finally {
            again.close();
        }
    });

    test('?after= works like Last-Event-ID (for clients that build the URL themselves)', async () => {
        const first = await live();
        await tick();
        await tick();
        await first.waitEvents(2);
        const cursor = first.events()[0].id;
        first.close();
        const again = await live(`&after=${cursor}`);
        try {
            assert.deepEqual(again.events().map((e) => e.id), [first.events()[1].id]);
        } finally {
            again.close();
        }
    });

    test('nothing lost or doubled across a reconnect while events keep coming', async () => {
        const total = 300;
        const startN = seq + 1;
        // The first connection is live before the first event, so every event is owed to it.
        let r = await SseReader.open(url());
        await r.waitNamed('mqpush:ready', { timeoutMs: 10000 });
        let stop = false;
        const producer = (async () => {
            for (let i = 0; i < total; i++) {
                await tick();
                if (i % 10 === 0) await sleep(2);
            }
            stop = true;
        })();
        const got = [];
        let cursor = null;
        // Reconnect several times mid-flow; each time resume from the last id seen.
        for (;;) {
            await sleep(30);
            for (const e of r.events()) if (e.payload.n >= startN) got.push(e.payload.n);
            // The last id the client saw: an event's, or the ready frame's.
            const lastFrameWithId = [...r.frames].reverse().find((f) => f.id);
            cursor = lastFrameWithId?.id ?? cursor;
            r.close();
            if (stop && got.length && got.at(-1) === startN + total - 1) break;
            r = await SseReader.open(url(), { headers: cursor ? { 'last-event-id': cursor } : {} });
            await r.waitNamed('mqpush:ready', { timeoutMs: 10000 });
        }
        await producer;
        assert.equal(new Set(got).size, got.length, 'no duplicates');
        assert.deepEqual(got, Array.from({ length: total }, (_, i) => startN + i), 'all, in order');
    });

    test('an invalid cursor: mqpush:reset {reason: invalid}, then the live tail', async () => {
        const r = await live('', { 'last-event-id': 'not-an-id' });
        try {
            assert.deepEqual(JSON.parse(r.named('mqpush:reset')[0].data), { reason: 'invalid' });
            await tick();
            await r.waitEvents(1);
            assert.equal(r.events()[0].payload.n, seq);
        } finally {
            r.close();
        }
    });

    test('a cursor pushed out of the replay buffer: reset {reason: expired}', async () => {
        const first = await live();
        await tick();
        await first.waitEvents(1);
        const old = first.events()[0].id;
        first.close();
        for (let i = 0; i < REPLAY + 5; i++) await tick();
        await sleep(100);
        const r = await live('', { 'last-event-id': old });
        try {
            assert.deepEqual(JSON.parse(r.named('mqpush:reset')[0].data), { reason: 'expired' });
            assert.equal(r.events().length, 0, 'no partial replay');
        } finally {
            r.close();
        }
    });

    test('a well-formed cursor never seen on this stream: reset {reason: unknown}', async () => {
        // A UUIDv7 of a moment in the future: newer than anything buffered, never published.
        const ms = (Date.now() + 3600_000).toString(16).padStart(12, '0');
        const id = `${ms.slice(0, 8)}-${ms.slice(8)}-7abc-8def-0123456789ab`;
        const r = await live('', { 'last-event-id': id });
        try {
            assert.deepEqual(JSON.parse(r.named('mqpush:reset')[0].data), { reason: 'unknown' });
        } finally {
            r.close();
        }
    });

    test('a cursor older than the bridge has held the stream: reset {reason: expired}', async () => {
        const r = await live('', { 'last-event-id': '00000000-0000-7000-8000-000000000000' });
        try {
            assert.deepEqual(JSON.parse(r.named('mqpush:reset')[0].data), { reason: 'expired' });
        } finally {
            r.close();
        }
    });
});

describe('token expiry', () => {
    test('the stream ends with mqpush:reconnect {reason: token-expired} when the token expires', async () => {
        const token = await w.token('t', { roles: ['reader'], ttl: 2 });
        const started = Date.now();
        const r = await SseReader.open(`${bridge.url}/stream/v1/streams/p`, {
            headers: { authorization: `Bearer ${token}` },
        });
        try {
            assert.equal(r.status, 200);
            await r.waitNamed('mqpush:ready');
            await r.waitNamed('mqpush:reconnect', { timeoutMs: 6000 });
            assert.deepEqual(JSON.parse(r.named('mqpush:reconnect')[0].data), { reason: 'token-expired' });
            await r.waitEnd({ timeoutMs: 3000 });
            const elapsed = Date.now() - started;
            assert.ok(elapsed >= 900 && elapsed < 5000, `ended after ${elapsed} ms`);
            // Nothing after the goodbye.
            assert.equal(r.frames.at(-1).event, 'mqpush:reconnect');
        } finally {
            r.close();
        }
    });

    test('the expired token is then refused', async () => {
        const token = await w.token('t', { roles: ['reader'], ttl: 1 });
        // exp has whole seconds and "expired" means now > exp: 2.5 s is past it in any case.
        await sleep(2500);
        const r = await SseReader.open(`${bridge.url}/stream/v1/streams/p`, {
            headers: { authorization: `Bearer ${token}` },
        });
        await r.waitEnd();
        assert.equal(r.status, 401);
        assert.equal(JSON.parse(r.raw).error, 'unauthorized');
    });
});
