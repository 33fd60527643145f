// UnifiedPush, the push provider side (SERV 1.0.1): distributors create endpoints with their
// token; application servers POST to them. Exact bytes (zero bytes, invalid UTF-8) reach npm
// mqtt and npm eventsource as distributors; another user can neither subscribe to the owner's
// topic nor read the owner's stream; 400/413/404/429 (+Retry-After); the discovery GET; a
// distributor that connects late gets what came while it was away (MQTT persistent session,
// SSE replay from the store) and acknowledges; a deleted endpoint answers 404.
// Everything runs on loopback.
import assert from 'node:assert/strict';
import http from 'node:http';
import { after, before, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { EventSource } from 'eventsource';
import { Bridge, request, shutdown } from './lib/bridge.mjs';
import { connect, end, subscribe } from './lib/mqtt.mjs';
import { SseReader } from './lib/sse.mjs';
import { stream } from './lib/streams.mjs';
import { createWorld } from './lib/world.mjs';

let w;
let bridge;
let alice;
let bob;

before(async () => {
    w = await createWorld({ label: 'up-provider', tenants: { t: { streams: [stream('news', { publicSubscribe: true })] } } });
    bridge = await new Bridge(w, {
        extra: { unifiedpush: { enabled: false, provider: { rate_per_min: 600, burst: 50, max_endpoints: 3 } } },
    }).start();
    alice = await w.token('t', { sub: 'alice', ttl: 600 });
    bob = await w.token('t', { sub: 'bob', roles: ['stream-listener'], ttl: 600 });
});

after(async () => {
    await shutdown({ bridge, world: w });
});

const auth = (tok) => ({ authorization: `Bearer ${tok}` });

function api(path, tok, { method = 'GET', json } = {}) {
    const body = json === undefined ? undefined : JSON.stringify(json);
    const headers = { ...(tok ? auth(tok) : {}), ...(body ? { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) } : {}) };
    if (method === 'POST' && !body) headers['content-length'] = 0;
    return request(bridge.port, path, { method, headers, body });
}

async function newEndpoint(tok) {
    const r = await api('/api/unifiedpush/endpoints', tok, { method: 'POST' });
    assert.equal(r.status, 201, r.body);
    return JSON.parse(r.body);
}

/** POST raw bytes (a Buffer) to an endpoint URL path; resolves {status, headers, body}. */
function push(path, bytes, extraHeaders = {}) {
    return new Promise((resolve, reject) => {
        const req = http.request(
            { host: '127.0.0.1', port: bridge.port, path, method: 'POST', headers: { 'content-length': bytes.length, 'content-type': 'application/octet-stream', ...extraHeaders } },
            (res) => {
                let text = '';
                res.on('data', (d) => (text += d));
                res.on('end', () => resolve({ status: res.statusCode, headers: res.headers, body: text }));
            },
        );
        req.on('error', reject);
        req.end(bytes);
    });
}

const pathOf = (ep) => new URL(ep.endpoint).pathname;
const binary = Buffer.from([0x00, 0x01, 0xff, 0xfe, 0xc3, 0x28, 0x00, 0x80, 0x41]);

async function until(pred, what, timeoutMs = 10000) {
    const deadline = Date.now() + timeoutMs;
    while (!(await pred())) {
        if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
        await sleep(20);
    }
}

function decoded(frames) {
    return frames.map((f) => ({ id: Number(f.id), ...JSON.parse(f.data) })).map((d) => ({ ...d, bytes: Buffer.from(d.body, 'base64') }));
}

describe('endpoints', () => {
    test('create, list, discovery GET, delete; unguessable and short URLs', async () => {
        const a = await newEndpoint(alice);
        const b = await newEndpoint(alice);
        assert.match(a.id, /^[A-Za-z0-9_-]{24}$/);
        assert.notEqual(a.id, b.id);
        assert.ok(Buffer.byteLength(a.endpoint) < 1000);
        assert.equal(a.endpoint, `http://127.0.0.1:${bridge.port}/up/${a.id}`);
        assert.match(a.topic, new RegExp(`^t/~unifiedpush/[A-Za-z0-9_-]{43}/${a.id}$`));
        const list = JSON.parse((await api('/api/unifiedpush/endpoints', alice)).body).endpoints.map((e) => e.id);
        assert.ok(list.includes(a.id) && list.includes(b.id));
        // bob sees none of alice's
        const bl = JSON.parse((await api('/api/unifiedpush/endpoints', bob)).body).endpoints;
        assert.equal(bl.length, 0);
        const d = await request(bridge.port, pathOf(a));
        assert.equal(d.status, 200);
        assert.deepEqual(JSON.parse(d.body), { unifiedpush: { version: 1 } });
        // only the owner deletes
        assert.equal((await api(`/api/unifiedpush/endpoints/${a.id}`, bob, { method: 'DELETE' })).status, 404);
        assert.equal((await api(`/api/unifiedpush/endpoints/${a.id}`, alice, { method: 'DELETE' })).status, 204);
        assert.equal((await request(bridge.port, pathOf(a))).status, 404);
        assert.equal((await push(pathOf(a), Buffer.from('x'))).status, 404);
        assert.equal((await api(`/api/unifiedpush/endpoints/${b.id}`, alice, { method: 'DELETE' })).status, 204);
    });

    test('a token is required, with a sub; the per-user limit holds', async () => {
        assert.equal((await api('/api/unifiedpush/endpoints', null, { method: 'POST' })).status, 401);
        const nosub = await w.token('t', { ttl: 600 });
        assert.equal((await api('/api/unifiedpush/endpoints', nosub, { method: 'POST' })).status, 403);
        const carol = await w.token('t', { sub: 'carol', ttl: 600 });
        for (let i = 0; i < 3; i++) await newEndpoint(carol);
        const r = await api('/api/unifiedpush/endpoints', carol, { method: 'POST' });
        assert.equal(r.status, 409, r.body);
    });
});

describe('messages', () => {
    test('400 empty, 413 over 4000 bytes, 404 unknown id, 202 for 1 and 4000 bytes', async () => {
        const e = await newEndpoint(alice);
        assert.equal((await push(pathOf(e), Buffer.alloc(0))).status, 400);
        assert.equal((await push(pathOf(e), Buffer.alloc(4001, 1))).status, 413);
        assert.equal((await push('/up/AAAAAAAAAAAAAAAAAAAAAAAA', Buffer.from('x'))).status, 404);
        assert.equal((await push('/up/nope', Buffer.from('x'))).status, 404);
        assert.equal((await push(pathOf(e), Buffer.from('x'))).status, 202);
        assert.equal((await push(pathOf(e), Buffer.alloc(4000, 0))).status, 202);
        await api('/api/unifiedpush/endpoints/' + e.id, alice, { method: 'DELETE' });
    });

    test('exact bytes over MQTT to the owner only; bob is refused', async () => {
        const e = await newEndpoint(alice);
        const filter = e.topic.replace(/[^/]+$/, '#');
        const ma = await connect(w.port(), { username: 'alice', password: alice });
        const mb = await connect(w.port(), { username: 'bob', password: bob });
        try {
            assert.ok((await subscribe(ma, filter)) < 0x80);
            assert.ok((await subscribe(mb, filter)) >= 0x80, 'bob may not subscribe to alice\'s topic');
            assert.ok((await subscribe(mb, 't/~unifiedpush/+/#')) >= 0x80);
            assert.ok((await subscribe(mb, 't/#')) < 0x80, 'a tenant-wide filter is allowed...');
            assert.equal((await push(pathOf(e), binary)).status, 202);
            const m = await ma.inbox.next(e.topic);
            assert.deepEqual(m.payload, binary);
            await sleep(300);
            assert.equal(mb.inbox.matching((x) => x.topic.includes('~unifiedpush')).length, 0, '...but delivers none of alice\'s');
        } finally {
            await end(ma);
            await end(mb);
        }
    });

    test('exact bytes over SSE; bob reads none; ack deletes', async () => {
        const e = await newEndpoint(alice);
        // clear what earlier tests left
        const base = `http://127.0.0.1:${bridge.port}/api/unifiedpush/messages`;
        const sa = await SseReader.open(base, { headers: auth(alice) });
        const sb = await SseReader.open(base, { headers: auth(bob) });
        try {
            assert.equal(sa.status, 200);
            assert.match(sa.headers['content-type'], /text\/event-stream/);
            await sleep(200);
            const before = sa.named('unifiedpush:message').length;
            assert.equal((await push(pathOf(e), binary)).status, 202);
            assert.equal((await push(pathOf(e), Buffer.from([0]))).status, 202);
            await sa.waitFor((r) => r.named('unifiedpush:message').length >= before + 2, { what: 'two messages' });
            const got = decoded(sa.named('unifiedpush:message')).slice(before);
            assert.deepEqual(got[0].bytes, binary);
            assert.deepEqual(got[1].bytes, Buffer.from([0]));
            assert.equal(got[0].endpoint, e.id);
            assert.ok(got[1].id > got[0].id);
            await sleep(200);
            assert.equal(sb.named('unifiedpush:message').length, 0);
            const ack = await api('/api/unifiedpush/messages/ack', alice, { method: 'POST', json: { up_to: got[1].id } });
            assert.equal(ack.status, 200, ack.body);
            assert.ok(JSON.parse(ack.body).deleted >= 2);
        } finally {
            sa.close();
            sb.close();
        }
        // nothing left for alice
        const again = await SseReader.open(base, { headers: auth(alice) });
        await sleep(300);
        assert.equal(again.named('unifiedpush:message').length, 0);
        again.close();
        assert.equal((await SseReader.open(base)).status, 401);
    });

    test('a late distributor gets what came while it was away (MQTT session, EventSource)', async () => {
        const dave = await w.token('t', { sub: 'dave', ttl: 600 });
        const e = await newEndpoint(dave);
        const filter = e.topic.replace(/[^/]+$/, '#');
        const id = `dave-${process.pid}`;
        let m = await connect(w.port(), { id, username: 'dave', password: dave, clean: false, properties: { sessionExpiryInterval: 300 } });
        assert.ok((await subscribe(m, filter)) < 0x80);
        await end(m);
        const sent = [binary, Buffer.from('hello'), Buffer.from([0xff, 0x00, 0xfe])];
        for (const b of sent) assert.equal((await push(pathOf(e), b)).status, 202);
        m = await connect(w.port(), { id, username: 'dave', password: dave, clean: false, properties: { sessionExpiryInterval: 300 } });
        try {
            const got = await m.inbox.waitFor((x) => x.topic === e.topic, { count: 3 });
            assert.deepEqual(got.map((x) => x.payload), sent);
        } finally {
            await end(m);
        }
        // npm eventsource as the distributor, connecting after the messages were sent
        const url = `http://127.0.0.1:${bridge.port}/api/unifiedpush/messages`;
        const fetchWithAuth = (u, init) => fetch(u, { ...init, headers: { ...init.headers, ...auth(dave) } });
        let es = new EventSource(url, { fetch: fetchWithAuth });
        const msgs = [];
        es.addEventListener('unifiedpush:message', (ev) => msgs.push({ id: Number(ev.lastEventId), ...JSON.parse(ev.data) }));
        try {
            await until(() => msgs.length >= 3, 'three stored messages');
            assert.deepEqual(msgs.map((x) => Buffer.from(x.body, 'base64')), sent);
        } finally {
            es.close();
        }
        // Reconnecting with Last-Event-ID past the first two acknowledges them.
        const r = await SseReader.open(url, { headers: { ...auth(dave), 'last-event-id': String(msgs[1].id) } });
        await r.waitFor((x) => x.named('unifiedpush:message').length >= 1, { what: 'the third message' });
        await sleep(200);
        const rest = decoded(r.named('unifiedpush:message'));
        assert.equal(rest.length, 1);
        assert.deepEqual(rest[0].bytes, sent[2]);
        r.close();
        const bad = await SseReader.open(url, { headers: { ...auth(dave), 'last-event-id': 'x' } });
        assert.equal(bad.status, 400);
        bad.close();
    });
});

describe('rate limit', () => {
    test('over the per-endpoint burst: 429 with Retry-After; other endpoints unaffected', async () => {
        const erin = await w.token('t', { sub: 'erin', ttl: 600 });
        const e = await newEndpoint(erin);
        const other = await newEndpoint(erin);
        let limited;
        for (let i = 0; i < 60 && !limited; i++) {
            const r = await push(pathOf(e), Buffer.from(`m${i}`));
            if (r.status === 429) limited = { r, i };
            else assert.equal(r.status, 202);
        }
        assert.ok(limited, 'no 429 within 60 messages');
        assert.equal(limited.i, 50);
        assert.match(limited.r.headers['retry-after'], /^[1-9][0-9]*$/);
                assert.equal((await push(pathOf(other), Buffer.from('y'))).status, 202);
    });

    test('broker down: 503 with Retry-After and nothing kept; up again: 202', async () => {
        const frank = await w.token('t', { sub: 'frank', ttl: 600 });
        const e = await newEndpoint(frank);
        await w.broker.stop();
        try {
            await until(async () => (await request(bridge.port, '/healthz')).status === 503, 'the link to go down');
            const r = await push(pathOf(e), Buffer.from('while down'));
            assert.equal(r.status, 503, r.body);
            assert.match(r.headers['retry-after'], /^[1-9][0-9]*$/);
        } finally {
            await w.broker.start({ samePort: true });
        }
        await until(async () => (await request(bridge.port, '/healthz')).status === 200, 'the link to come back', 20000);
        assert.equal((await push(pathOf(e), Buffer.from('after'))).status, 202);
        const sse = await SseReader.open(`${bridge.url}/api/unifiedpush/messages`, { headers: auth(frank) });
        try {
            await until(() => sse.frames.some((f) => f.event === 'unifiedpush:message'), 'the message');
            await sleep(200);
            const bodies = sse.frames
                .filter((f) => f.event === 'unifiedpush:message')
                .map((f) => Buffer.from(JSON.parse(f.data).body, 'base64').toString());
            assert.deepEqual(bodies, ['after']);
        } finally {
            sse.req.destroy();
        }
    });
});
