// Web Push to a third-party push service: npm web-push-testing (pinned in package.json) plays
// the browser's push service on loopback. It makes subscriptions for an applicationServerKey
// (the bridge's VAPID key), and for each push checks the Authorization header (k must be that
// key, the ES256 JWT must verify with it), decrypts the aes128gcm body with npm http_ece and
// keeps the plaintext; expired subscriptions answer 410. The bridge is the real one, allowed
// to reach 127.0.0.0/8 by outbound.allow.
//
// The package's CLI would listen on every interface and hand out http://localhost endpoints;
// its server class is used directly instead, with its own request handlers and model, bound to
// 127.0.0.1 on a port the kernel picks.
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import { once } from 'node:events';
import { createRequire } from 'node:module';
import { after, before, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { Bridge, publisher, request, shutdown } from './lib/bridge.mjs';
import { ev, stream } from './lib/streams.mjs';
import { createWorld } from './lib/world.mjs';

const require = createRequire(import.meta.url);
const WebPushTestingServer = require('web-push-testing/src/server.js');
const { PushApiModel } = require('web-push-testing/src/PushApiModel.js');

let w;
let bridge;
let pub;
let service;
let reader;
let vapidKey;

/** web-push-testing on 127.0.0.1:<free port>; resolves {origin, call(path, body), close()}. */
async function startPushService() {
    const model = new PushApiModel();
    const server = new WebPushTestingServer(model, 0);
    server.setRequestHandlers();
    const http = server._app.listen(0, '127.0.0.1');
    await once(http, 'listening');
    const origin = `http://127.0.0.1:${http.address().port}`;
    model.notifyUrl = `${origin}/notify/`;
    return {
        origin,
        model,
        async call(path, body = {}) {
            const text = JSON.stringify(body);
            const r = await request(http.address().port, path, {
                method: 'POST',
                headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) },
                body: text,
            });
            const json = /^application\/json/.test(r.headers['content-type'] ?? '');
            return { status: r.status, body: json ? JSON.parse(r.body) : r.body };
        },
        close() {
            http.closeAllConnections();
            return new Promise((resolve) => http.close(resolve));
        },
    };
}

/** A subscription of the push service for applicationServerKey: {endpoint, keys, clientHash}. */
async function pushSubscription(applicationServerKey) {
    const r = await service.call('/subscribe', { applicationServerKey });
    assert.equal(r.status, 200, JSON.stringify(r.body));
    return r.body.data;
}

/** The plaintexts the push service decrypted for a subscription. */
async function received(clientHash) {
    const r = await service.call('/get-notifications', { clientHash });
    assert.equal(r.status, 200, JSON.stringify(r.body));
    return r.body.data.messages;
}

async function waitReceived(clientHash, n, timeoutMs = 10000) {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
        const got = await received(clientHash);
        if (got.length >= n) return got;
        if (Date.now() > deadline) throw new Error(`${got.length} of ${n} notifications after ${timeoutMs} ms`);
        await sleep(50);
    }
}

function subscribe(token, body, method = 'POST') {
    const text = JSON.stringify(body);
    return request(bridge.port, '/api/push/subscribe', {
        method,
        headers: {
            authorization: `Bearer ${token}`,
            'content-type': 'application/json',
            'content-length': Buffer.byteLength(text),
        },
        body: text,
    });
}

/** Register a push service subscription with the bridge, as a page would after subscribe(). */
async function register(sub) {
    const r = await subscribe(reader, { subscription: { endpoint: sub.endpoint, keys: sub.keys }, vapid: vapidKey });
    assert.equal(r.status, 201, r.body);
}

async function pushTotal(result) {
    return (await bridge.metrics())[`mqpush_bridge_push_total{channel="webpush",result="${result}"}`] ?? 0;
}

before(async () => {
    w = await createWorld({
        label: 'webpush-service',
        tenants: { t: { streams: [stream('alerts', { subscriberRoles: ['reader'], events: [ev('app', 'alert')] })] } },
    });
    service = await startPushService();
    bridge = await new Bridge(w, {
        extra: {
            outbound: { allow: ['127.0.0.0/8'] },
            webpush: {
                subject: 'mailto:ops@mqpush.test',
                retry_min_ms: 100,
                retry_max_ms: 400,
                streams: [{ tenant: 't', stream: 'alerts', default: true }],
            },
        },
    }).start();
    pub = await publisher(w, 't');
    reader = await w.token('t', { sub: 'wendy', sid: 'w1', roles: ['reader'], ttl: 600 });
    const r = await request(bridge.port, '/api/push/vapid');
    assert.equal(r.status, 200);
    vapidKey = JSON.parse(r.body).key;
});

after(async () => {
    await service?.close();
    await shutdown({ pub, bridge, world: w });
});

describe('web-push-testing as the push service', () => {
    let good;

    test('the service makes subscriptions for the bridge key on loopback', async () => {
        good = await pushSubscription(vapidKey);
        assert.ok(good.endpoint.startsWith(`${service.origin}/notify/`), good.endpoint);
        assert.equal(Buffer.from(good.keys.p256dh, 'base64url').length, 65);
        assert.equal(Buffer.from(good.keys.auth, 'base64url').length, 16);
        await register(good);
        assert.deepEqual(await received(good.clientHash), []);
    });

    test('events arrive decrypted and whole, VAPID accepted', async () => {
        const before = await pushTotal('delivered');
        const payloads = [
            { n: 1, text: 'hello' },
            { n: 2, text: 'grüße, 你好, \u{1f514}' },
            { n: 3, text: 'x'.repeat(2500), nested: { list: [1, 2, 3], flag: true, none: null } },
        ];
        for (const payload of payloads) await pub.publish('app', 'alert', { payload });
        // Web Push promises no order (RFC 8030): compare by the payload's n
        const got = (await waitReceived(good.clientHash, 3)).map((m) => JSON.parse(m));
        assert.equal(got.length, 3);
        assert.deepEqual(
            got.map((e) => e.payload).sort((a, b) => a.n - b.n),
            payloads,
        );
        for (const e of got) {
            assert.equal(e.namespace, 'app');
            assert.equal(e.name, 'alert');
            assert.equal(typeof e.id, 'string');
        }
        assert.equal(new Set(got.map((e) => e.id)).size, 3);
        assert.equal((await pushTotal('delivered')) - before, 3);
    });

    test('a subscription bound to another applicationServerKey refuses the pushes: dropped, logged', async () => {
        const other = crypto.createECDH('prime256v1');
        other.generateKeys();
        const foreign = await pushSubscription(other.getPublicKey().toString('base64url'));
        await register(foreign);
        const from = bridge.mark();
        const rejected = await pushTotal('rejected');
        const delivered = (await received(good.clientHash)).length;
        await pub.publish('app', 'alert', { payload: { n: 4 } });
        // the service checks k against the key the subscription was made with: 400
        await bridge.waitForOutput(new RegExp(`${service.origin} answered 400 .*refused, dropped`), { from });
        assert.equal((await pushTotal('rejected')) - rejected, 1);
        assert.deepEqual(await received(foreign.clientHash), []);
        // the same event reached the subscription made with the right key
        const got = await waitReceived(good.clientHash, delivered + 1);
        assert.equal(JSON.parse(got.at(-1)).payload.n, 4);
        // a refusal drops the message, not the subscription
        const r = await subscribe(reader, { endpoint: foreign.endpoint }, 'DELETE');
        assert.equal(r.status, 204);
    });

    test('an expired subscription answers 410 and the bridge drops it', async () => {
        const doomed = await pushSubscription(vapidKey);
        await register(doomed);
        await pub.publish('app', 'alert', { payload: { n: 5 } });
        await waitReceived(doomed.clientHash, 1);
        const gone = await pushTotal('gone');
        const subs = (await bridge.metrics())['mqpush_bridge_push_subscriptions{channel="webpush"}'];
        assert.equal((await service.call(`/expire-subscription/${doomed.clientHash}`)).status, 200);
        await pub.publish('app', 'alert', { payload: { n: 6 } });
        const deadline = Date.now() + 10000;
        while ((await pushTotal('gone')) === gone && Date.now() < deadline) await sleep(50);
        assert.equal((await pushTotal('gone')) - gone, 1);
        assert.equal((await bridge.metrics())['mqpush_bridge_push_subscriptions{channel="webpush"}'], subs - 1);
        assert.equal((await subscribe(reader, { endpoint: doomed.endpoint }, 'DELETE')).status, 404);
        assert.equal((await received(doomed.clientHash)).length, 1);
        // the other subscription still gets events
        const got = await waitReceived(good.clientHash, 6);
        assert.equal(JSON.parse(got.at(-1)).payload.n, 6);
    });
});
