// Authentication over the wire: the MQTT password is a bearer token; every kind of bad token is
// refused at CONNECT while the broker keeps serving everyone else; non-JWT passwords go to
// Mosquitto's own password file; anonymous clients see public streams only.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { mosquittoPub, mosquittoSub } from './lib/cli.mjs';
import { RC, clientId, connect, end, publish, subscribe, tryConnect } from './lib/mqtt.mjs';
import { ev, stream } from './lib/streams.mjs';
import {
    craftAlgNone,
    craftAlgNoneWithSignature,
    craftHs256WithPublicKey,
    keygen,
    mint,
    tamperPayload,
    tamperSignature,
} from './lib/tokens.mjs';
import { createWorld } from './lib/world.mjs';

const NS = 'app';
const NAME = 'ping';
const eventTopic = (t) => `${t}/events/${NS}/${NAME}`;
const streamTopic = (t, s) => `${t}/${s}/${NS}:${NAME}`;
const REFUSED = [RC.BAD_CREDENTIALS, RC.NOT_AUTHORIZED];
const CLASSIC_USER = 'classic';
const CLASSIC_PASSWORD = 'correct-horse-battery-staple';

const tenantStreams = () => [
    stream('public', { publicSubscribe: true, events: [ev(NS, NAME)] }),
    stream('private', { subscriberRoles: ['viewer'], events: [ev(NS, NAME)] }),
];

let w;
let port;
let publisher;
let sentinel;
let sentinelId;
let markerSeq = 0;
const nextMarker = () => `m${++markerSeq}`;

/** Publish an event of tenant ta and wait until the long-lived subscriber has its stream copy. */
async function assertStillServing() {
    const marker = nextMarker();
    assert.equal(await publish(publisher, eventTopic('ta'), { marker }), RC.SUCCESS, 'publisher refused');
    await sentinel.inbox.waitFor((m) => m.topic === streamTopic('ta', 'private') && m.json?.marker === marker, {
        timeoutMs: 5000,
        what: `stream copy of ${marker}`,
    });
    assert.equal(sentinel.closed, false, 'the subscriber lost its connection');
}

/** CONNECT with password must be refused; the plugin must say so (logPlugin) and others go on. */
async function assertRefused(password, { id = clientId('bad'), logPlugin = true } = {}) {
    const from = w.broker.logMark();
    const r = await tryConnect(port, { id, username: 'someone', password });
    if (r.ok) await end(r.client);
    assert.equal(r.ok, false, 'the broker accepted the token');
    assert.ok(REFUSED.includes(r.code), `CONNACK reason ${r.code} is not a refusal for bad credentials`);
    if (logPlugin) await w.broker.waitForLog(new RegExp(`client ${id}: token refused`), { from, timeoutMs: 5000 });
    await assertStillServing();
}

/** CONNECT with password must succeed; returns the client (caller ends it). */
async function assertAccepted(password, opts = {}) {
    const r = await tryConnect(port, { username: 'someone', password, ...opts });
    assert.equal(r.ok, true, `refused with reason ${r.code}`);
    return r.client;
}

before(async () => {
    w = await createWorld({
        label: 'auth',
        tenants: {
            ta: { keyType: 'ec', streams: tenantStreams() },
            tr: { keyType: 'rsa', streams: tenantStreams() },
            te: { keyType: 'ed25519', streams: tenantStreams() },
        },
        passwords: { [CLASSIC_USER]: CLASSIC_PASSWORD },
        acl: `user ${CLASSIC_USER}\ntopic write ta/events/#\n`,
    });
    port = w.port();
    publisher = await connect(port, {
        username: 'publisher',
        password: await w.token('ta', { roles: ['mqpush-publisher'] }),
    });
    sentinelId = clientId('sentinel');
    sentinel = await connect(port, {
        id: sentinelId,
        username: 'sentinel',
        password: await w.token('ta', { roles: ['stream-listener'] }),
    });
    assert.equal(await subscribe(sentinel, streamTopic('ta', 'private')), 1);
    await assertStillServing();
});

after(async () => {
    await end(publisher).catch(() => {});
    await end(sentinel).catch(() => {});
    await w?.dispose();
});

describe('bad tokens are refused and the broker keeps serving', () => {
    const ta = () => w.issuers.ta;
    const goodClaims = () => ta().claims({ roles: ['stream-listener', 'mqpush-publisher'] });

    test('alg "none" with an empty signature', async () => {
        // Not JWS-shaped (empty third part): the plugin defers and Mosquitto, having no such user
        // in its password file, refuses.
        await assertRefused(craftAlgNone(goodClaims(), ta().keys.kid), { logPlugin: false });
    });
    test('alg "none" with a signature part', async () => {
        await assertRefused(craftAlgNoneWithSignature(goodClaims(), ta().keys.kid));
    });
    test('HS256 signed with the EC public key (PEM) as HMAC secret', async () => {
        await assertRefused(await craftHs256WithPublicKey(goodClaims(), ta().keys.publicPem, ta().keys.kid));
    });
    test('HS256 signed with the RSA public key (PEM) as HMAC secret', async () => {
        const tr = w.issuers.tr;
        const claims = tr.claims({ roles: ['stream-listener'] });
        await assertRefused(await craftHs256WithPublicKey(claims, tr.keys.publicPem, tr.keys.kid));
    });
    test('HS256 signed with the JWKS text as HMAC secret', async () => {
        await assertRefused(await craftHs256WithPublicKey(goodClaims(), JSON.stringify(ta().keys.jwks), ta().keys.kid));
    });
    test('tampered signature', async () => {
        await assertRefused(tamperSignature(await w.token('ta', { roles: ['stream-listener'] })));
    });
    test('tampered claims (roles raised) under the original signature', async () => {
        const good = await w.token('ta', { roles: ['nobody'] });
        await assertRefused(tamperPayload(good, { roles: ['stream-listener', 'mqpush-publisher'] }));
    });
    test('unknown kid', async () => {
        await assertRefused(await w.token('ta', { kid: 'no-such-key' }));
    });
    test('signed by a foreign key that claims the tenant kid', async () => {
        const foreign = await keygen(w.dir, 'foreign', { type: 'ec', kid: ta().keys.kid });
        await assertRefused(await mint(foreign.key, { iss: ta().iss, aud: ta().aud, kid: ta().keys.kid }));
    });
    test("signed with tenant ta's key but naming tenant tr as issuer", async () => {
        await assertRefused(
            await mint(ta().keys.key, { iss: w.issuers.tr.iss, aud: 'mqpush', kid: w.issuers.tr.keys.kid }),
        );
    });
    test('expired beyond the 30 s leeway', async () => {
        await assertRefused(await w.token('ta', { ttl: -120 }));
    });
    test('without exp', async () => {
        await assertRefused(await w.token('ta', { noExp: true }));
    });
    test('nbf in the future beyond the leeway', async () => {
        await assertRefused(await w.token('ta', { nbf: 300 }));
    });
    test('unknown issuer', async () => {
        await assertRefused(
            await mint(ta().keys.key, { iss: 'https://evil.example/realms/ta', aud: 'mqpush', kid: ta().keys.kid }),
        );
    });
    test('wrong audience', async () => {
        await assertRefused(await w.token('ta', { aud: 'someone-else' }));
    });
    test('audience array without ours', async () => {
        await assertRefused(await w.token('ta', { aud: ['a', 'b'] }));
    });
    test('malformed: three base64url parts of garbage', async () => {
        await assertRefused('aGVsbG8.d29ybGQ.c2lnbmF0dXJl');
    });
    test('malformed: claims are not JSON', async () => {
        const [h, , s] = (await w.token('ta')).split('.');
        await assertRefused(`${h}.${Buffer.from('{"iss": oops').toString('base64url')}.${s}`);
    });
    test('larger than 8 KiB', async () => {
        const big = await w.token('ta', { claims: { pad: 'x'.repeat(9000) } });
        assert.ok(big.length > 8192);
        await assertRefused(big);
    });
    test('typ secevent+jwt (a security event, not an access token)', async () => {
        await assertRefused(await w.token('ta', { typ: 'secevent+jwt', roles: ['stream-listener'] }));
    });
    test("a refused token under a connected client's id leaves that client alone", async () => {
        await assertRefused(await w.token('ta', { ttl: -3600 }), { id: sentinelId });
        assert.equal(sentinel.closed, false);
    });
});

describe('good tokens are accepted', () => {
    for (const [tenant, alg] of [
        ['ta', 'ES256'],
        ['tr', 'RS256'],
        ['te', 'EdDSA'],
    ]) {
        test(`${alg} token of tenant ${tenant}: connects, subscribes to a role stream, receives`, async () => {
            const token = await w.token(tenant, { roles: ['viewer'] });
            const [header] = token.split('.');
            assert.equal(JSON.parse(Buffer.from(header, 'base64url')).alg, alg);
            const c = await assertAccepted(token);
            const pub = await assertAccepted(await w.token(tenant, { roles: ['mqpush-publisher'] }));
            try {
                assert.equal(await subscribe(c, `${tenant}/private/#`), 1);
                const marker = nextMarker();
                assert.equal(await publish(pub, eventTopic(tenant), { marker }), RC.SUCCESS);
                const m = await c.inbox.next(streamTopic(tenant, 'private'));
                assert.equal(m.json.marker, marker);
            } finally {
                await end(c);
                await end(pub);
            }
        });
    }

    test('expired 10 s ago: within the leeway', async () => {
        await end(await assertAccepted(await w.token('ta', { ttl: -10 })));
    });
    test('nbf 10 s ahead: within the leeway', async () => {
        await end(await assertAccepted(await w.token('ta', { nbf: 10 })));
    });
    test('audience array that contains ours', async () => {
        await end(await assertAccepted(await w.token('ta', { aud: ['account', 'mqpush'] })));
    });
    test('a token just under 8 KiB', async () => {
        const token = await w.token('ta', { claims: { pad: 'x'.repeat(5600) } });
        assert.ok(token.length > 7000 && token.length <= 8192, `token is ${token.length} bytes`);
        await end(await assertAccepted(token));
    });
    // Roles come from three claims; a role for another client of the identity provider opens nothing.
    for (const [label, opts, expected] of [
        ['"roles"', { roles: ['viewer'] }, 1],
        ['"realm_access.roles"', { realmRoles: ['viewer'] }, 1],
        ['"resource_access.mqpush.roles"', { clientRoles: { mqpush: ['viewer'] } }, 1],
        [
            '"resource_access.other-app.roles" (another client)',
            { clientRoles: { 'other-app': ['viewer'] } },
            RC.NOT_AUTHORIZED,
        ],
        ['no roles at all', {}, RC.NOT_AUTHORIZED],
    ]) {
        test(`role "viewer" in ${label}: SUBACK ${expected}`, async () => {
            const c = await assertAccepted(await w.token('ta', opts));
            try {
                assert.equal(await subscribe(c, 'ta/private/#'), expected);
            } finally {
                await end(c);
            }
        });
    }
});

describe('passwords that are not tokens go to the password file', () => {
    test('right password: connects and publishes events that fan out', async () => {
        const c = await connect(port, { username: CLASSIC_USER, password: CLASSIC_PASSWORD });
        try {
            const marker = nextMarker();
            assert.equal(await publish(c, eventTopic('ta'), { marker }), RC.SUCCESS);
            await sentinel.inbox.waitFor((m) => m.json?.marker === marker, { timeoutMs: 5000, what: marker });
            // The acl_file grants events only: stream topics stay closed to writers.
            assert.equal(await publish(c, streamTopic('ta', 'private'), { marker: 'forged' }), RC.NOT_AUTHORIZED);
        } finally {
            await end(c);
        }
    });
    test('mosquitto_pub with username and password', async () => {
        const marker = nextMarker();
        const res = await mosquittoPub(port, {
            username: CLASSIC_USER,
            password: CLASSIC_PASSWORD,
            topic: eventTopic('ta'),
            message: JSON.stringify({ marker }),
        });
        assert.equal(res.code, 0, res.stderr);
        await sentinel.inbox.waitFor((m) => m.json?.marker === marker, { timeoutMs: 5000, what: marker });
    });
    test('wrong password: refused', async () => {
        const r = await tryConnect(port, { username: CLASSIC_USER, password: 'not-the-password' });
        if (r.ok) await end(r.client);
        assert.equal(r.ok, false);
        assert.ok(REFUSED.includes(r.code), `reason ${r.code}`);
        await assertStillServing();
    });
    test('unknown user: refused', async () => {
        const r = await tryConnect(port, { username: 'mallory', password: CLASSIC_PASSWORD });
        if (r.ok) await end(r.client);
        assert.equal(r.ok, false);
        assert.ok(REFUSED.includes(r.code), `reason ${r.code}`);
    });
});

describe('anonymous clients', () => {
    test('read a public stream but may not subscribe to a private one', async () => {
        const anon = await connect(port);
        try {
            assert.equal(await subscribe(anon, 'ta/public/#'), 1);
            assert.equal(await subscribe(anon, 'ta/private/#'), RC.NOT_AUTHORIZED);
            const marker = nextMarker();
            assert.equal(await publish(publisher, eventTopic('ta'), { marker }), RC.SUCCESS);
            const m = await anon.inbox.next(streamTopic('ta', 'public'));
            assert.equal(m.json.marker, marker);
            // The private copy reached the sentinel, so it was published; anon must not have it.
            await sentinel.inbox.waitFor((x) => x.json?.marker === marker, { timeoutMs: 5000 });
            assert.deepEqual(
                anon.inbox.matching((x) => x.topic.startsWith('ta/private/')),
                [],
            );
        } finally {
            await end(anon);
        }
    });
    test('may not publish events (no acl_file line for anonymous)', async () => {
        const anon = await connect(port);
        try {
            assert.equal(await publish(anon, eventTopic('ta'), { marker: 'anon' }), RC.NOT_AUTHORIZED);
        } finally {
            await end(anon);
        }
    });
});

describe('mosquitto_sub as a third-party client', () => {
    async function subThenPublish(opts, topic) {
        const id = clientId('cli');
        const from = w.broker.logMark();
        const sub = mosquittoSub(port, { id, topic, count: 1, waitSec: 10, ...opts });
        await w.broker.waitForLog(new RegExp(`Sending SUBACK to ${id}`), { from });
        const marker = nextMarker();
        assert.equal(await publish(publisher, eventTopic('ta'), { marker }), RC.SUCCESS);
        return { res: await sub.done, marker };
    }

    test('with a token: receives a private stream event', async () => {
        const { res, marker } = await subThenPublish(
            { username: 'cli', password: await w.token('ta', { roles: ['viewer'] }) },
            'ta/private/#',
        );
        assert.equal(res.code, 0, res.stderr);
        const [topic, ...rest] = res.stdout.trim().split(' ');
        assert.equal(topic, streamTopic('ta', 'private'));
        assert.equal(JSON.parse(rest.join(' ')).marker, marker);
    });
    test('anonymous: receives a public stream event', async () => {
        const { res, marker } = await subThenPublish({}, 'ta/public/#');
        assert.equal(res.code, 0, res.stderr);
        assert.ok(res.stdout.startsWith(`${streamTopic('ta', 'public')} `), res.stdout);
        assert.ok(res.stdout.includes(marker));
    });
    test('with an expired token: connection refused', async () => {
        const sub = mosquittoSub(port, {
            topic: 'ta/public/#',
            username: 'cli',
            password: await w.token('ta', { ttl: -600 }),
            waitSec: 5,
        });
        const res = await sub.done;
        assert.notEqual(res.code, 0);
        assert.match(res.stderr, /not authori[sz]ed/i);
    });
});

test('the broker shuts down cleanly (no sanitizer reports)', async () => {
    await end(publisher);
    await end(sentinel);
    await w.close();
});
