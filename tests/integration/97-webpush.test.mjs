// Web Push end to end: the subscription API of the real bridge, then stream events pushed to a
// push service on loopback (allowed by outbound.allow), decrypted with npm http_ece and their
// VAPID JWT verified with npm jose; the push service's answers drive retries and removals.
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { Bridge, publisher, request, shutdown } from './lib/bridge.mjs';
import { PushService, userAgent, verifyVapid } from './lib/pushservice.mjs';
import { ev, stream } from './lib/streams.mjs';
import { createWorld } from './lib/world.mjs';

let w;
let bridge;
let pub;
let ps;
let alice;
let bob;
let vapidKey;

const WEBPUSH = {
    subject: 'mailto:ops@mqpush.test',
    ttl_s: 600,
    retry_min_ms: 100,
    retry_max_ms: 400,
    streams: [
        { tenant: 't', stream: 'alerts', default: true, urgency: 'high', topic: 'payload.key' },
        { tenant: 't', stream: 'private', ttl_s: 60 },
        { tenant: 't', stream: 'now', ttl_s: 0 },
    ],
};

before(async () => {
    w = await createWorld({
        label: 'webpush',
        tenants: {
            t: {
                streams: [
                    stream('alerts', { subscriberRoles: ['reader'], events: [ev('app', 'alert')] }),
                    stream('private', { subscriberRoles: ['boss'], events: [ev('app', 'secret')] }),
                    stream('other', { publicSubscribe: true, events: [ev('app', 'alert')] }),
                    stream('now', { subscriberRoles: ['reader'], events: [ev('app', 'ping')] }),
                ],
            },
        },
    });
    ps = await new PushService().start();
    bridge = await new Bridge(w, {
        extra: { outbound: { allow: ['127.0.0.0/8'] }, webpush: WEBPUSH },
    }).start();
    pub = await publisher(w, 't');
    alice = await w.token('t', { sub: 'alice', sid: 'sa1', roles: ['reader'], ttl: 600 });
    bob = await w.token('t', { sub: 'bob', sid: 'sb1', roles: ['reader'], ttl: 600 });
    const r = await request(bridge.port, '/api/push/vapid');
    assert.equal(r.status, 200);
    vapidKey = JSON.parse(r.body).key;
});

after(async () => {
    await ps?.close();
    await shutdown({ pub, bridge, world: w });
});

function subscribe(token, body, method = 'POST') {
    const text = typeof body === 'string' ? body : JSON.stringify(body);
    const headers = { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) };
    if (token) headers.authorization = `Bearer ${token}`;
    return request(bridge.port, '/api/push/subscribe', { method, headers, body: text });
}

function subBody(ua, endpoint, extra = {}) {
    return { subscription: { endpoint, keys: ua.keys }, vapid: vapidKey, ...extra };
}

describe('subscription API', () => {
    test('GET /api/push/vapid gives an uncompressed P-256 point', () => {
        const p = Buffer.from(vapidKey, 'base64url');
        assert.equal(p.length, 65);
        assert.equal(p[0], 4);
    });

    test('201 on success, 201 again for the same, 409 for other keys', async () => {
        const ua = userAgent();
        const e = ps.endpoint('api-1');
        assert.equal((await subscribe(alice, subBody(ua, e))).status, 201);
        assert.equal((await subscribe(alice, subBody(ua, e))).status, 201);
        const r = await subscribe(alice, subBody(userAgent(), e));
        assert.equal(r.status, 409);
        assert.equal(JSON.parse(r.body).error, 'conflict');
    });

    test('a stale VAPID key: 400 with the current key', async () => {
        const other = Buffer.alloc(65, 7);
        other[0] = 4;
        const r = await subscribe(alice, subBody(userAgent(), ps.endpoint('api-2'), { vapid: other.toString('base64url') }));
        assert.equal(r.status, 400);
        assert.match(r.headers['content-type'], /^application\/json/);
        const b = JSON.parse(r.body);
        assert.equal(b.key, vapidKey);
        assert.equal(typeof b.message, 'string');
    });

    test('malformed bodies and keys: 400 with a message', async () => {
        const ua = userAgent();
        const e = ps.endpoint('api-3');
        const bad = [
            '{"subscription":',
            '[]',
            JSON.stringify({ subscription: { endpoint: e }, vapid: vapidKey }),
            JSON.stringify(subBody({ keys: { p256dh: ua.keys.p256dh.slice(2), auth: ua.keys.auth } }, e)),
            JSON.stringify(subBody({ keys: { p256dh: ua.keys.p256dh, auth: Buffer.alloc(15).toString('base64url') } }, e)),
            JSON.stringify(subBody({ keys: { p256dh: Buffer.concat([Buffer.from([4]), Buffer.alloc(64, 1)]).toString('base64url'), auth: ua.keys.auth } }, e)),
            JSON.stringify(subBody(ua, 'ftp://127.0.0.1/x')),
            JSON.stringify(subBody(ua, `https://127.0.0.1/${'x'.repeat(1000)}`)),
            JSON.stringify({ ...subBody(ua, e), vapid: 12 }),
        ];
        for (const body of bad) {
            const r = await subscribe(alice, body);
            assert.equal(r.status, 400, body.slice(0, 80));
            assert.equal(typeof JSON.parse(r.body).message, 'string');
        }
    });

    test('no token 401, bad token 401, no read right 403, unknown stream 404', async () => {
        const ua = userAgent();
        assert.equal((await subscribe(null, subBody(ua, ps.endpoint('api-4')))).status, 401);
        assert.equal((await subscribe('x.y.z', subBody(ua, ps.endpoint('api-4')))).status, 401);
        const r = await subscribe(alice, subBody(ua, ps.endpoint('api-4'), { stream: 'private' }));
        assert.equal(r.status, 403);
        assert.equal((await subscribe(alice, subBody(ua, ps.endpoint('api-4'), { stream: 'nope' }))).status, 404);
        assert.equal((await subscribe(alice, subBody(ua, ps.endpoint('api-4'), { stream: 'other' }))).status, 400);
    });

    test('a service token: 403; OPTIONS with a body length: 204', async () => {
        const svc = await w.token('service', { sub: 'svc', roles: ['mqpush-bridge'], ttl: 600 });
        const r = await subscribe(svc, subBody(userAgent(), ps.endpoint('svc')));
        assert.equal(r.status, 403, r.body);
        const o = await request(bridge.port, '/api/push/subscribe', { method: 'OPTIONS', headers: { 'content-length': 0 } });
        assert.equal(o.status, 204);
        assert.equal((await request(bridge.port, '/healthz')).status, 200);
    });

    test('DELETE removes one of the caller\'s subscriptions, not another user\'s', async () => {
        const ua = userAgent();
        const e = ps.endpoint('api-5');
        assert.equal((await subscribe(alice, subBody(ua, e))).status, 201);
        assert.equal((await subscribe(bob, { endpoint: e }, 'DELETE')).status, 404);
        assert.equal((await subscribe(alice, { endpoint: e }, 'DELETE')).status, 204);
        assert.equal((await subscribe(alice, { endpoint: e }, 'DELETE')).status, 404);
    });
});

describe('delivery', () => {
    test('an event reaches the push service encrypted, with VAPID, TTL, Urgency and Topic', async () => {
        const ua = userAgent();
        const e = ps.endpoint('d-1');
        assert.equal((await subscribe(alice, subBody(ua, e))).status, 201);
        await pub.publish('app', 'alert', { payload: { key: 'k1', text: 'hello' } });
        await ps.until(() => ps.to('/push/d-1').length >= 1, 'the push');
        const req = ps.to('/push/d-1')[0];
        assert.equal(req.headers['content-encoding'], 'aes128gcm');
        assert.equal(req.headers.urgency, 'high');
        assert.equal(req.headers.topic, 'k1');
        const ttl = Number(req.headers.ttl);
        assert.ok(ttl > 590 && ttl <= 600, `TTL ${ttl}`);
        const { claims, key } = await verifyVapid(req.headers.authorization, ps.origin);
        assert.equal(key, vapidKey);
        assert.equal(claims.sub, 'mailto:ops@mqpush.test');
        const now = Math.floor(Date.now() / 1000);
        assert.ok(claims.exp > now && claims.exp <= now + 24 * 3600);
        const event = JSON.parse(ua.decrypt(req.body).toString());
        assert.equal(event.namespace, 'app');
        assert.equal(event.name, 'alert');
        assert.deepEqual(event.payload, { key: 'k1', text: 'hello' });
    });

    test('Topic: a value outside base64url is hashed; a large event keeps its Topic in compact form', async () => {
        const ua = userAgent();
        assert.equal((await subscribe(alice, subBody(ua, ps.endpoint('topic')))).status, 201);
        const key = 'order/42 é';
        await pub.publish('app', 'alert', { payload: { key, blob: 'x'.repeat(5000) } });
        await ps.until(() => ps.to('/push/topic').length >= 1, 'the push');
        const req = ps.to('/push/topic')[0];
        const want = crypto.createHash('sha256').update(key).digest('base64url').slice(0, 32);
        assert.equal(req.headers.topic, want);
        const body = JSON.parse(ua.decrypt(req.body).toString());
        assert.deepEqual(Object.keys(body).sort(), ['id', 'name', 'namespace', 'stream']);
    });

    test('TTL 0: one attempt, with TTL: 0, and no retry', async () => {
        const ua = userAgent();
        assert.equal((await subscribe(alice, subBody(ua, ps.endpoint('now'), { stream: 'now' }))).status, 201);
        ps.answer('/push/now', { status: 500 });
        await pub.publish('app', 'ping', { payload: { key: 'n1' } });
        await ps.until(() => ps.to('/push/now').length >= 1, 'the attempt');
        assert.equal(ps.to('/push/now')[0].headers.ttl, '0');
        await sleep(600);
        assert.equal(ps.to('/push/now').length, 1, 'not retried: its TTL is over');
    });

    test('410 drops the subscription; nothing is sent to it again', async () => {
        const ua = userAgent();
        assert.equal((await subscribe(bob, subBody(ua, ps.endpoint('gone')))).status, 201);
        ps.answer('/push/gone', { status: 410 });
        await pub.publish('app', 'alert', { payload: { key: 'g1' } });
        await ps.until(() => ps.to('/push/gone').length >= 1, 'the first push');
        await sleep(300);
        await pub.publish('app', 'alert', { payload: { key: 'g2' } });
        await ps.until(() => ps.requests.some((r) => r.path === '/push/d-1' && r.body.length && ua), 'other pushes');
        await sleep(500);
        assert.equal(ps.to('/push/gone').length, 1);
    });

    test('5xx then success: retried until delivered', async () => {
        const ua = userAgent();
        assert.equal((await subscribe(bob, subBody(ua, ps.endpoint('flaky')))).status, 201);
        ps.answer('/push/flaky', { status: 500 }, { status: 502 }, { status: 201 });
        await pub.publish('app', 'alert', { payload: { key: 'f1' } });
        await ps.until(() => ps.to('/push/flaky').length >= 3, 'three attempts');
        const bodies = ps.to('/push/flaky').map((r) => JSON.parse(ua.decrypt(r.body).toString()));
        assert.ok(bodies.every((b) => b.payload.key === 'f1'));
    });

    test('a redirect is not followed', async () => {
        const ua = userAgent();
        assert.equal((await subscribe(bob, subBody(ua, ps.endpoint('moved')))).status, 201);
        ps.answer('/push/moved', { status: 307, headers: { location: ps.endpoint('target') } }, { status: 201 });
        await pub.publish('app', 'alert', { payload: { key: 'm1' } });
        await ps.until(() => ps.to('/push/moved').length >= 2, 'the retry');
        assert.equal(ps.to('/push/target').length, 0);
    });
});
