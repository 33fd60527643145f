// UnifiedPush, the application-server side: registrations through the bridge's API (bound to
// the token like Web Push subscriptions), the SERV 1.0.1 discovery GET, plain and Web Push
// form deliveries to a scripted provider on loopback (allowed by outbound.allow), and the
// provider's answers: 2xx, 3xx (not followed), 400, 404, 413 (once more compact), 429 per
// endpoint with and without Retry-After, 5xx. A second bridge with an empty allow-list shows the
// SSRF guard refusing registrations.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { Bridge, publisher, request, shutdown } from './lib/bridge.mjs';
import { PushService, userAgent, verifyVapid } from './lib/pushservice.mjs';
import { ev, stream } from './lib/streams.mjs';
import { createWorld } from './lib/world.mjs';

let w;
let bridge;
let closed;
let pub;
let ps;
let token;

before(async () => {
    w = await createWorld({
        label: 'unifiedpush',
        tenants: { t: { streams: [stream('alerts', { subscriberRoles: ['reader'], events: [ev('app', 'alert')] })] } },
    });
    ps = await new PushService().start();
    bridge = await new Bridge(w, {
        extra: {
            outbound: { allow: ['127.0.0.0/8'] },
            webpush: { subject: 'mailto:ops@mqpush.test', streams: [] },
            unifiedpush: { retry_min_ms: 100, retry_max_ms: 400, streams: [{ tenant: 't', stream: 'alerts', default: true }] },
        },
    }).start();
    closed = await new Bridge(w, {
        name: 'closed',
        extra: { outbound: { allow: [] }, unifiedpush: { streams: [{ tenant: 't', stream: 'alerts', default: true }] } },
    }).start();
    pub = await publisher(w, 't');
    token = await w.token('t', { sub: 'u1', sid: 's1', roles: ['reader'], ttl: 600 });
});

after(async () => {
    await ps?.close();
    await closed?.stop().catch(() => {});
    closed?.kill();
    await shutdown({ pub, bridge, world: w });
});

function register(b, body, method = 'POST', tok = token) {
    const text = JSON.stringify(body);
    return request(b.port, '/api/unifiedpush/register', {
        method,
        headers: { authorization: `Bearer ${tok}`, 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) },
        body: text,
    });
}

async function until(pred, what, timeoutMs = 10000) {
    const deadline = Date.now() + timeoutMs;
    while (!(await pred())) {
        if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
        await sleep(20);
    }
}

const posts = (path) => ps.to(path).filter((r) => r.method === 'POST');
const bodyOf = (r) => JSON.parse(r.body.toString());
let n = 0;
async function send(payload) {
    const key = `e${++n}`;
    await pub.publish('app', 'alert', { payload: { key, ...payload } });
    return key;
}

describe('registration', () => {
    test('SERV 1.0.1: a discovery GET first, then 201; again 201; DELETE 204', async () => {
        const e = ps.endpoint('reg-1');
        const r = await register(bridge, { endpoint: e });
        assert.equal(r.status, 201, r.body);
        const gets = ps.to('/push/reg-1').filter((q) => q.method === 'GET');
        assert.equal(gets.length, 1);
        assert.equal((await register(bridge, { endpoint: e })).status, 201);
        assert.equal((await register(bridge, { endpoint: e }, 'DELETE')).status, 204);
        assert.equal((await register(bridge, { endpoint: e }, 'DELETE')).status, 404);
    });

    test('discovery answers other than the exact document: 400, nothing registered', async () => {
        // The redirect points at another service on another loopback port (allowed by
        // outbound.allow): not following it must mean that service hears nothing at all.
        const elsewhere = await new PushService().start();
        try {
            await refusedDiscoveries(elsewhere);
        } finally {
            await elsewhere.close();
        }
    });

    async function refusedDiscoveries(elsewhere) {
        assert.notEqual(elsewhere.port, ps.port);
        elsewhere.answer('/push/target', { status: 200, body: '{"unifiedpush":{"version":1}}' });
        const cases = [
            ['bad-json', { status: 200, body: '{"unifiedpush":{"version":2}}' }],
            ['extra', { status: 200, body: '{"unifiedpush":{"version":1},"x":1}' }],
            ['notfound', { status: 404, body: '{"unifiedpush":{"version":1}}' }],
            ['garbage', { status: 200, body: 'hello' }],
            ['moved', { status: 301, headers: { location: elsewhere.endpoint('target') } }],
        ];
        for (const [id, answer] of cases) {
            ps.answer(`/push/${id}`, answer);
            const r = await register(bridge, { endpoint: ps.endpoint(id) });
            assert.equal(r.status, 400, `${id}: ${r.body}`);
            assert.equal(JSON.parse(r.body).error, 'invalid_endpoint');
        }
        assert.equal(elsewhere.requests.length, 0, 'the redirect was not followed');
        assert.equal(ps.to('/push/target').length, 0);
        assert.equal((await register(bridge, { endpoint: ps.endpoint('bad-json') }, 'DELETE')).status, 404);
    }

    test('no token 401; malformed bodies 400; another user cannot remove it', async () => {
        const r = await request(bridge.port, '/api/unifiedpush/register', {
            method: 'POST',
            headers: { 'content-type': 'application/json', 'content-length': 2 },
            body: '{}',
        });
        assert.equal(r.status, 401);
        for (const body of [{}, { endpoint: 5 }, { endpoint: ps.endpoint('x'), keys: { p256dh: 'AAAA', auth: 'BBBB' } }, { endpoint: 'ftp://127.0.0.1/x' }])
            assert.equal((await register(bridge, body)).status, 400, JSON.stringify(body));
        const e = ps.endpoint('owned');
        assert.equal((await register(bridge, { endpoint: e })).status, 201);
        const other = await w.token('t', { sub: 'u2', roles: ['reader'], ttl: 600 });
        assert.equal((await register(bridge, { endpoint: e }, 'DELETE', other)).status, 404);
        assert.equal((await register(bridge, { endpoint: e }, 'DELETE')).status, 204);
    });

    test('the SSRF guard with an empty allow-list: loopback in every spelling, long and odd URLs', async () => {
        for (const e of [
            `http://127.0.0.1:${ps.port}/push/x`,
            'https://127.1/x',
            'https://2130706433/x',
            'https://0x7f000001/x',
            'https://[::1]/x',
            'https://[::ffff:127.0.0.1]/x',
            'https://localhost/x',
            `https://example.com/${'a'.repeat(1000)}`,
            'file:///etc/passwd',
            'ftp://127.0.0.1/x',
        ]) {
            const r = await register(closed, { endpoint: e });
            assert.equal(r.status, 400, `${e}: ${r.body}`);
        }
        assert.equal(ps.requests.filter((q) => q.path === '/push/x').length, 0);
    });
});

describe('delivery', () => {
    test('SERV form: the stream event as the body; large events in the compact form', async () => {
        assert.equal((await register(bridge, { endpoint: ps.endpoint('plain') })).status, 201);
        const key = await send({ text: 'hello' });
        await until(() => posts('/push/plain').some((r) => bodyOf(r).payload?.key === key), 'the push');
        const r = posts('/push/plain').find((q) => bodyOf(q).payload?.key === key);
        assert.equal(bodyOf(r).namespace, 'app');
        assert.equal(r.headers['content-encoding'], undefined);
        assert.equal(r.headers.authorization, undefined);
        const big = await send({ blob: 'x'.repeat(5000) });
        await until(() => posts('/push/plain').length >= 2, 'the large event');
        const last = bodyOf(posts('/push/plain').at(-1));
        assert.deepEqual(Object.keys(last).sort(), ['id', 'name', 'namespace', 'stream']);
        assert.equal(last.stream, 'alerts');
        assert.ok(big);
        assert.equal((await register(bridge, { endpoint: ps.endpoint('plain') }, 'DELETE')).status, 204);
    });

    test('Web Push form: encrypted for the keys, signed with the VAPID key', async () => {
        const ua = userAgent();
        assert.equal((await register(bridge, { endpoint: ps.endpoint('wpform'), keys: ua.keys })).status, 201);
        assert.equal(ps.to('/push/wpform').filter((q) => q.method === 'GET').length, 0, 'no discovery for the Web Push form');
        const key = await send({});
        await until(() => posts('/push/wpform').length >= 1, 'the push');
        const r = posts('/push/wpform')[0];
        assert.equal(r.headers['content-encoding'], 'aes128gcm');
        const vapid = JSON.parse((await request(bridge.port, '/api/push/vapid')).body).key;
        const { key: k } = await verifyVapid(r.headers.authorization, ps.origin);
        assert.equal(k, vapid);
        assert.equal(JSON.parse(ua.decrypt(r.body).toString()).payload.key, key);
        assert.equal((await register(bridge, { endpoint: ps.endpoint('wpform') }, 'DELETE')).status, 204);
    });

    test('answers: 3xx retried and not followed, 5xx retried, 400 not retried, 413 once compact then dropped, 404 drops', async () => {
        for (const id of ['r3', 'r5', 'r400', 'r413', 'r404'])
            assert.equal((await register(bridge, { endpoint: ps.endpoint(id) })).status, 201);
        ps.answer('/push/r3', { status: 302, headers: { location: ps.endpoint('elsewhere') } });
        ps.answer('/push/r5', { status: 500 }, { status: 503 });
        ps.answer('/push/r400', { status: 400, body: 'bad' });
        ps.answer('/push/r413', { status: 413 }, { status: 413 });
        ps.answer('/push/r404', { status: 404 });
        const key = await send({});
        await until(() => posts('/push/r3').length >= 2 && posts('/push/r5').length >= 3 && posts('/push/r413').length >= 2, 'retries');
        await sleep(800);
        assert.equal(ps.to('/push/elsewhere').length, 0);
        assert.equal(posts('/push/r3').length, 2);
        assert.equal(posts('/push/r5').length, 3);
        assert.equal(posts('/push/r400').length, 1);
        assert.equal(posts('/push/r413').length, 2);
        assert.ok(bodyOf(posts('/push/r413')[0]).payload, 'first the whole event');
        assert.deepEqual(Object.keys(bodyOf(posts('/push/r413')[1])).sort(), ['id', 'name', 'namespace', 'stream']);
        assert.equal(posts('/push/r404').length, 1);
        // the 404'd registration is gone, the others stay
        await send({});
        await until(() => posts('/push/r400').length >= 2, 'the next event');
        await sleep(300);
        assert.equal(posts('/push/r404').length, 1);
        assert.equal((await register(bridge, { endpoint: ps.endpoint('r404') }, 'DELETE')).status, 404);
        for (const id of ['r3', 'r5', 'r400', 'r413']) await register(bridge, { endpoint: ps.endpoint(id) }, 'DELETE');
        assert.ok(key);
    });

    test('429 slows down that endpoint only, honouring Retry-After, and backs off without it', async () => {
        for (const id of ['slow', 'fast', 'slow2'])
            assert.equal((await register(bridge, { endpoint: ps.endpoint(id) })).status, 201);
        ps.answer('/push/slow', { status: 429, headers: { 'retry-after': '2' } });
        ps.answer('/push/slow2', { status: 429 });
        const t0 = Date.now();
        await send({});
        await until(() => posts('/push/slow').length >= 1 && posts('/push/fast').length >= 1, 'first attempts');
        await send({});
        await until(() => posts('/push/fast').length >= 2, 'the fast endpoint keeps its pace', 3000);
        assert.ok(Date.now() - t0 < 1900, 'the other endpoint on the same host was not held back');
        assert.equal(posts('/push/slow').length, 1, 'nothing to the limited endpoint before Retry-After');
        await until(() => posts('/push/slow').length >= 3, 'both events after Retry-After', 8000);
        const retried = posts('/push/slow')[1];
        assert.ok(retried.at - posts('/push/slow')[0].at >= 1900, `waited ${retried.at - posts('/push/slow')[0].at} ms`);
        await until(() => posts('/push/slow2').length >= 3, 'slow2 delivered after backoff', 8000);
        for (const id of ['slow', 'fast', 'slow2']) await register(bridge, { endpoint: ps.endpoint(id) }, 'DELETE');
    });

    test('logout ends the session\'s registrations', async () => {
        assert.equal((await register(bridge, { endpoint: ps.endpoint('sess') })).status, 201);
        const r = await request(bridge.port, '/api/unifiedpush/logout', {
            method: 'POST',
            headers: { authorization: `Bearer ${token}`, 'content-length': 0 },
        });
        assert.equal(r.status, 200);
        assert.ok(JSON.parse(r.body).dropped >= 1);
        const before = posts('/push/sess').length;
        await send({});
        await sleep(500);
        assert.equal(posts('/push/sess').length, before);
    });
});
