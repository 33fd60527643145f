// Refusals before a stream starts, in both styles: HTTP status codes with JSON bodies on
// GET /stream/v1/streams/{id}, and a 200 whose body names the error on configured POST routes.
// Every bad token the plugin refuses is refused here too, by the same core check.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { Bridge, publisher, request, shutdown } from './lib/bridge.mjs';
import { SseReader } from './lib/sse.mjs';
import { ev, stream } from './lib/streams.mjs';
import {
    craftAlgNone,
    craftAlgNoneWithSignature,
    craftHs256WithPublicKey,
    tamperPayload,
    tamperSignature,
} from './lib/tokens.mjs';
import { createWorld } from './lib/world.mjs';

let w;
let bridge;
let pub;
let good;

before(async () => {
    w = await createWorld({
        label: 'sse-errors',
        tenants: {
            t: {
                streams: [
                    stream('priv', { subscriberRoles: ['reader'], events: [ev('app', 'tick')] }),
                    stream('open', { publicSubscribe: true, events: [ev('app', 'tick')] }),
                ],
            },
            other: { streams: [stream('priv', { subscriberRoles: ['reader'], events: [ev('app', 'tick')] })] },
        },
    });
    bridge = await new Bridge(w, {
        sse: {
            routes: [
                { path: '/events/client', tenant: 't', stream: 'priv' },
                { path: '/events/public', tenant: 't', stream: 'open' },
            ],
        },
        limits: { max_body_bytes: 1024 },
    }).start();
    pub = await publisher(w, 't');
    good = await w.token('t', { roles: ['reader'] });
});

after(async () => {
    await shutdown({ pub, bridge, world: w });
});

const ta = () => w.issuers.t;
const claims = (extra) => ta().claims({ roles: ['reader'], ...extra });

async function expectError(path, status, error, headers = {}) {
    const r = await request(bridge.port, path, { headers: { accept: 'text/event-stream', ...headers } });
    assert.equal(r.status, status, `${path}: ${r.body}`);
    assert.match(r.headers['content-type'], /^application\/json/);
    const body = JSON.parse(r.body);
    assert.equal(body.error, error);
    assert.equal(typeof body.message, 'string');
    assert.ok(body.message.length > 0);
    return r;
}

const bearer = (t) => ({ authorization: `Bearer ${t}` });

describe('GET: errors as HTTP statuses', () => {
    test('401 without a token for a private stream, with WWW-Authenticate', async () => {
        const r = await expectError('/stream/v1/streams/priv?tenant=t', 401, 'unauthorized');
        assert.match(r.headers['www-authenticate'], /^Bearer/);
    });

    const badTokens = {
        junk: () => 'junk',
        'three junk parts': () => 'a.b.c',
        'alg none': () => craftAlgNone(claims(), ta().keys.kid),
        'alg none with a signature': () => craftAlgNoneWithSignature(claims(), ta().keys.kid),
        'HS256 keyed with the public key': () => craftHs256WithPublicKey(claims(), ta().keys.publicPem, ta().keys.kid),
        'tampered signature': () => tamperSignature(good),
        'roles raised under the old signature': () => tamperPayload(good, { roles: ['reader', 'stream-listener'] }),
        expired: () => w.token('t', { roles: ['reader'], ttl: -3600 }),
        'wrong audience': () => w.token('t', { roles: ['reader'], aud: 'someone-else' }),
        'unknown issuer': () => w.token('t', { roles: ['reader'], iss: 'https://idp.example.test/realms/x' }),
    };
    for (const [name, make] of Object.entries(badTokens)) {
        test(`401 for a bad token: ${name} (header and ?token=)`, async () => {
            const t = await make();
            await expectError('/stream/v1/streams/priv', 401, 'unauthorized', bearer(t));
            await expectError(`/stream/v1/streams/priv?token=${encodeURIComponent(t)}`, 401, 'unauthorized');
            // A bad token is refused even for a public stream.
            await expectError('/stream/v1/streams/open?tenant=t', 401, 'unauthorized', bearer(t));
        });
    }

    test('403 for a valid token without a role that may read the stream', async () => {
        await expectError('/stream/v1/streams/priv', 403, 'forbidden', bearer(await w.token('t', { roles: ['other'] })));
    });

    test("403 for another tenant's token, named or implied", async () => {
        const foreign = await w.token('other', { roles: ['reader'] });
        await expectError('/stream/v1/streams/priv?tenant=t', 403, 'forbidden', bearer(foreign));
        // Without ?tenant= the token's own tenant is meant: its stream "priv" is readable.
        const r = await SseReader.open(`${bridge.url}/stream/v1/streams/priv`, { headers: bearer(foreign) });
        try {
            assert.equal(r.status, 200);
            await r.waitNamed('mqpush:ready');
            await pub.publish('app', 'tick', { payload: { secret: 'of t' } });
            await new Promise((res) => setTimeout(res, 300));
            assert.equal(r.events().length, 0, "t's events never reach another tenant");
        } finally {
            r.close();
        }
    });

    test('404 for an unknown stream, an unknown tenant and an unknown path', async () => {
        await expectError('/stream/v1/streams/nope', 404, 'not_found', bearer(good));
        await expectError('/stream/v1/streams/open?tenant=nobody', 404, 'not_found');
        await expectError('/stream/v2/whatever', 404, 'not_found');
        await expectError('/stream/v1/streams/open/extra?tenant=t', 404, 'not_found');
    });

    test('406 when Accept rules out text/event-stream; */* and text/* are fine', async () => {
        await expectError('/stream/v1/streams/open?tenant=t', 406, 'not_acceptable', { accept: 'application/json' });
        await expectError('/stream/v1/streams/open?tenant=t', 406, 'not_acceptable', {
            accept: 'text/event-stream;q=0, application/json',
        });
        for (const accept of ['*/*', 'text/*', 'application/json, text/event-stream;q=0.5']) {
            const r = await SseReader.open(`${bridge.url}/stream/v1/streams/open?tenant=t`, { headers: { accept } });
            assert.equal(r.status, 200, accept);
            r.close();
        }
    });

    test('405 for a method the path does not take', async () => {
        const r = await request(bridge.port, '/stream/v1/streams/open?tenant=t', { method: 'DELETE' });
        assert.equal(r.status, 405);
        assert.equal(JSON.parse(r.body).error, 'method_not_allowed');
    });
});

/** POST a route; resolves the reader once the response ends (errors) or is ready (success). */
async function post(path, { headers = {}, body } = {}) {
    return SseReader.open(`${bridge.url}${path}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...headers },
        body,
    });
}

async function expectBodyError(path, error, opts) {
    const r = await post(path, opts);
    await r.waitEnd();
    assert.equal(r.status, 200, 'the errors-in-the-body style always answers 200');
    assert.match(r.headers['content-type'], /^text\/event-stream/);
    const frames = r.named('error');
    assert.equal(frames.length, 1, r.raw);
    const body = JSON.parse(frames[0].data);
    assert.equal(body.error, error);
    assert.equal(typeof body.message, 'string');
    assert.equal(r.events().length, 0);
}

describe('POST routes: errors in the body of a 200', () => {
    test('auth_required without a token', async () => {
        await expectBodyError('/events/client', 'auth_required');
    });

    test('auth_failed for a bad token, and for a token without the role', async () => {
        await expectBodyError('/events/client', 'auth_failed', { headers: bearer('junk') });
        await expectBodyError('/events/client', 'auth_failed', {
            headers: bearer(craftAlgNone(claims(), ta().keys.kid)),
        });
        await expectBodyError('/events/client', 'auth_failed', {
            headers: bearer(await w.token('t', { roles: ['other'] })),
        });
        await expectBodyError('/events/client', 'auth_failed', {
            headers: bearer(await w.token('other', { roles: ['reader'] })),
        });
    });

    test('not_accepted when Accept rules out text/event-stream', async () => {
        await expectBodyError('/events/client', 'not_accepted', {
            headers: { ...bearer(good), accept: 'application/json' },
        });
    });

    test('bad_request for a body that is not a JSON object, or too large', async () => {
        await expectBodyError('/events/client', 'bad_request', { headers: bearer(good), body: '{oops' });
        await expectBodyError('/events/client', 'bad_request', { headers: bearer(good), body: '[1]' });
        await expectBodyError('/events/client', 'bad_request', {
            headers: bearer(good),
            body: JSON.stringify({ pad: 'x'.repeat(4096) }),
        });
    });

    test('with a good token the events flow; criteria may come in the body', async () => {
        const r = await post('/events/client', {
            headers: bearer(good),
            body: JSON.stringify({ criteria: { correlationId: 'mine' } }),
        });
        try {
            assert.equal(r.status, 200);
            await r.waitNamed('mqpush:ready');
            for (const c of ['theirs', 'mine', 'theirs', 'mine']) await pub.publish('app', 'tick', { correlationId: c });
            await r.waitEvents(2);
            assert.deepEqual(r.events().map((e) => e.correlationId), ['mine', 'mine']);
            assert.equal(r.named('error').length, 0);
        } finally {
            r.close();
        }
    });

    test('a public stream route needs no token', async () => {
        const r = await post('/events/public');
        try {
            await r.waitNamed('mqpush:ready');
            await pub.publish('app', 'tick', { payload: { hello: 1 } });
            await r.waitEvents(1);
        } finally {
            r.close();
        }
    });

    test('GET on a POST route is 405', async () => {
        const r = await request(bridge.port, '/events/client');
        assert.equal(r.status, 405);
    });
});
