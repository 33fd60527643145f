// UnifiedPush, the push provider's messages on socket.io (docs/unifiedpush.md, "socket.io"):
// a distributor joins its tenant's namespace with auth {token, unifiedpush: true} (or
// ?unifiedpush=1) and gets "unifiedpush:message" events, [{endpoint, id}, <the bytes>], the
// bytes as a binary attachment. Exact bytes (zero bytes, invalid UTF-8) over WebSocket and long
// polling; another user's socket gets nothing; a late socket gets what was stored; the ack
// callback deletes; auth.after acknowledges; refusals; stream sockets on the same namespace
// keep working. npm socket.io-client as the distributor, everything on loopback.
import assert from 'node:assert/strict';
import http from 'node:http';
import { after, before, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { Bridge, publisher, request, shutdown } from './lib/bridge.mjs';
import { closeSocket, connected, eventsNamed, refused, sio, until } from './lib/sio.mjs';
import { SseReader } from './lib/sse.mjs';
import { ev, stream } from './lib/streams.mjs';
import { createWorld } from './lib/world.mjs';

const EVENT = 'unifiedpush:message';
let w;
let bridge;
let pub;
let alice;
let bob;

before(async () => {
    w = await createWorld({
        label: 'up-sio',
        tenants: { t: { streams: [stream('news', { publicSubscribe: true, events: [ev('app', 'news')] })] }, u: { streams: [stream('x')] } },
    });
    bridge = await new Bridge(w, {
        extra: { unifiedpush: { enabled: false, provider: { rate_per_min: 6000, burst: 500 } } },
    }).start();
    pub = await publisher(w, 't');
    alice = await w.token('t', { sub: 'alice', ttl: 600 });
    bob = await w.token('t', { sub: 'bob', ttl: 600 });
});

after(async () => {
    await shutdown({ pub, bridge, world: w });
});

const auth = (tok) => ({ authorization: `Bearer ${tok}` });

async function newEndpoint(tok) {
    const r = await request(bridge.port, '/api/unifiedpush/endpoints', { method: 'POST', headers: { ...auth(tok), 'content-length': 0 } });
    assert.equal(r.status, 201, r.body);
    return JSON.parse(r.body);
}

function push(ep, bytes) {
    return new Promise((resolve, reject) => {
        const req = http.request(
            { host: '127.0.0.1', port: bridge.port, path: new URL(ep.endpoint).pathname, method: 'POST', headers: { 'content-length': bytes.length } },
            (res) => {
                res.resume();
                res.on('end', () => resolve(res.statusCode));
            },
        );
        req.on('error', reject);
        req.end(bytes);
    });
}

/** A distributor socket; its messages as {meta, bytes, ack} in socket.up. */
function distributor(tok, opts = {}, query = '') {
    const s = sio(bridge, `/t${query}`, { auth: tok === undefined ? { unifiedpush: true } : { token: tok, unifiedpush: true }, ...opts });
    s.up = [];
    s.on(EVENT, (meta, bytes, ack) => s.up.push({ meta, bytes, ack }));
    return s;
}

const binary = Buffer.from([0x00, 0x01, 0xff, 0xfe, 0xc3, 0x28, 0x00, 0x80, 0x41]);

describe('unifiedpush over socket.io', () => {
    test('exact bytes as binary attachments over WebSocket and polling; bob gets nothing', async () => {
        const e = await newEndpoint(alice);
        const ws = distributor(alice, { transports: ['websocket'] });
        const poll = distributor(alice, { transports: ['polling'] });
        const b = distributor(bob);
        try {
            await Promise.all([connected(ws), connected(poll), connected(b)]);
            await sleep(200);
            const sent = [binary, Buffer.from([0]), Buffer.alloc(4000, 0xff), Buffer.from('plain text')];
            for (const x of sent) assert.equal(await push(e, x), 202);
            for (const s of [ws, poll]) {
                await until(() => s.up.length >= sent.length, `${sent.length} messages on ${s.io.engine.transport.name}`);
                assert.equal(s.up.length, sent.length);
                for (let i = 0; i < sent.length; i++) {
                    assert.ok(Buffer.isBuffer(s.up[i].bytes), 'a Buffer, not a string');
                    assert.deepEqual(s.up[i].bytes, sent[i]);
                    assert.equal(s.up[i].meta.endpoint, e.id);
                    assert.equal(typeof s.up[i].ack, 'function', 'each event asks for an ack');
                }
                assert.ok(s.up.every((m, i) => i === 0 || m.meta.id > s.up[i - 1].meta.id));
            }
            assert.deepEqual(ws.up.map((m) => m.meta.id), poll.up.map((m) => m.meta.id));
            await sleep(300);
            assert.equal(b.up.length, 0, 'bob got none of alice\'s messages');
            assert.equal(eventsNamed(b, EVENT).length, 0);
        } finally {
            for (const s of [ws, poll, b]) closeSocket(s);
        }
    });

    test('a late socket gets what was stored; the ack callback deletes', async () => {
        const carol = await w.token('t', { sub: 'carol', ttl: 600 });
        const e = await newEndpoint(carol);
        const sent = [binary, Buffer.from('two'), Buffer.from([0xc0, 0xaf, 0x00])];
        for (const x of sent) assert.equal(await push(e, x), 202);
        let s = distributor(carol);
        try {
            await connected(s);
            await until(() => s.up.length >= 3, 'the three stored messages');
            assert.deepEqual(s.up.map((m) => m.bytes), sent);
            // a live one after the replay
            assert.equal(await push(e, Buffer.from('live')), 202);
            await until(() => s.up.length >= 4, 'the live message');
            assert.deepEqual(s.up[3].bytes, Buffer.from('live'));
            // acknowledging the second deletes the first two
            s.up[1].ack();
        } finally {
            closeSocket(s);
        }
        await sleep(200);
        s = distributor(carol);
        try {
            await connected(s);
            await until(() => s.up.length >= 2, 'what was not acknowledged');
            await sleep(200);
            assert.deepEqual(s.up.map((m) => m.bytes), [sent[2], Buffer.from('live')]);
            s.up[1].ack();
        } finally {
            closeSocket(s);
        }
        await sleep(200);
        // nothing left, on socket.io or on the SSE stream
        s = distributor(carol);
        const sse = await SseReader.open(`${bridge.url}/api/unifiedpush/messages`, { headers: auth(carol) });
        try {
            await connected(s);
            await sleep(400);
            assert.equal(s.up.length, 0);
            assert.equal(sse.named(EVENT).length, 0);
        } finally {
            closeSocket(s);
            sse.close();
        }
    });

    test('auth.after acknowledges what came before; ?unifiedpush=1 with ?token=', async () => {
        const dave = await w.token('t', { sub: 'dave', ttl: 600 });
        const e = await newEndpoint(dave);
        for (const x of ['a', 'b', 'c']) assert.equal(await push(e, Buffer.from(x)), 202);
        let s = distributor(dave);
        let ids;
        try {
            await connected(s);
            await until(() => s.up.length >= 3, 'three messages');
            ids = s.up.map((m) => m.meta.id);
        } finally {
            closeSocket(s);
        }
        s = sio(bridge, `/t?unifiedpush=1&token=${dave}`, { auth: { after: String(ids[0]) } });
        s.up = [];
        s.on(EVENT, (meta, bytes) => s.up.push({ meta, bytes }));
        try {
            await connected(s);
            await until(() => s.up.length >= 2, 'the two after the first');
            await sleep(200);
            assert.deepEqual(s.up.map((m) => m.bytes.toString()), ['b', 'c']);
        } finally {
            closeSocket(s);
        }
        // the first is gone for good
        s = distributor(dave, { auth: { token: dave, unifiedpush: true, after: 0 } });
        try {
            await connected(s);
            await until(() => s.up.length >= 2, 'b and c again');
            await sleep(200);
            assert.deepEqual(s.up.map((m) => m.bytes.toString()), ['b', 'c']);
        } finally {
            closeSocket(s);
        }
    });

    test('refusals: no token, no sub, another tenant, a bad after', async () => {
        const nosub = await w.token('t', { ttl: 600 });
        const other = await w.token('u', { sub: 'alice', ttl: 600 });
        const cases = [
            [() => distributor(undefined), 'auth_required'],
            [() => distributor(nosub), 'forbidden'],
            [() => distributor(other), 'forbidden'],
            [() => distributor(alice, { auth: { token: alice, unifiedpush: true, after: 'x' } }), 'bad_request'],
            [() => distributor('not-a-token'), 'auth_failed'],
        ];
        for (const [open, code] of cases) {
            const s = open();
            try {
                const e = await refused(s);
                assert.equal(e.data?.code, code, e.message);
            } finally {
                closeSocket(s);
            }
        }
    });

    test('a stream socket on the same namespace is not affected', async () => {
        const e = await newEndpoint(alice);
        const up = distributor(alice);
        const news = sio(bridge, '/t?stream=news');
        try {
            await Promise.all([connected(up), connected(news)]);
            await pub.publish('app', 'news', { payload: { n: 1 } });
            assert.equal(await push(e, Buffer.from('x')), 202);
            await until(() => eventsNamed(news, 'app:news').length >= 1, 'the stream event');
            await until(() => up.up.some((m) => m.meta.endpoint === e.id), 'the push message');
            await sleep(200);
            assert.equal(eventsNamed(news, EVENT).length, 0);
            assert.equal(up.got.filter((g) => g.event !== EVENT).length, 0);
        } finally {
            closeSocket(up);
            closeSocket(news);
        }
    });
});
