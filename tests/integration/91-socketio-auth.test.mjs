// socket.io refusals and tokens: every refusal is a CONNECT_ERROR whose code the client sees in
// err.message and err.data.code, over both transports; the token in auth.token, in the
// Authorization header (kept for the whole Engine.IO session, so that the upgrade to WebSocket,
// which a browser makes without headers, keeps working) and in ?token=; two tenants' namespaces
// on one Engine.IO connection; a token that expires disconnects its namespace only.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { Bridge, publisher, shutdown } from './lib/bridge.mjs';
import {
    EioWs,
    Manager,
    closeSocket,
    connected,
    packets,
    parseSio,
    pollGet,
    pollOpen,
    pollPost,
    record,
    refused,
    sio,
    sioPacket,
    until,
} from './lib/sio.mjs';
import { SseReader } from './lib/sse.mjs';
import { ev, stream } from './lib/streams.mjs';
import { craftAlgNone, peekClaims, tamperPayload, tamperSignature } from './lib/tokens.mjs';
import { createWorld } from './lib/world.mjs';

let w;
let bridge;
let pubA;
let pubB;
let readerA;
let readerB;
const keepers = [];
let run = 0;

const streamsOf = () => [
    stream('open', { publicSubscribe: true, events: [ev('app', 'tick')] }),
    stream('priv', { subscriberRoles: ['reader'], events: [ev('app', 'tick')] }),
];

before(async () => {
    w = await createWorld({
        label: 'socketio-auth',
        tenants: { a: { streams: streamsOf() }, b: { streams: streamsOf() } },
        // Without leeway a token expires at its exp, which keeps the expiry tests short.
        limits: { token_leeway_seconds: 0 },
    });
    bridge = await new Bridge(w).start();
    pubA = await publisher(w, 'a');
    pubB = await publisher(w, 'b');
    readerA = await w.token('a', { roles: ['reader'], ttl: 600 });
    readerB = await w.token('b', { roles: ['reader'], ttl: 600 });
    // SSE readers hold every stream, so that its broker subscription is in place before a
    // socket connects (the SSE ready frame waits for the SUBACK).
    for (const [tenant, token] of [['a', readerA], ['b', readerB]]) {
        for (const s of ['open', 'priv']) {
            const r = await SseReader.open(`${bridge.url}/stream/v1/streams/${s}?tenant=${tenant}`, {
                headers: { authorization: `Bearer ${token}` },
            });
            keepers.push(r);
            await r.waitNamed('mqpush:ready');
        }
    }
});

after(async () => {
    keepers.forEach((r) => r.close());
    await pubB?.end().catch(() => {});
    await shutdown({ pub: pubA, bridge, world: w });
});

const bearer = (t) => ({ Authorization: `Bearer ${t}` });

/** Assert a socket is refused with this code, in both places the client shows it. */
async function expectRefusal(socket, code) {
    try {
        const err = await refused(socket);
        assert.match(err.message, new RegExp(`^${code}: \\S`), `err.message: ${err.message}`);
        assert.deepEqual(err.data, { code }, `err.data: ${JSON.stringify(err.data)}`);
        await sleep(100);
        assert.equal(socket.connected, false);
        return err;
    } finally {
        closeSocket(socket);
    }
}

/** Publish one tick of a tenant with a run tag and wait until `socket` has it. */
async function deliveredTo(socket, tenant, stream = 'priv') {
    const tag = `r${++run}`;
    await (tenant === 'a' ? pubA : pubB).publish('app', 'tick', { payload: { run: tag, tenant } });
    await until(() => socket.got.some((g) => g.data?.payload?.run === tag), `${tenant}/${stream} event ${tag} on the socket`);
}

describe('refusals: CONNECT_ERROR with the code in err.message and err.data.code', () => {
    const expiredA = () => w.token('a', { roles: ['reader'], ttl: -3600 });
    const cases = [
        ['auth_required: a private stream and no token', '/a?stream=priv', {}, 'auth_required'],
        ['auth_failed: a junk token', '/a?stream=priv', { auth: { token: 'junk' } }, 'auth_failed'],
        ['auth_failed: a tampered signature', '/a?stream=priv', async () => ({ auth: { token: tamperSignature(readerA) } }), 'auth_failed'],
        [
            'auth_failed: roles raised under the old signature',
            '/a?stream=priv',
            async () => ({ auth: { token: tamperPayload(await w.token('a', { roles: ['x'] }), { roles: ['reader'] }) } }),
            'auth_failed',
        ],
        [
            'auth_failed: alg none',
            '/a?stream=priv',
            async () => ({ auth: { token: craftAlgNone(w.issuers.a.claims({ roles: ['reader'] }), w.issuers.a.keys.kid) } }),
            'auth_failed',
        ],
        ['auth_failed: an expired token', '/a?stream=priv', async () => ({ auth: { token: await expiredA() } }), 'auth_failed'],
        ['auth_failed: a bad token even for a public stream', '/a?stream=open', { auth: { token: 'junk' } }, 'auth_failed'],
        [
            'forbidden: a valid token without the subscriber role',
            '/a?stream=priv',
            async () => ({ auth: { token: await w.token('a', { roles: ['other'] }) } }),
            'forbidden',
        ],
        ["forbidden: tenant a's reader token on namespace /b", '/b?stream=priv', () => ({ auth: { token: readerA } }), 'forbidden'],
        ["forbidden: tenant a's token on /b, even for a public stream", '/b?stream=open', () => ({ auth: { token: readerA } }), 'forbidden'],
        ['unknown_stream', '/a?stream=nope', {}, 'unknown_stream'],
        ['unknown_tenant: no such namespace', '/nobody?stream=open', {}, 'unknown_tenant'],
        ['unknown_tenant: the main namespace /', '/?stream=open', {}, 'unknown_tenant'],
        ['stream_required: no auth.stream, no ?stream=', '/a', {}, 'stream_required'],
        ['bad_criteria: ?criteria= not JSON', `/a?stream=open&criteria=${encodeURIComponent('{bad')}`, {}, 'bad_criteria'],
        ['bad_criteria: ?criteria= not an object', `/a?stream=open&criteria=${encodeURIComponent('[1,2]')}`, {}, 'bad_criteria'],
        ['bad_criteria: auth.criteria a string', '/a', { auth: { stream: 'open', criteria: 'text' } }, 'bad_criteria'],
    ];
    for (const transports of [['websocket'], ['polling']]) {
        for (const [name, path, opts, code] of cases) {
            test(`${name} (${transports})`, async () => {
                const o = typeof opts === 'function' ? await opts() : opts;
                await expectRefusal(sio(bridge, path, { transports, ...o }), code);
            });
        }
    }

    test('a refused namespace leaves the Engine.IO connection usable for another one', async () => {
        const m = new Manager(bridge.url, { transports: ['websocket'], reconnection: false });
        const bad = record(m.socket('/a', { auth: { stream: 'priv' } }));
        const other = record(m.socket('/b', { auth: { stream: 'open' } }));
        try {
            const err = await refused(bad);
            assert.equal(err.data?.code, 'auth_required');
            await connected(other);
            await deliveredTo(other, 'b', 'open');
            assert.equal(other.connected, true);
        } finally {
            other.disconnect();
            m.engine?.close();
        }
    });
});

describe('where the token comes from', () => {
    test('auth.token, over WebSocket and polling', async () => {
        for (const transports of [['websocket'], ['polling']]) {
            const s = sio(bridge, '/a', { transports, auth: { stream: 'priv', token: readerA } });
            try {
                await connected(s);
                await deliveredTo(s, 'a');
            } finally {
                closeSocket(s);
            }
        }
    });

    test('?token= of the handshake, over WebSocket and polling', async () => {
        // socket.io-client puts the URL's query before EIO=4&transport=...: a long ?token=
        // comes first in the handshake's query string.
        for (const transports of [['websocket'], ['polling']]) {
            const s = sio(bridge, `/a?stream=priv&token=${readerA}`, { transports });
            try {
                await connected(s);
                await deliveredTo(s, 'a');
            } finally {
                closeSocket(s);
            }
        }
    });

    test('extraHeaders.Authorization with default transports: connected, upgraded, events after the upgrade', async () => {
        const s = sio(bridge, '/a?stream=priv', { extraHeaders: bearer(readerA), withCredentials: true });
        try {
            assert.equal(s.io.engine.transport.name, 'polling');
            await connected(s);
            await until(() => s.io.engine.transport.name === 'websocket', 'the upgrade to websocket');
            await deliveredTo(s, 'a');
            assert.equal(s.got.at(-1).transport, 'websocket');
            assert.deepEqual(s.disconnects, []);
        } finally {
            closeSocket(s);
        }
    });

    test('extraHeaders.Authorization with WebSocket only', async () => {
        const s = sio(bridge, '/a?stream=priv', { transports: ['websocket'], extraHeaders: bearer(readerA) });
        try {
            await connected(s);
            await deliveredTo(s, 'a');
        } finally {
            closeSocket(s);
        }
    });

    test('auth.token comes before the header: a good auth.token wins over a junk header, a junk one is refused', async () => {
        const s = sio(bridge, '/a?stream=priv', { transports: ['websocket'], extraHeaders: bearer('junk'), auth: { token: readerA } });
        try {
            await connected(s);
            await deliveredTo(s, 'a');
        } finally {
            closeSocket(s);
        }
        await expectRefusal(
            sio(bridge, '/a?stream=priv', { transports: ['websocket'], extraHeaders: bearer(readerA), auth: { token: 'junk' } }),
            'auth_failed',
        );
    });

    test('the header of the polling handshake holds for a CONNECT sent after the upgrade, on a WebSocket without headers', async () => {
        for (const [label, headers, want] of [
            ['with the header', bearer(readerA), 0],
            ['without it', {}, 4],
        ]) {
            const { sid } = await pollOpen(bridge.port, { headers });
            const held = pollGet(bridge.port, sid, { timeoutMs: 30000 }).catch((e) => ({ error: e.message }));
            const ws = await EioWs.open(bridge.port, { sid }); // no Authorization here
            try {
                assert.equal(ws.closed, null, `${label}: upgrade refused: ${ws.error?.message}`);
                ws.send('2probe');
                assert.equal(await ws.take(() => true, { what: '3probe' }), '3probe');
                await held;
                ws.send('5');
                const ans = await ws.join('/a', { stream: 'priv' });
                assert.equal(ans.type, want, `${label}: ${JSON.stringify(ans)}`);
                if (want === 4) assert.equal(ans.data.data.code, 'auth_required');
                else {
                    const tag = `r${++run}`;
                    await pubA.publish('app', 'tick', { payload: { run: tag } });
                    const evt = parseSio(await ws.take((m) => m.startsWith('42/a,'), { what: 'EVENT' }));
                    assert.equal(evt.data[1].payload.run, tag);
                }
            } finally {
                ws.close();
            }
        }
    });

    test('?token= of the polling handshake holds for a CONNECT sent over polling later', async () => {
        const { sid } = await pollOpen(bridge.port, { query: `&token=${readerA}` });
        await pollPost(bridge.port, sid, sioPacket(0, '/a', { stream: 'priv' }));
        const r = await pollGet(bridge.port, sid);
        const ans = parseSio(packets(r.body)[0]);
        assert.equal(ans.type, 0, r.body);
        await pollPost(bridge.port, sid, '1');
    });
});

describe('two namespaces on one Engine.IO connection', () => {
    for (const transports of [['websocket'], ['polling', 'websocket']]) {
        test(`/a and /b through one Manager (${transports}) each get their own tenant's events only`, async () => {
            const m = new Manager(bridge.url, { transports, reconnection: false });
            const sa = record(m.socket('/a', { auth: { stream: 'open' } }));
            const sb = record(m.socket('/b', { auth: { stream: 'priv', token: readerB } }));
            try {
                await Promise.all([connected(sa), connected(sb)]);
                assert.equal(sa.io.engine, sb.io.engine, 'one Engine.IO connection');
                const tag = `r${++run}`;
                for (let i = 0; i < 3; i++) {
                    await pubA.publish('app', 'tick', { payload: { run: tag, tenant: 'a', n: i } });
                    await pubB.publish('app', 'tick', { payload: { run: tag, tenant: 'b', n: i } });
                }
                const mine = (g) => g.data?.payload?.run === tag;
                await until(() => sa.got.filter(mine).length >= 3 && sb.got.filter(mine).length >= 3, '3 events on each');
                await sleep(300);
                assert.deepEqual(sa.got.filter(mine).map((g) => `${g.data.payload.tenant}${g.data.payload.n}`), ['a0', 'a1', 'a2']);
                assert.deepEqual(sb.got.filter(mine).map((g) => `${g.data.payload.tenant}${g.data.payload.n}`), ['b0', 'b1', 'b2']);
            } finally {
                sa.disconnect();
                sb.disconnect();
                m.engine?.close();
            }
        });
    }

    test('leaving one namespace keeps the other', async () => {
        const m = new Manager(bridge.url, { transports: ['websocket'], reconnection: false });
        const sa = record(m.socket('/a', { auth: { stream: 'open' } }));
        const sb = record(m.socket('/b', { auth: { stream: 'open' } }));
        try {
            await Promise.all([connected(sa), connected(sb)]);
            sa.disconnect();
            await sleep(200);
            await deliveredTo(sb, 'b', 'open');
            assert.equal(sb.connected, true);
        } finally {
            sb.disconnect();
            m.engine?.close();
        }
    });
});

describe('token expiry', () => {
    test("an expiring token disconnects its socket ('io server disconnect'), which does not come back by itself", async () => {
        const token = await w.token('a', { roles: ['reader'], ttl: 2 });
        const exp = peekClaims(token).exp * 1000;
        const s = sio(bridge, '/a', { transports: ['websocket'], auth: { stream: 'priv', token }, reconnection: true, reconnectionDelay: 100 });
        try {
            await connected(s);
            await deliveredTo(s, 'a');
            await until(() => s.disconnects.length > 0, 'the disconnect', 8000);
            const at = Date.now();
            assert.deepEqual(s.disconnects, ['io server disconnect']);
            assert.ok(at >= exp - 50 && at < exp + 3000, `disconnected ${at - exp} ms after exp`);
            await sleep(1500);
            assert.equal(s.connects.length, 1, 'no reconnect by itself');
            assert.equal(s.connected, false);
        } finally {
            closeSocket(s);
        }
        await expectRefusal(sio(bridge, '/a', { transports: ['websocket'], auth: { stream: 'priv', token } }), 'auth_failed');
    });

    test('a header token that expires: the namespace is disconnected even after the upgrade to WebSocket', async () => {
        const token = await w.token('a', { roles: ['reader'], ttl: 2 });
        const s = sio(bridge, '/a?stream=priv', { extraHeaders: bearer(token) });
        try {
            await connected(s);
            await until(() => s.disconnects.length > 0, 'the disconnect', 8000);
            assert.deepEqual(s.disconnects, ['io server disconnect']);
        } finally {
            closeSocket(s);
        }
    });

    test('the expiry of one namespace leaves the other namespace of the connection running', async () => {
        const token = await w.token('a', { roles: ['reader'], ttl: 2 });
        const m = new Manager(bridge.url, { transports: ['websocket'], reconnection: false });
        const short = record(m.socket('/a', { auth: { stream: 'priv', token } }));
        const steady = record(m.socket('/b', { auth: { stream: 'priv', token: readerB } }));
        try {
            await Promise.all([connected(short), connected(steady)]);
            await until(() => short.disconnects.length > 0, 'the disconnect of /a', 8000);
            assert.deepEqual(short.disconnects, ['io server disconnect']);
            await deliveredTo(steady, 'b');
            assert.equal(steady.connected, true);
            assert.deepEqual(steady.disconnects, []);
            assert.equal(m.engine.readyState, 'open', 'the Engine.IO connection stays');
        } finally {
            steady.disconnect();
            m.engine?.close();
        }
    });
});
