// The Shared Signals receiver end to end: transmitters (keys from mqpushctl keygen, one served
// over HTTP as a jwks_uri) sign SETs with npm jose and POST them to the real bridge
// (RFC 8935); good ones reach an MQTT reader of a stream as ssf:<event name>, bad ones get 400
// with every RFC 8935 error code and a description in the asked language, and a CAEP
// session-revoked SET ends exactly the Web Push subscriptions of the session it names.
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import * as jose from 'jose';
import { Bridge, publisher, request, shutdown } from './lib/bridge.mjs';
import { BRIDGE } from './lib/env.mjs';
import { connect, end, subscribe } from './lib/mqtt.mjs';
import { run } from './lib/proc.mjs';
import { describeErrors, projectAjv, validatorFor } from './lib/schemas.mjs';
import { PushService, userAgent } from './lib/pushservice.mjs';
import { ev, issuerOf, stream } from './lib/streams.mjs';
import { keygen, tamperPayload, tamperSignature } from './lib/tokens.mjs';
import { createWorld } from './lib/world.mjs';

const CAEP = 'https://schemas.openid.net/secevent/caep/event-type/';
const REVOKED = `${CAEP}session-revoked`;
const CRED = `${CAEP}credential-change`;
const CUSTOM = 'urn:example:ssf:event:Custom Thing';
const ALG = { ec: 'ES256', rsa: 'RS256', ed25519: 'EdDSA' };

let w;
let bridge;
let pub;
let ps;
let jwksServer;
let reader;
let vapidKey;
const tx = {}; // name -> {iss, aud, kid, alg, key, publicPem}
let served; // what the jwks_uri answers: {keys: [...]}
let jwksHits = 0;

const b64 = (v) => Buffer.from(typeof v === 'string' ? v : JSON.stringify(v)).toString('base64url');

async function transmitter(name, type, iss, aud) {
    const k = await keygen(path.join(w.dir, 'keys'), name, { type });
    tx[name] = { iss, aud, kid: k.kid, alg: ALG[type], key: crypto.createPrivateKey(fs.readFileSync(k.key)), publicPem: k.publicPem, jwksFile: k.jwksFile };
}

/** A key of the jwks_uri transmitter: {kid, key, jwk}. */
async function servedKey(kid) {
    const { publicKey, privateKey } = await jose.generateKeyPair('ES256');
    return { kid, key: privateKey, jwk: { ...(await jose.exportJWK(publicKey)), kid, alg: 'ES256', use: 'sig' } };
}

/**
 * Sign a SET as transmitter t: claims merged over good defaults (undefined removes one),
 * header merged over {alg, typ: secevent+jwt, kid}.
 */
async function makeSet(t, claims = {}, header = {}) {
    const body = {
        iss: t.iss,
        aud: t.aud,
        iat: Math.floor(Date.now() / 1000),
        jti: crypto.randomUUID(),
        sub_id: { format: 'iss_sub', iss: issuerOf('t'), sub: 'alice' },
        events: { [CRED]: { change_type: 'update', credential_type: 'password' } },
        ...claims,
    };
    const hdr = { alg: t.alg, typ: 'secevent+jwt', kid: t.kid, ...header };
    for (const o of [body, hdr]) for (const k of Object.keys(o)) if (o[k] === undefined) delete o[k];
    return new jose.CompactSign(Buffer.from(JSON.stringify(body))).setProtectedHeader(hdr).sign(t.key);
}

function post(tenant, body, headers = {}) {
    const h = { 'content-type': 'application/secevent+jwt', 'content-length': Buffer.byteLength(body), ...headers };
    for (const k of Object.keys(h)) if (h[k] === undefined) delete h[k];
    return request(bridge.port, `/ssf/receive/${tenant}`, { method: 'POST', headers: h, body });
}

/** POST until the answer is not 503 (keys still being fetched); at most 10 s. */
async function postSettled(tenant, body, headers) {
    const deadline = Date.now() + 10000;
    for (;;) {
        const r = await post(tenant, body, headers);
        if (r.status !== 503 || Date.now() > deadline) return r;
        await sleep(100);
    }
}

/** The RFC 8935 2.4 answer: 400, JSON {err, description}, Content-Language. */
function assertError(r, err, lang = 'en') {
    assert.equal(r.status, 400, `${err}: ${r.status} ${r.body}`);
    assert.match(r.headers['content-type'], /^application\/json/);
    assert.equal(r.headers['content-language'], lang);
    const b = JSON.parse(r.body);
    assert.deepEqual(Object.keys(b).sort(), ['description', 'err']);
    assert.equal(b.err, err, r.body);
    assert.equal(typeof b.description, 'string');
    assert.ok(b.description.length > 10);
    return b;
}

before(async () => {
    w = await createWorld({
        label: 'ssf',
        tenants: {
            t: {
                streams: [
                    stream('signals', {
                        subscriberRoles: ['reader'],
                        events: [ev('ssf', 'credential-change'), ev('ssf', 'session-revoked'), ev('ssf', 'custom'), ev('ssf', 'Custom-Thing')],
                    }),
                    stream('alerts', { subscriberRoles: ['reader'], events: [ev('app', 'alert')] }),
                ],
            },
            u: { streams: [stream('signals', { subscriberRoles: ['reader'], events: [ev('ssf', 'credential-change')] })] },
        },
    });
    await transmitter('tx-a', 'ec', 'https://tx-a.test/', 'https://rx.test/t');
    await transmitter('tx-b', 'rsa', 'https://tx-b.test/', 'https://rx.test/t');
    await transmitter('tx-c', 'ed25519', 'https://tx-c.test/', 'https://rx.test/u');
    const d1 = await servedKey('d-1');
    tx['tx-d'] = { iss: 'https://tx-d.test/', aud: 'https://rx.test/t', kid: d1.kid, alg: 'ES256', key: d1.key };
    served = { keys: [d1.jwk] };
    jwksServer = http.createServer((req, res) => {
        jwksHits++;
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(JSON.stringify(served));
    });
    await new Promise((resolve) => jwksServer.listen(0, '127.0.0.1', resolve));
    ps = await new PushService().start();
    bridge = await new Bridge(w, {
        extra: {
            outbound: { allow: ['127.0.0.0/8'] },
            webpush: { subject: 'mailto:ops@mqpush.test', retry_min_ms: 100, retry_max_ms: 400, streams: [{ tenant: 't', stream: 'alerts', default: true }] },
            ssf: {
                receiver: {
                    event_names: { [`${CAEP}custom-thing`]: 'custom' },
                    transmitters: [
                        { tenant: 't', issuer: tx['tx-a'].iss, audience: tx['tx-a'].aud, jwks_file: 'keys/tx-a.jwks.json' },
                        { tenant: 't', issuer: tx['tx-b'].iss, audience: tx['tx-b'].aud, jwks_file: 'keys/tx-b.jwks.json', authorization: 'Bearer b-secret' },
                        { tenant: 'u', issuer: tx['tx-c'].iss, audience: tx['tx-c'].aud, jwks_file: 'keys/tx-c.jwks.json', authorization: 'Bearer c-secret' },
                        {
                            tenant: 't',
                            issuer: tx['tx-d'].iss,
                            audience: tx['tx-d'].aud,
                            jwks_uri: `http://127.0.0.1:${jwksServer.address().port}/jwks`,
                            authorization: 'Bearer d-secret',
                        },
                    ],
                },
            },
        },
    }).start();
    pub = await publisher(w, 't');
    reader = await connect(w.port(), { username: 'reader', password: await w.token('t', { sub: 'reader', roles: ['reader'], ttl: 600 }) });
    assert.equal(await subscribe(reader, 't/signals/#'), 1);
    vapidKey = JSON.parse((await request(bridge.port, '/api/push/vapid')).body).key;
});

after(async () => {
    await end(reader).catch(() => {});
    await ps?.close();
    await new Promise((resolve) => (jwksServer ? jwksServer.close(resolve) : resolve()));
    await shutdown({ pub, bridge, world: w });
});

describe('accepted SETs', () => {
    test('a good SET: 202 without a body, and the event reaches the stream as ssf:credential-change', async () => {
        const jti = crypto.randomUUID();
        const r = await post('t', await makeSet(tx['tx-a'], { jti, txn: 'tx-1' }));
        assert.equal(r.status, 202, r.body);
        assert.equal(r.body, '');
        const [m] = await reader.inbox.waitFor((x) => x.json?.payload?.jti === jti, { what: jti });
        assert.equal(m.topic, 't/signals/ssf:credential-change');
        assert.equal(m.json.namespace, 'ssf');
        assert.equal(m.json.name, 'credential-change');
        const p = m.json.payload;
        assert.equal(p.type, CRED);
        assert.deepEqual(p.event, { change_type: 'update', credential_type: 'password' });
        assert.deepEqual(p.sub_id, { format: 'iss_sub', iss: issuerOf('t'), sub: 'alice' });
        assert.equal(p.iss, tx['tx-a'].iss);
        assert.equal(p.aud, tx['tx-a'].aud);
        assert.equal(p.txn, 'tx-1');
        assert.ok(Math.abs(p.iat - Date.now() / 1000) < 60);
    });

    test('RS256 with the Authorization it was given; a retry of the same SET is published once', async () => {
        const jti = crypto.randomUUID();
        const set = await makeSet(tx['tx-b'], { jti });
        assert.equal((await post('t', set, { authorization: 'Bearer b-secret' })).status, 202);
        assert.equal((await post('t', set, { authorization: 'Bearer b-secret' })).status, 202);
        const marker = crypto.randomUUID();
        assert.equal((await post('t', await makeSet(tx['tx-a'], { jti: marker }))).status, 202);
        await reader.inbox.waitFor((x) => x.json?.payload?.jti === marker, { what: 'the marker' });
        assert.equal(reader.inbox.matching((x) => x.json?.payload?.jti === jti).length, 1);
    });

    test('event names: the last segment of the URI, or the one bridge.json gives', async () => {
        const a = crypto.randomUUID();
        const b = crypto.randomUUID();
        assert.equal((await post('t', await makeSet(tx['tx-a'], { jti: a, events: { [CUSTOM]: {} } }))).status, 202);
        assert.equal((await post('t', await makeSet(tx['tx-a'], { jti: b, events: { [`${CAEP}custom-thing`]: {} } }))).status, 202);
        const [ma] = await reader.inbox.waitFor((x) => x.json?.payload?.jti === a, { what: a });
        const [mb] = await reader.inbox.waitFor((x) => x.json?.payload?.jti === b, { what: b });
        assert.equal(ma.topic, 't/signals/ssf:Custom-Thing');
        assert.equal(mb.topic, 't/signals/ssf:custom');
    });

    test('the subject inside the event (older CAEP) and white space around the SET', async () => {
        const jti = crypto.randomUUID();
        const set = await makeSet(tx['tx-a'], { jti, sub_id: undefined, events: { [CRED]: { subject: { format: 'opaque', id: 'x' } } } });
        assert.equal((await post('t', `\r\n${set}\n`)).status, 202);
        const [m] = await reader.inbox.waitFor((x) => x.json?.payload?.jti === jti, { what: jti });
        assert.deepEqual(m.json.payload.sub_id, { format: 'opaque', id: 'x' });
    });
});

describe('refused SETs: RFC 8935 error codes', () => {
    test('invalid_request: the request or the SET is malformed', async () => {
        const a = tx['tx-a'];
        const good = await makeSet(a);
        const cases = {
            'wrong content type': [good, { 'content-type': 'application/json' }],
            'no content type': [good, { 'content-type': undefined }],
            'empty body': ['', {}],
            'not a JWS': ['hello', {}],
            'two parts': [good.split('.').slice(0, 2).join('.'), {}],
            'typ JWT': [await makeSet(a, {}, { typ: 'JWT' }), {}],
            'no typ': [await makeSet(a, {}, { typ: undefined }), {}],
            'no jti': [await makeSet(a, { jti: undefined }), {}],
            'no iat': [await makeSet(a, { iat: undefined }), {}],
            'iat a string': [await makeSet(a, { iat: '1700000000' }), {}],
            'no events': [await makeSet(a, { events: undefined }), {}],
            'two events': [await makeSet(a, { events: { [CRED]: {}, [REVOKED]: {} } }), {}],
            'event not an object': [await makeSet(a, { events: { [CRED]: true } }), {}],
            'no subject': [await makeSet(a, { sub_id: undefined }), {}],
            'exp present': [await makeSet(a, { exp: Math.floor(Date.now() / 1000) + 600 }), {}],
            'iat in the future': [await makeSet(a, { iat: Math.floor(Date.now() / 1000) + 600 }), {}],
        };
        for (const [name, [body, headers]] of Object.entries(cases)) {
            const r = await post('t', body, headers);
            assert.equal(r.status, 400, `${name}: ${r.status} ${r.body}`);
            assert.equal(JSON.parse(r.body).err, 'invalid_request', name);
        }
        const iatLeeway = await makeSet(a, { iat: Math.floor(Date.now() / 1000) + 30 });
        assert.equal((await post('t', iatLeeway)).status, 202);
    });

    test('invalid_key: unknown kid, tampered signature or payload, another key, alg none, HS256 with the public key', async () => {
        const a = tx['tx-a'];
        const claims = { iss: a.iss, aud: a.aud, iat: Math.floor(Date.now() / 1000), jti: 'j', sub_id: { format: 'opaque', id: 'x' }, events: { [CRED]: {} } };
        const other = await jose.generateKeyPair('ES256');
        const cases = {
            'unknown kid': await makeSet(a, {}, { kid: 'no-such-kid' }),
            'tampered signature': tamperSignature(await makeSet(a)),
            'tampered payload': tamperPayload(await makeSet(a), { jti: 'changed' }),
            'another key under the kid': await makeSet({ ...a, key: other.privateKey }),
            'alg none': `${b64({ alg: 'none', typ: 'secevent+jwt' })}.${b64(claims)}.`,
            'alg none with a signature': `${b64({ alg: 'none', typ: 'secevent+jwt', kid: a.kid })}.${b64(claims)}.${b64('sig')}`,
            'HS256 keyed with the public key': await new jose.CompactSign(Buffer.from(JSON.stringify(claims)))
                .setProtectedHeader({ alg: 'HS256', typ: 'secevent+jwt', kid: a.kid })
                .sign(new TextEncoder().encode(a.publicPem)),
            'RS256 key of another transmitter': await makeSet({ ...tx['tx-b'], iss: a.iss, aud: a.aud }),
        };
        for (const [name, body] of Object.entries(cases)) assertError(await post('t', body), 'invalid_key');
    });

    test('invalid_issuer: an unknown iss, and a transmitter of another tenant', async () => {
        assertError(await post('t', await makeSet({ ...tx['tx-a'], iss: 'https://stranger.test/' })), 'invalid_issuer');
        assertError(await post('t', await makeSet(tx['tx-c'])), 'invalid_issuer');
    });

    test('invalid_audience: aud for another receiver, or none', async () => {
        assertError(await post('t', await makeSet(tx['tx-a'], { aud: 'https://rx.test/u' })), 'invalid_audience');
        assertError(await post('t', await makeSet(tx['tx-a'], { aud: undefined })), 'invalid_audience');
        assert.equal((await post('t', await makeSet(tx['tx-a'], { aud: ['https://other.test/', tx['tx-a'].aud] }))).status, 202);
    });

    test('authentication_failed: credentials missing or wrong', async () => {
        const b = await makeSet(tx['tx-b']);
        assertError(await post('t', b), 'authentication_failed');
        assertError(await post('t', b, { authorization: 'Bearer wrong' }), 'authentication_failed');
        assertError(await post('t', b, { authorization: 'bearer b-secret' }), 'authentication_failed');
        // Every transmitter of u needs credentials: refused before the SET is read.
        assertError(await post('u', 'not even a SET'), 'authentication_failed');
        assert.equal((await post('u', await makeSet(tx['tx-c']), { authorization: 'Bearer c-secret' })).status, 202);
    });

    test('access_denied: credentials of another tenant, or of another transmitter', async () => {
        assertError(await post('t', await makeSet(tx['tx-a']), { authorization: 'Bearer c-secret' }), 'access_denied');
        assertError(await post('t', await makeSet(tx['tx-b']), { authorization: 'Bearer d-secret' }), 'access_denied');
    });

    test('descriptions follow Accept-Language (q-values honoured), English otherwise', async () => {
        const bad = await makeSet(tx['tx-a'], {}, { kid: 'no-such-kid' });
        const en = assertError(await post('t', bad), 'invalid_key', 'en');
        const de = assertError(await post('t', bad, { 'accept-language': 'de-DE, de;q=0.9, en;q=0.5' }), 'invalid_key', 'de');
        assert.match(de.description, /Schlüssel/);
        const fr = assertError(await post('t', bad, { 'accept-language': 'de;q=0.5, fr;q=0.8' }), 'invalid_key', 'fr');
        assert.match(fr.description, /clé/);
        assert.notEqual(en.description, de.description);
        assertError(await post('t', bad, { 'accept-language': 'it, es;q=0.5' }), 'invalid_key', 'en');
        assertError(await post('t', bad, { 'accept-language': 'de;q=0, fr' }), 'invalid_key', 'fr');
        const auth = assertError(await post('t', await makeSet(tx['tx-b']), { 'accept-language': 'de' }), 'authentication_failed', 'de');
        assert.match(auth.description, /Authorization/);
    });

    test('general HTTP errors: unknown tenant or path 404, GET 405, over the body limit 413', async () => {
        const set = await makeSet(tx['tx-a']);
        for (const p of ['/ssf/receive/nope', '/ssf/receive/', '/ssf/receive/t/x', '/ssf/other']) {
            const r = await request(bridge.port, p, { method: 'POST', headers: { 'content-type': 'application/secevent+jwt', 'content-length': Buffer.byteLength(set) }, body: set });
            assert.equal(r.status, 404, p);
        }
        assert.equal((await request(bridge.port, '/ssf/receive/t')).status, 405);
        const big = 'a'.repeat(70000);
        assert.equal((await post('t', big)).status, 413);
    });
});

describe('jwks_uri', () => {
    test('fetched at start; a rotated key is fetched when a SET names it, a made-up kid is not fetched again at once', async () => {
        const d = tx['tx-d'];
        const auth = { authorization: 'Bearer d-secret' };
        assert.equal((await postSettled('t', await makeSet(d), auth)).status, 202);
        // Rotation: the transmitter now serves only a new key.
        const d2 = await servedKey('d-2');
        served = { keys: [d2.jwk] };
        const hits = jwksHits;
        const rotated = await makeSet({ ...d, kid: d2.kid, key: d2.key });
        const first = await post('t', rotated, auth);
        assert.equal(first.status, 503, first.body);
        assert.equal(first.headers['retry-after'], '2');
        assert.equal((await postSettled('t', rotated, auth)).status, 202);
        assert.equal(jwksHits, hits + 1);
        // The old key is gone; asking for it again within 30 s fetches nothing.
        assertError(await post('t', await makeSet(d), auth), 'invalid_key');
        assertError(await post('t', await makeSet(d, {}, { kid: 'made-up' }), auth), 'invalid_key');
        assert.equal(jwksHits, hits + 1);
    });
});

describe('CAEP session-revoked ends Web Push subscriptions', () => {
    function subscribePush(token, endpoint) {
        const ua = userAgent();
        const text = JSON.stringify({ subscription: { endpoint, keys: ua.keys }, vapid: vapidKey });
        return request(bridge.port, '/api/push/subscribe', {
            method: 'POST',
            headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text), authorization: `Bearer ${token}` },
            body: text,
        });
    }

    const count = (id) => ps.to(`/push/${id}`).length;

    async function revoke(sub_id) {
        const jti = crypto.randomUUID();
        const r = await post('t', await makeSet(tx['tx-a'], { jti, sub_id, events: { [REVOKED]: { initiating_entity: 'policy' } } }));
        assert.equal(r.status, 202, r.body);
        // Published like any other event.
        await reader.inbox.waitFor((x) => x.json?.payload?.jti === jti && x.topic === 't/signals/ssf:session-revoked', { what: jti });
    }

    test('only the named session, then nothing for another issuer, then every session of the user', async () => {
        const tokens = {
            a1: await w.token('t', { sub: 'alice', sid: 'sa1', roles: ['reader'], ttl: 600 }),
            a2: await w.token('t', { sub: 'alice', sid: 'sa2', roles: ['reader'], ttl: 600 }),
            b1: await w.token('t', { sub: 'bob', sid: 'sb1', roles: ['reader'], ttl: 600 }),
        };
        for (const [id, token] of Object.entries(tokens)) assert.equal((await subscribePush(token, ps.endpoint(id))).status, 201);
        await pub.publish('app', 'alert', { payload: { n: 1 } });
        await ps.until(() => count('a1') >= 1 && count('a2') >= 1 && count('b1') >= 1, 'the first pushes');

        await revoke({
            format: 'complex',
            user: { format: 'iss_sub', iss: issuerOf('t'), sub: 'alice' },
            session: { format: 'opaque', id: 'sa1' },
            tenant: { format: 'opaque', id: 'idp-tenant' },
        });
        await pub.publish('app', 'alert', { payload: { n: 2 } });
        await ps.until(() => count('a2') >= 2 && count('b1') >= 2, 'pushes after the first revocation');
        await sleep(500);
        assert.equal(count('a1'), 1, 'the revoked session gets nothing more');

        // A subject of another identity provider names none of our sessions.
        await revoke({ format: 'iss_sub', iss: 'https://elsewhere.test/', sub: 'alice' });
        await pub.publish('app', 'alert', { payload: { n: 3 } });
        await ps.until(() => count('a2') >= 3 && count('b1') >= 3, 'pushes after the foreign revocation');

        // The user alone: all of alice's sessions.
        await revoke({ format: 'iss_sub', iss: issuerOf('t'), sub: 'alice' });
        await pub.publish('app', 'alert', { payload: { n: 4 } });
        await ps.until(() => count('b1') >= 4, 'pushes after the user revocation');
        await sleep(500);
        assert.equal(count('a2'), 3);
        assert.equal(count('a1'), 1);
    });
});

describe('bridge.json "ssf": the schema and --check-config agree', () => {
    const variants = {
        'no audience': [(r) => delete r.transmitters[0].audience, /\$\.ssf\.receiver\.transmitters\[0\]\.audience: required/],
        'jwks_file and jwks_uri': [(r) => (r.transmitters[0].jwks_uri = 'https://tx.test/jwks'), /give jwks_file or jwks_uri/],
        'neither jwks_file nor jwks_uri': [(r) => delete r.transmitters[0].jwks_file, /give jwks_file or jwks_uri/],
        'an unknown language': [(r) => (r.languages = ['en', 'it']), /\$\.ssf\.receiver\.languages\[1\]/],
        'a namespace with a slash': [(r) => (r.namespace = 'a/b'), /\$\.ssf\.receiver\.namespace/],
        'no transmitters': [(r) => (r.transmitters = []), /\$\.ssf\.receiver\.transmitters: required/],
        'authorization with a line break': [(r) => (r.transmitters[1].authorization = 'Bearer a\r\nX-Evil: 1'), /authorization: must be a header value/],
        'an unknown key': [(r) => (r.transmitters[0].secret = 'x'), /unknown key "secret"/],
    };

    test('the running configuration passes both', async () => {
        const cfg = JSON.parse(fs.readFileSync(bridge.configFile, 'utf8'));
        const validate = validatorFor(projectAjv(), 'bridge.schema.json');
        assert.ok(validate(cfg), describeErrors(validate));
        const r = await run(BRIDGE, ['--check-config', '-c', bridge.configFile]);
        assert.equal(r.code, 0, r.stderr);
    });

    for (const [what, [change, re]] of Object.entries(variants)) {
        test(`both refuse ${what}`, async () => {
            const cfg = JSON.parse(fs.readFileSync(bridge.configFile, 'utf8'));
            change(cfg.ssf.receiver);
            const validate = validatorFor(projectAjv(), 'bridge.schema.json');
            assert.equal(validate(cfg), false, `the schema accepts ${what}`);
            const file = path.join(w.dir, `ssf-${what.replace(/\W+/g, '-')}.json`);
            fs.writeFileSync(file, JSON.stringify(cfg));
            const r = await run(BRIDGE, ['--check-config', '-c', file]);
            assert.equal(r.code, 1, r.stderr);
            assert.match(r.stderr, re);
        });
    }
});

describe('broker down', () => {
    test('the 202 waits for the broker\'s PUBACK: none while the broker is stopped, then the 202 and the event', async () => {
        const jti = crypto.randomUUID();
        const set = await makeSet(tx['tx-a'], { jti });
        // SIGSTOP: the connection stays open, the PUBLISH is written, no PUBACK comes.
        w.broker.proc.kill('SIGSTOP');
        let answer = null;
        const pending = post('t', set).then((r) => { answer = r; });
        try {
            await sleep(1500);
            assert.equal(answer, null, 'answered before the broker acknowledged the event');
        } finally {
            w.broker.proc.kill('SIGCONT');
        }
        await pending;
        assert.equal(answer.status, 202, answer.body);
        await reader.inbox.waitFor((x) => x.json?.payload?.jti === jti, { what: jti });
    });

    test('503 with Retry-After while the link is down; the same SET is accepted once it is back', async () => {
        const jti = crypto.randomUUID();
        const set = await makeSet(tx['tx-a'], { jti });
        await end(reader);
        await w.broker.stop();
        const deadline = Date.now() + 10000;
        while ((await request(bridge.port, '/healthz')).status === 200 && Date.now() < deadline) await sleep(50);
        const r = await post('t', set);
        assert.equal(r.status, 503, r.body);
        assert.equal(r.headers['retry-after'], '2');
        assert.equal(JSON.parse(r.body).error, 'unavailable');
        await w.broker.start({ samePort: true });
        await bridge.waitHealthy({ timeoutMs: 40000 });
        await pub.end().catch(() => {});
        pub = await publisher(w, 't');
        reader = await connect(w.port(), { username: 'reader', password: await w.token('t', { sub: 'reader', roles: ['reader'], ttl: 600 }) });
        assert.equal(await subscribe(reader, 't/signals/#'), 1);
        assert.equal((await post('t', set)).status, 202);
        await reader.inbox.waitFor((x) => x.json?.payload?.jti === jti, { what: jti });
    });
});
