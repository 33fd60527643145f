// socket.io from the real bridge: socket.io-client 4.8 in node over its three transport setups
// (polling upgraded to WebSocket, WebSocket only, polling only) gets exactly what SSE gets for
// the same stream; per-connection criteria; client emits; and Engine.IO / Socket.IO at the
// wire (node:http and npm ws): the open packet, error codes, overlapping requests, malformed
// bodies, the upgrade sequence, heartbeats, the connect timeout, max_payload, CORS.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { Bridge, publisher, shutdown } from './lib/bridge.mjs';
import { expectedCopy } from './lib/expect.mjs';
import {
    EioWs,
    SEP,
    closeSocket,
    connected,
    eioError,
    eioPath,
    httpReq,
    packets,
    parseSio,
    pollGet,
    pollOpen,
    pollPost,
    sio,
    sioPacket,
    until,
} from './lib/sio.mjs';
import { SseReader } from './lib/sse.mjs';
import { ev, stream } from './lib/streams.mjs';
import { createWorld } from './lib/world.mjs';

const MAP = { orderId: 'payload.order.id', total: 'payload.order.total' };
const PING_INTERVAL = 20000;
const PING_TIMEOUT = 15000;
const MAX_PAYLOAD = 100000;
const ORIGIN = 'http://app.example:8080';
// The "fast" bridge: heartbeats and the connect timeout short enough to watch.
const FAST = { ping_interval_ms: 400, ping_timeout_ms: 300, connect_timeout_ms: 1500 };

let w;
let bridge;
let fast;
let star;
let disabled;
let pub;
let keeper;
let run = 0;

before(async () => {
    w = await createWorld({
        label: 'socketio',
        tenants: {
            t: {
                streams: [
                    stream('open', {
                        publicSubscribe: true,
                        events: [ev('app', 'tick'), ev('shop', 'ordered', { map: MAP })],
                    }),
                ],
            },
        },
    });
    bridge = await new Bridge(w, {
        extra: {
            socketio: {
                ping_interval_ms: PING_INTERVAL,
                ping_timeout_ms: PING_TIMEOUT,
                max_payload: MAX_PAYLOAD,
                cors_origins: [ORIGIN],
            },
        },
    }).start();
    fast = await new Bridge(w, { name: 'fast', extra: { socketio: FAST } }).start();
    star = await new Bridge(w, { name: 'star', extra: { socketio: { cors_origins: ['*'] } } }).start();
    disabled = await new Bridge(w, { name: 'disabled', extra: { socketio: { enabled: false } } }).start();
    pub = await publisher(w, 't');
    // An SSE reader holds the stream for the whole file, so that the broker subscription is in
    // place before any socket connects (SSE's ready frame waits for the SUBACK).
    keeper = await SseReader.open(`${bridge.url}/stream/v1/streams/open?tenant=t`);
    await keeper.waitNamed('mqpush:ready');
});

after(async () => {
    keeper?.close();
    try {
        await star?.stop();
        await fast?.stop();
        await disabled?.stop();
    } finally {
        star?.kill();
        fast?.kill();
        disabled?.kill();
        await shutdown({ pub, bridge, world: w });
    }
});

/** The events a list of recorded socket.io events and an SSE reader got, for one run tag. */
const ofRun = (tag) => (g) => g.data?.payload?.run === tag || g.data?.correlationId === tag;

describe('socket.io-client 4.8 in node', () => {
    test('polling, WebSocket only and the default (polling upgraded) all get what SSE gets, in order', async () => {
        const tag = `r${++run}`;
        const sse = await SseReader.open(`${bridge.url}/stream/v1/streams/open?tenant=t`);
        const sockets = {
            default: sio(bridge, '/t?stream=open'),
            websocket: sio(bridge, '/t?stream=open', { transports: ['websocket'] }),
            polling: sio(bridge, '/t?stream=open', { transports: ['polling'] }),
        };
        try {
            await sse.waitNamed('mqpush:ready');
            await Promise.all(Object.values(sockets).map((s) => connected(s)));
            const published = [];
            for (let i = 0; i < 12; i++) {
                const body =
                    i % 3 === 2
                        ? { correlationId: tag, payload: { order: { id: `o${i}`, total: i, secret: 's' } } }
                        : { payload: { run: tag, n: i } };
                published.push([i % 3 === 2 ? 'shop:ordered' : 'app:tick', body]);
                await pub.publish(...published.at(-1)[0].split(':'), body);
            }
            const sseEvents = () => sse.events().filter((e) => ofRun(tag)({ data: e }));
            await sse.waitFor(() => sseEvents().length === 12, { what: '12 SSE events' });
            for (const [name, s] of Object.entries(sockets))
                await until(() => s.got.filter(ofRun(tag)).length === 12, `12 events on the ${name} socket`);
            await sleep(200);
            const want = sseEvents();
            // SSE itself is right: the projections of what was published.
            assert.deepEqual(
                want.map(({ id, namespace, name, timestamp, ...rest }) => rest),
                published.map(([n, body]) => expectedCopy(n === 'shop:ordered' ? { map: MAP } : {}, body)),
            );
            for (const [name, s] of Object.entries(sockets)) {
                const got = s.got.filter(ofRun(tag));
                assert.equal(got.length, 12, `${name}: nothing doubled`);
                assert.deepEqual(
                    got.map((g) => g.event),
                    want.map((e) => `${e.namespace}:${e.name}`),
                    `${name}: event names are <namespace>:<name>`,
                );
                assert.deepEqual(got.map((g) => g.data), want, `${name}: the same stream event JSON as SSE's data:`);
                assert.deepEqual(got.map((g) => g.offset), want.map((e) => e.id), `${name}: the offset is the event id`);
                assert.ok(got.every((g) => g.nargs === 2), `${name}: two arguments per event`);
            }
            assert.ok(sockets.polling.got.every((g) => g.transport === 'polling'));
            assert.equal(sockets.polling.io.engine.transport.name, 'polling', 'polling only never upgrades');
            assert.ok(sockets.websocket.got.every((g) => g.transport === 'websocket'));
            assert.ok(!JSON.stringify(sockets.default.got).includes('"secret"'), 'the map applies');
        } finally {
            sse.close();
            Object.values(sockets).forEach(closeSocket);
        }
    });

    test('default transports start on polling, upgrade to websocket, and events keep coming after the upgrade', async () => {
        const tag = `r${++run}`;
        const s = sio(bridge, '/t?stream=open');
        const upgrades = [];
        const first = s.io.engine.transport.name;
        s.io.engine.on('upgrade', (t) => upgrades.push(t.name));
        try {
            await connected(s);
            assert.equal(first, 'polling', 'the first transport is polling');
            await until(() => s.io.engine.transport.name === 'websocket', 'the upgrade to websocket');
            assert.deepEqual(upgrades, ['websocket']);
            for (let i = 0; i < 5; i++) await pub.publish('app', 'tick', { payload: { run: tag, n: i } });
            await until(() => s.got.filter(ofRun(tag)).length === 5, '5 events after the upgrade');
            const got = s.got.filter(ofRun(tag));
            assert.deepEqual(got.map((g) => g.data.payload.n), [0, 1, 2, 3, 4]);
            assert.ok(got.every((g) => g.transport === 'websocket'), 'delivered over the WebSocket');
            assert.equal(s.connected, true);
            assert.deepEqual(s.disconnects, []);
        } finally {
            closeSocket(s);
        }
    });

    test('?criteria= of the handshake and auth.criteria each narrow one socket only', async () => {
        const tag = `r${++run}`;
        const keep = { correlationId: `${tag}-keep` };
        const wide = sio(bridge, '/t?stream=open');
        const byQuery = sio(bridge, `/t?stream=open&criteria=${encodeURIComponent(JSON.stringify(keep))}`);
        const byAuth = sio(bridge, '/t', { auth: { stream: 'open', criteria: keep }, transports: ['websocket'] });
        const mine = (g) => g.data?.correlationId?.startsWith(tag);
        try {
            await Promise.all([wide, byQuery, byAuth].map((s) => connected(s)));
            for (const c of ['drop', 'keep', 'drop', 'keep', 'drop'])
                await pub.publish('app', 'tick', { correlationId: `${tag}-${c}`, payload: { c } });
            await until(() => wide.got.filter(mine).length === 5, 'all 5 on the unfiltered socket');
            await until(() => byQuery.got.filter(mine).length >= 2, '2 on the ?criteria= socket');
            await until(() => byAuth.got.filter(mine).length >= 2, '2 on the auth.criteria socket');
            await sleep(300);
            for (const [name, s] of [['?criteria=', byQuery], ['auth.criteria', byAuth]])
                assert.deepEqual(s.got.filter(mine).map((g) => g.data.correlationId), [`${tag}-keep`, `${tag}-keep`], name);
            const m = await bridge.metrics();
            assert.ok(m['mqpush_bridge_deliveries_total{channel="socketio",result="filtered"}'] >= 6, JSON.stringify(m));
        } finally {
            [wide, byQuery, byAuth].forEach(closeSocket);
        }
    });

    test('a client emit with an ack id gets an empty ack; emits change nothing else', async () => {
        const tag = `r${++run}`;
        for (const transports of [['websocket'], ['polling']]) {
            const s = sio(bridge, '/t?stream=open', { transports });
            try {
                await connected(s);
                s.emit('hello', { any: 'thing' });
                const reply = await s.timeout(5000).emitWithAck('question', 42);
                assert.equal(reply, undefined, `${transports}: the ack carries no arguments`);
                await pub.publish('app', 'tick', { payload: { run: tag } });
                await until(() => s.got.filter(ofRun(tag)).length === 1, `${transports}: an event after the emits`);
                assert.equal(s.connected, true);
            } finally {
                closeSocket(s);
            }
        }
    });

    test('socket.io connections are counted in /metrics and released when clients leave', async () => {
        const sockets = [
            sio(bridge, '/t?stream=open', { transports: ['websocket'] }),
            sio(bridge, '/t?stream=open', { transports: ['polling'] }),
            sio(bridge, '/t?stream=open'),
        ];
        await Promise.all(sockets.map((s) => connected(s)));
        let m = await bridge.metrics();
        assert.ok(m['mqpush_bridge_connections{channel="socketio"}'] >= 3, JSON.stringify(m));
        sockets.forEach(closeSocket);
        await until(async () => {
            m = await bridge.metrics();
            return m['mqpush_bridge_connections{channel="socketio"}'] === 0;
        }, 'the socketio gauge back to 0', 10000).catch(() => {});
        assert.equal(m['mqpush_bridge_connections{channel="socketio"}'], 0);
    });
});

describe('Engine.IO at the wire', () => {
    test('the polling handshake answers the open packet with the configured values', async () => {
        const r = await httpReq(bridge.port, eioPath('&transport=polling'));
        assert.equal(r.status, 200, r.body);
        assert.match(r.headers['content-type'], /^text\/plain/);
        assert.equal(r.body[0], '0');
        assert.ok(!r.body.includes(SEP), 'one packet');
        const open = JSON.parse(r.body.slice(1));
        assert.deepEqual(Object.keys(open).sort(), ['maxPayload', 'pingInterval', 'pingTimeout', 'sid', 'upgrades']);
        assert.match(open.sid, /^[A-Za-z0-9_-]{16,}$/);
        assert.deepEqual(open.upgrades, ['websocket']);
        assert.equal(open.pingInterval, PING_INTERVAL);
        assert.equal(open.pingTimeout, PING_TIMEOUT);
        assert.equal(open.maxPayload, MAX_PAYLOAD);
        const again = await pollOpen(bridge.port);
        assert.notEqual(again.sid, open.sid, 'every handshake is a new session');
    });

    test('a WebSocket without sid opens a session on its own, with no upgrades to offer', async () => {
        const c = await EioWs.open(bridge.port);
        try {
            const open = await c.openPacket();
            assert.deepEqual(open.upgrades, []);
            assert.equal(open.pingInterval, PING_INTERVAL);
            assert.equal(open.maxPayload, MAX_PAYLOAD);
            assert.equal(c.messages.length, 1, 'the open packet comes first');
        } finally {
            c.close();
        }
    });

    const errors = [
        ['unknown sid (GET)', 'GET', '&transport=polling&sid=AAAAAAAAAAAAAAAAAAAA', 1, 'Session ID unknown'],
        ['unknown sid (POST)', 'POST', '&transport=polling&sid=AAAAAAAAAAAAAAAAAAAA', 1, 'Session ID unknown'],
        ['unknown transport', 'GET', '&transport=carrier-pigeon', 0, 'Transport unknown'],
        ['no transport', 'GET', '', 0, 'Transport unknown'],
        ['a handshake by POST', 'POST', '&transport=polling', 2, 'Bad handshake method'],
    ];
    for (const [name, method, query, code, message] of errors) {
        test(`400 {"code":${code}}: ${name}`, async () => {
            const r = await httpReq(bridge.port, eioPath(query), { method, body: method === 'POST' ? '40' : undefined });
            assert.equal(r.status, 400, r.body);
            assert.match(r.headers['content-type'] ?? '', /^application\/json/);
            assert.deepEqual(eioError(r), { code, message });
        });
    }

    test('EIO and transport are found after long query parameters (socket.io-client puts its query first)', async () => {
        for (const len of [20, 100, 500, 2000]) {
            const r = await httpReq(bridge.port, `/socket.io/?stream=open&x=${'a'.repeat(len)}&EIO=4&transport=polling`);
            assert.equal(r.status, 200, `a ${len}-character parameter before EIO: ${r.status} ${r.body}`);
            assert.equal(r.body[0], '0');
        }
    });

    test('400 {"code":5}: EIO=3 and a missing EIO', async () => {
        for (const path of ['/socket.io/?EIO=3&transport=polling', '/socket.io/?transport=polling']) {
            const r = await httpReq(bridge.port, path);
            assert.equal(r.status, 400, `${path}: ${r.body}`);
            assert.deepEqual(eioError(r), { code: 5, message: 'Unsupported protocol version' }, path);
        }
    });

    test('a second GET while one is pending closes the session', async () => {
        const { sid } = await pollOpen(bridge.port);
        const t0 = Date.now();
        const firstP = pollGet(bridge.port, sid, { timeoutMs: 15000 }).then(
            (r) => ({ ...r, at: Date.now() }),
            (e) => ({ error: e.message, at: Date.now() }),
        );
        await sleep(300); // the first is now held (nothing to send for pingInterval)
        const second = await pollGet(bridge.port, sid).catch((e) => ({ error: e.message }));
        assert.equal(second.status, 400, `the overlapping GET: ${JSON.stringify(second)}`);
        const first = await firstP;
        assert.ok(first.at - t0 < 5000, `the held GET was released (after ${first.at - t0} ms), not left to pingInterval`);
        if (first.status === 200) assert.ok(!packets(first.body).includes('2'), 'released by the close, not a ping');
        const after = await pollGet(bridge.port, sid);
        assert.equal(after.status, 400);
        assert.deepEqual(eioError(after), { code: 1, message: 'Session ID unknown' });
    });

    test('a second POST while one is pending closes the session', async () => {
        const { sid } = await pollOpen(bridge.port);
        // The first POST announces 10 bytes and sends 2: the bridge waits for the rest.
        let firstReq;
        const firstP = httpReq(bridge.port, eioPath(`&transport=polling&sid=${sid}`), {
            method: 'POST',
            headers: { 'content-type': 'text/plain;charset=UTF-8', 'content-length': '10' },
            onRequest: (req) => {
                firstReq = req;
                req.write('40');
                req.end = () => {}; // keep the body incomplete
            },
        }).catch((e) => ({ error: e.message }));
        await sleep(300);
        const second = await pollPost(bridge.port, sid, '40').catch((e) => ({ error: e.message }));
        assert.equal(second.status, 400, `the overlapping POST: ${JSON.stringify(second)}`);
        firstReq.destroy();
        await firstP;
        const after = await pollGet(bridge.port, sid);
        assert.deepEqual(eioError(after), { code: 1, message: 'Session ID unknown' });
    });

    for (const [name, body] of [
        ['an unknown packet type', '9nine'],
        ['a bad packet among good ones', `40/t,{"stream":"open"}${SEP}X${SEP}2`],
    ]) {
        test(`a POST with ${name} closes the session`, async () => {
            const { sid } = await pollOpen(bridge.port);
            await pollPost(bridge.port, sid, body).catch(() => {});
            const r = await pollGet(bridge.port, sid, { timeoutMs: 5000 }).catch((e) => ({ error: e.message }));
            // Either the session is already gone, or its last poll carries the close packet.
            if (r.status === 200) {
                assert.ok(packets(r.body).includes('1'), `expected a close packet, got ${JSON.stringify(r.body)}`);
                const again = await pollGet(bridge.port, sid);
                assert.deepEqual(eioError(again), { code: 1, message: 'Session ID unknown' });
            } else {
                assert.equal(r.status, 400, JSON.stringify(r));
                assert.deepEqual(eioError(r), { code: 1, message: 'Session ID unknown' });
            }
        });
    }

    test('a POST body over max_payload is refused and ends the session', async () => {
        const { sid } = await pollOpen(bridge.port);
        const big = `42/t,["big","${'x'.repeat(MAX_PAYLOAD + 10)}"]`;
        const r = await pollPost(bridge.port, sid, big).catch((e) => ({ error: e.message }));
        // The reference server answers 413; a bridge may also just close the connection.
        if (r.status !== undefined) assert.equal(r.status, 413, `POST of ${big.length} bytes: ${r.status} ${r.body}`);
        const after = await pollGet(bridge.port, sid, { timeoutMs: 5000 }).catch((e) => ({ error: e.message }));
        if (after.status === 200) assert.ok(packets(after.body).includes('1'), `expected the close packet, got ${JSON.stringify(after.body)}`);
        else assert.deepEqual(eioError(after), { code: 1, message: 'Session ID unknown' });
    });

    test('a long poll closed by the client ends the session', async () => {
        const { sid } = await pollOpen(bridge.port);
        let req;
        const p = pollGet(bridge.port, sid, { onRequest: (r) => (req = r) }).catch(() => {});
        await sleep(300);
        req.destroy();
        await p;
        await sleep(300);
        const r = await pollGet(bridge.port, sid, { timeoutMs: 3000 }).catch((e) => ({ error: e.message }));
        assert.equal(r.status, 400, JSON.stringify(r));
        assert.deepEqual(eioError(r), { code: 1, message: 'Session ID unknown' });
    });

    test('polling carries Socket.IO: CONNECT answered with sid and pid, EVENTs batched with \\x1e', async () => {
        const tag = `r${++run}`;
        const { sid } = await pollOpen(bridge.port);
        assert.equal((await pollPost(bridge.port, sid, sioPacket(0, '/t', { stream: 'open' }))).body, 'ok');
        const ans = await pollGet(bridge.port, sid);
        assert.equal(ans.status, 200);
        const connect = parseSio(packets(ans.body)[0]);
        assert.equal(connect.type, 0);
        assert.equal(connect.nsp, '/t');
        assert.equal(typeof connect.data.sid, 'string');
        assert.notEqual(connect.data.sid, sid, 'the socket id is not the Engine.IO session id');
        assert.equal(typeof connect.data.pid, 'string', 'recovery is on by default: a pid');
        for (let i = 0; i < 3; i++) await pub.publish('app', 'tick', { payload: { run: tag, n: i } });
        await sleep(300);
        const got = [];
        while (got.length < 3) {
            const r = await pollGet(bridge.port, sid);
            assert.equal(r.status, 200);
            for (const p of packets(r.body)) if (p.startsWith('42')) got.push(parseSio(p));
        }
        for (const [i, p] of got.entries()) {
            assert.equal(p.nsp, '/t');
            assert.equal(p.data[0], 'app:tick');
            assert.equal(p.data[1].payload.n, i);
            assert.equal(p.data[2], p.data[1].id);
        }
        await pollPost(bridge.port, sid, '1');
    });

    test('upgrade: 2probe -> 3probe, the held GET released with a noop, 5, then polling refused', async () => {
        const tag = `r${++run}`;
        const { sid } = await pollOpen(bridge.port);
        await pollPost(bridge.port, sid, sioPacket(0, '/t', { stream: 'open' }));
        const connect = await pollGet(bridge.port, sid);
        assert.equal(parseSio(packets(connect.body)[0]).type, 0, connect.body);
        const heldP = pollGet(bridge.port, sid, { timeoutMs: 15000 }).then((r) => ({ ...r, at: Date.now() }));
        await sleep(200);
        const ws = await EioWs.open(bridge.port, { sid });
        try {
            assert.equal(ws.closed, null, `the upgrade request was refused: ${ws.error?.message}`);
            await sleep(200);
            assert.deepEqual(ws.messages, [], 'nothing on the WebSocket before the probe');
            ws.send('2probe');
            assert.equal(await ws.take(() => true, { what: '3probe' }), '3probe');
            const t = Date.now();
            const held = await heldP;
            assert.equal(held.status, 200);
            assert.deepEqual(packets(held.body), ['6'], 'the held GET is released with a noop');
            assert.ok(held.at - t < 3000);
            ws.send('5');
            await sleep(200);
            const refusedGet = await pollGet(bridge.port, sid);
            assert.equal(refusedGet.status, 400, `polling after the upgrade: ${refusedGet.status} ${refusedGet.body}`);
            // The reference server answers 3 (Bad request): the sid is known, the transport wrong.
            assert.deepEqual(eioError(refusedGet), { code: 3, message: 'Bad request' });
            // The session lives on over the WebSocket: events come there.
            await pub.publish('app', 'tick', { payload: { run: tag } });
            const evt = parseSio(await ws.take((m) => m.startsWith('42/t,'), { what: 'an EVENT on the WebSocket' }));
            assert.equal(evt.data[1].payload.run, tag);
        } finally {
            ws.close();
        }
    });

    test('upgrade: a GET that arrives after 3probe, before 5, is released with a noop too', async () => {
        // socket.io-client polls again whenever a poll returns, so a GET can come in after the
        // probe was answered; it then waits for that GET before it sends 5. The reference server
        // answers such a GET with a noop (it checks every 100 ms until the upgrade).
        const { sid } = await pollOpen(bridge.port);
        await pollPost(bridge.port, sid, sioPacket(0, '/t', { stream: 'open' }));
        await pollGet(bridge.port, sid); // the CONNECT answer
        const ws = await EioWs.open(bridge.port, { sid });
        try {
            ws.send('2probe');
            assert.equal(await ws.take(() => true, { what: '3probe' }), '3probe');
            await sleep(100);
            const t = Date.now();
            const late = await pollGet(bridge.port, sid, { timeoutMs: 5000 }).catch((e) => ({ error: e.message }));
            assert.equal(late.status, 200, `GET after 3probe: ${JSON.stringify(late)}`);
            assert.deepEqual(packets(late.body), ['6']);
            assert.ok(Date.now() - t < 1000, `released after ${Date.now() - t} ms`);
            ws.send('5');
            await sleep(100);
            assert.equal((await pollGet(bridge.port, sid)).status, 400);
        } finally {
            ws.close();
        }
    });

    test('socket.io-client with default transports completes the upgrade every time (20 in a row)', async () => {
        const stuck = [];
        for (let i = 0; i < 20; i++) {
            const s = sio(bridge, '/t?stream=open');
            try {
                await connected(s);
                await until(() => s.io.engine.transport.name === 'websocket', 'upgrade', 3000).catch(() => stuck.push(i));
            } finally {
                closeSocket(s);
            }
        }
        assert.deepEqual(stuck, [], 'connections still on polling (upgrading) 3 s after connect');
    });

    test('WebSocket EVENT frames: 42/<tenant>,["<ns>:<name>",<event>,"<offset>"]; acks as 43/<tenant>,<id>[]', async () => {
        const tag = `r${++run}`;
        const c = await EioWs.open(bridge.port);
        try {
            await c.openPacket();
            const ans = await c.join('/t', { stream: 'open' });
            assert.equal(ans.type, 0, JSON.stringify(ans));
            await pub.publish('app', 'tick', { payload: { run: tag } });
            const raw = await c.take((m) => m.startsWith('42/t,'), { what: 'EVENT' });
            const p = parseSio(raw);
            assert.equal(p.id, undefined, 'no ack asked of the client');
            assert.equal(p.data.length, 3);
            assert.equal(p.data[0], 'app:tick');
            assert.equal(p.data[2], p.data[1].id);
            c.send(sioPacket(2, '/t', ['question', 1], 17));
            assert.equal(await c.take((m) => m.startsWith('43'), { what: 'ACK' }), '43/t,17[]');
        } finally {
            c.close();
        }
    });

    test('a WebSocket message over max_payload ends the session', async () => {
        const c = await EioWs.open(bridge.port);
        try {
            await c.openPacket();
            assert.equal((await c.join('/t', { stream: 'open' })).type, 0);
            c.send(`42/t,["big","${'x'.repeat(MAX_PAYLOAD + 10)}"]`);
            await c.waitClosed(5000);
        } finally {
            c.close();
        }
    });
});

describe('socketio.enabled false', () => {
    test('/socket.io/ is not served: 404 for polling and for a WebSocket', async () => {
        const r = await httpReq(disabled.port, eioPath('&transport=polling'));
        assert.equal(r.status, 404, r.body);
        const c = await EioWs.open(disabled.port);
        try {
            await c.waitClosed(5000);
            assert.deepEqual(c.messages, [], 'no open packet');
        } finally {
            c.close();
        }
    });
});

describe('heartbeat and connect timeout (pingInterval 400 ms, pingTimeout 300 ms, connect timeout 1500 ms)', () => {
    test('a client that stops answering pings is dropped after pingInterval + pingTimeout', async () => {
        const c = await EioWs.open(fast.port, { autoPong: false });
        try {
            const open = await c.openPacket();
            assert.equal(open.pingInterval, FAST.ping_interval_ms);
            assert.equal(open.pingTimeout, FAST.ping_timeout_ms);
            assert.equal((await c.join('/t', { stream: 'open' })).type, 0);
            await c.take((m) => m === '2', { what: 'a ping' });
            const closed = await c.waitClosed(5000);
            const after = closed.at - c.opened;
            const limit = FAST.ping_interval_ms + FAST.ping_timeout_ms;
            assert.ok(after >= limit - 100 && after < limit + 1500, `dropped after ${after} ms (expected about ${limit})`);
            assert.equal(c.messages.filter((m) => m === '2').length, 1, 'one unanswered ping is enough');
        } finally {
            c.close();
        }
    });

    test('a client that answers pings stays, and pings come every pingInterval', async () => {
        const c = await EioWs.open(fast.port);
        try {
            await c.openPacket();
            assert.equal((await c.join('/t', { stream: 'open' })).type, 0);
            await sleep(3000);
            assert.equal(c.closed, null, 'still open after 3 s');
            const pings = c.messages.filter((m) => m === '2').length;
            assert.ok(pings >= 5 && pings <= 9, `${pings} pings in 3 s at 400 ms`);
        } finally {
            c.close();
        }
    });

    test('long polling gets the ping as the answer to a held GET', async () => {
        const { sid } = await pollOpen(fast.port);
        await pollPost(fast.port, sid, sioPacket(0, '/t', { stream: 'open' }));
        const first = await pollGet(fast.port, sid); // the CONNECT answer (and maybe the ping already)
        const t = Date.now();
        const seen = packets(first.body);
        while (!seen.includes('2')) {
            const r = await pollGet(fast.port, sid, { timeoutMs: 5000 });
            assert.equal(r.status, 200, r.body);
            seen.push(...packets(r.body));
        }
        assert.ok(Date.now() - t < 1500, 'the held GET was answered by the ping');
        assert.equal((await pollPost(fast.port, sid, '3')).body, 'ok');
        await pollPost(fast.port, sid, '1');
    });

    test('a session that joins no namespace is closed after connect_timeout_ms', async () => {
        const c = await EioWs.open(fast.port); // answers pings, never sends CONNECT
        try {
            await c.openPacket();
            const closed = await c.waitClosed(6000);
            const after = closed.at - c.opened;
            assert.ok(after >= FAST.connect_timeout_ms - 100 && after < FAST.connect_timeout_ms + 2000, `closed after ${after} ms`);
        } finally {
            c.close();
        }
    });
});

describe('CORS', () => {
    const handshake = eioPath('&transport=polling');

    test('a configured origin is echoed with credentials allowed, on the handshake and on later requests', async () => {
        const r = await httpReq(bridge.port, handshake, { headers: { origin: ORIGIN } });
        assert.equal(r.status, 200);
        assert.equal(r.headers['access-control-allow-origin'], ORIGIN);
        assert.equal(r.headers['access-control-allow-credentials'], 'true');
        assert.match(r.headers.vary ?? '', /origin/i, 'Vary: Origin, since the answer depends on it');
        const sid = JSON.parse(r.body.slice(1)).sid;
        const post = await pollPost(bridge.port, sid, '1', { headers: { origin: ORIGIN } });
        assert.equal(post.headers['access-control-allow-origin'], ORIGIN);
        assert.equal(post.headers['access-control-allow-credentials'], 'true');
    });

    test('an origin not configured gets no CORS grant', async () => {
        const r = await httpReq(bridge.port, handshake, { headers: { origin: 'http://evil.example' } });
        assert.equal(r.status, 200, 'served (CORS is for the browser to enforce)');
        assert.equal(r.headers['access-control-allow-origin'], undefined);
    });

    test('preflight: OPTIONS allows the origin, GET/POST and the authorization header', async () => {
        const r = await httpReq(bridge.port, handshake, {
            method: 'OPTIONS',
            headers: {
                origin: ORIGIN,
                'access-control-request-method': 'POST',
                'access-control-request-headers': 'authorization,content-type',
            },
        });
        assert.ok(r.status === 204 || r.status === 200, `status ${r.status}`);
        assert.equal(r.headers['access-control-allow-origin'], ORIGIN);
        assert.equal(r.headers['access-control-allow-credentials'], 'true');
        const methods = (r.headers['access-control-allow-methods'] ?? '').toUpperCase().split(/\s*,\s*/);
        assert.ok(methods.includes('GET') && methods.includes('POST'), r.headers['access-control-allow-methods']);
        const allowed = (r.headers['access-control-allow-headers'] ?? '').toLowerCase().split(/\s*,\s*/);
        assert.ok(allowed.includes('authorization'), `Access-Control-Allow-Headers: ${r.headers['access-control-allow-headers']}`);
    });

    test('"*" allows any origin, never together with credentials', async () => {
        for (const method of ['GET', 'OPTIONS']) {
            const r = await httpReq(star.port, handshake, {
                method,
                headers: {
                    origin: 'http://anywhere.example',
                    ...(method === 'OPTIONS' ? { 'access-control-request-method': 'GET', 'access-control-request-headers': 'authorization' } : {}),
                },
            });
            assert.equal(r.headers['access-control-allow-origin'], '*', `${method}: Access-Control-Allow-Origin`);
            assert.notEqual(r.headers['access-control-allow-credentials'], 'true', `${method}: "*" with credentials`);
        }
    });
});
