// examples/socketio-conformance: the bridge's socket.io engine set up as the reference servers
// of socket.io's protocol test suites (docs/socket.io-protocol/v5-current.md and
// docs/engine.io-protocol/v4-current.md, "Test suite"). Checked here in our own words at the
// wire (node:http for long polling, npm ws for WebSocket) and with socket.io-client 4.8.1:
// the open packet with the reference settings, error answers, the heartbeat, the raw Engine.IO
// echo at /engine.io/ on both transports and across the upgrade, what closes a session, and
// the Socket.IO behaviour (auth emit on "/" and "/custom", message-back, acks, binary
// attachments, the refusal of other namespaces, the connect timeout).
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import WebSocket from 'ws';
import { BUILD_DIR, LSAN_SUPPRESSIONS, SANITIZE, requireFile } from './lib/env.mjs';
import { freePort } from './lib/net.mjs';
import { SEP, closeSocket, connected, httpReq, packets, refused, sio, until } from './lib/sio.mjs';

const BIN = path.join(BUILD_DIR, 'examples', 'socketio-conformance', 'mqpush-sio-conformance');
const SETTINGS = { pingInterval: 300, pingTimeout: 200, maxPayload: 1000000 };
const CONNECT_TIMEOUT = 1000;
const EIO = '/engine.io/';
const SIO = '/socket.io/';
const PH = (num) => ({ _placeholder: true, num });

/** The example binary on its own loopback port. */
class Conformance {
    async start() {
        requireFile(BIN, 'mqpush-sio-conformance');
        this.port = await freePort();
        const env = { ...process.env };
        if (SANITIZE) {
            env.ASAN_OPTIONS = 'detect_leaks=1:abort_on_error=0';
            if (fs.existsSync(LSAN_SUPPRESSIONS)) env.LSAN_OPTIONS = `suppressions=${LSAN_SUPPRESSIONS}`;
        }
        this.output = '';
        this.exited = null;
        this.proc = spawn(BIN, [String(this.port)], { env, stdio: ['ignore', 'pipe', 'pipe'] });
        this.proc.stdout.on('data', (d) => (this.output += d));
        this.proc.stderr.on('data', (d) => (this.output += d));
        this.exitP = once(this.proc, 'exit').then(([code, signal]) => (this.exited = { code, signal }));
        await until(() => {
            if (this.exited) throw new Error(`exited at start: ${JSON.stringify(this.exited)}\n${this.output}`);
            return /listening on 127\.0\.0\.1:\d+/.test(this.output);
        }, 'the conformance server to listen');
        return this;
    }

    get url() {
        return `http://127.0.0.1:${this.port}`;
    }

    kill() {
        if (this.proc && !this.exited) this.proc.kill('SIGKILL');
    }
}

// ---- wire helpers -------------------------------------------------------------------------

const eioUrl = (mount, query) => `${mount}?EIO=4${query}`;

async function pollOpen(port, mount, headers = {}) {
    const res = await httpReq(port, eioUrl(mount, '&transport=polling'), { headers });
    assert.equal(res.status, 200, `handshake: ${res.status} ${res.body}`);
    assert.ok(res.body.startsWith('0'), res.body);
    const open = JSON.parse(res.body.slice(1));
    return { sid: open.sid, open, res };
}

const pollGet = (port, mount, sid, opts = {}) => httpReq(port, eioUrl(mount, `&transport=polling&sid=${sid}`), opts);
const pollPost = (port, mount, sid, body, opts = {}) =>
    httpReq(port, eioUrl(mount, `&transport=polling&sid=${sid}`), {
        method: 'POST',
        body,
        ...opts,
        headers: { 'content-type': 'text/plain;charset=UTF-8', ...(opts.headers ?? {}) },
    });

/** An Engine.IO error answer: status 400 and the {code, message} body. */
function assertEioError(res, code) {
    assert.equal(res.status, 400, `expected 400, got ${res.status} ${res.body}`);
    assert.equal(JSON.parse(res.body).code, code, res.body);
}

/**
 * A WebSocket on a mount: text messages as strings, binary ones as Buffers. autoPong answers
 * the server's pings so that a test may take longer than pingInterval + pingTimeout.
 */
class Wire {
    static async open(port, mount, { query = '&transport=websocket', autoPong = true } = {}) {
        const w = new Wire(new WebSocket(`ws://127.0.0.1:${port}${eioUrl(mount, query)}`), autoPong);
        await new Promise((resolve) => {
            w.ws.once('open', resolve);
            w.ws.once('close', resolve);
        });
        return w;
    }

    constructor(ws, autoPong) {
        this.ws = ws;
        this.autoPong = autoPong;
        this.got = [];
        this.pos = 0;
        this.closed = null;
        this.opened = Date.now();
        ws.on('message', (m, isBinary) => {
            const v = isBinary ? Buffer.from(m) : m.toString('utf8');
            this.got.push({ v, at: Date.now() });
            if (this.autoPong && v === '2') ws.send('3');
        });
        ws.on('close', (code) => (this.closed = { code, at: Date.now() }));
        ws.on('error', (e) => (this.error = e));
    }

    send(v) {
        this.ws.send(v);
    }

    /** The next message after those taken that pred accepts (pings skipped unless asked). */
    async next({ pred = (v) => v !== '2', timeoutMs = 5000, what = 'a message' } = {}) {
        const deadline = Date.now() + timeoutMs;
        for (;;) {
            while (this.pos < this.got.length) {
                const m = this.got[this.pos++];
                if (pred(m.v)) return m.v;
            }
            if (this.closed) throw new Error(`closed (${this.closed.code}) waiting for ${what}`);
            if (Date.now() > deadline) throw new Error(`no ${what} within ${timeoutMs} ms`);
            await sleep(5);
        }
    }

    async openPacket() {
        const m = await this.next({ what: 'the open packet' });
        assert.ok(typeof m === 'string' && m.startsWith('0'), `open packet expected, got ${m}`);
        return JSON.parse(m.slice(1));
    }

    async waitClosed(timeoutMs = 5000) {
        await until(() => this.closed, 'the WebSocket to close', timeoutMs);
        return this.closed;
    }

    close() {
        this.ws.terminate();
    }
}

/** A Socket.IO session on WebSocket that joined nsp (with auth); returns the wire, the CONNECT
 * answer and the first event after it. */
async function sioJoin(port, nsp = '/', auth) {
    const w = await Wire.open(port, SIO);
    await w.openPacket();
    const prefix = nsp === '/' ? '' : `${nsp},`;
    w.send(`40${prefix}${auth === undefined ? '' : JSON.stringify(auth)}`);
    const answer = await w.next({ what: `the CONNECT answer of ${nsp}` });
    const event = await w.next({ what: `the auth event of ${nsp}` });
    return { w, answer, event };
}

let srv;

before(async () => {
    srv = await new Conformance().start();
});

after(() => srv?.kill());

// ---- Engine.IO on both mounts -------------------------------------------------------------

for (const mount of [EIO, SIO]) {
    describe(`Engine.IO handshake at ${mount}`, () => {
        test('polling: the open packet carries the reference settings and websocket as upgrade', async () => {
            const { open, res } = await pollOpen(srv.port, mount, { origin: 'http://elsewhere.example' });
            assert.deepEqual(Object.keys(open).sort(), ['maxPayload', 'pingInterval', 'pingTimeout', 'sid', 'upgrades']);
            assert.match(open.sid, /^[A-Za-z0-9_-]{20}$/);
            assert.deepEqual(open.upgrades, ['websocket']);
            assert.deepEqual({ ...open, sid: undefined, upgrades: undefined }, { ...SETTINGS, sid: undefined, upgrades: undefined });
            // CORS origin "*": any origin may read the answer (without credentials)
            assert.equal(res.headers['access-control-allow-origin'], '*');
        });

        test('WebSocket: the open packet has the same settings and no upgrades', async () => {
            const w = await Wire.open(srv.port, mount);
            try {
                const open = await w.openPacket();
                assert.deepEqual(open.upgrades, []);
                assert.equal(open.pingInterval, SETTINGS.pingInterval);
                assert.equal(open.pingTimeout, SETTINGS.pingTimeout);
                assert.equal(open.maxPayload, SETTINGS.maxPayload);
            } finally {
                w.close();
            }
        });

        test('polling: a missing or wrong EIO, an unknown transport, a POST handshake, an unknown sid are 400', async () => {
            assertEioError(await httpReq(srv.port, `${mount}?transport=polling`), 5);
            assertEioError(await httpReq(srv.port, eioUrl(mount, '').replace('EIO=4', 'EIO=abc') + '&transport=polling'), 5);
            assertEioError(await httpReq(srv.port, eioUrl(mount, '')), 0);
            assertEioError(await httpReq(srv.port, eioUrl(mount, '&transport=abc')), 0);
            assertEioError(await httpReq(srv.port, eioUrl(mount, '&transport=polling'), { method: 'POST', body: '4x' }), 2);
            assertEioError(await pollGet(srv.port, mount, 'AAAAAAAAAAAAAAAAAAAA'), 1);
        });

        test('WebSocket: a missing EIO or transport closes it without an open packet', async () => {
            for (const query of ['&transport=abc', '']) {
                const w = await Wire.open(srv.port, mount, { query });
                await w.waitClosed();
                assert.equal(w.got.length, 0, `nothing expected, got ${JSON.stringify(w.got)}`);
            }
            const w = new Wire(new WebSocket(`ws://127.0.0.1:${srv.port}${mount}?transport=websocket`), false);
            await w.waitClosed();
            assert.equal(w.got.length, 0);
        });
    });
}

test('other paths are not served', async () => {
    const r = await httpReq(srv.port, '/elsewhere/?EIO=4&transport=polling');
    assert.equal(r.status, 404);
});

test('a request with "Connection: close" is answered with "connection: close"', async () => {
    // Node's keep-alive agent (node-fetch, so the official suites) would otherwise reuse a
    // socket the server is closing and lose the next request.
    const r = await httpReq(srv.port, eioUrl(EIO, '&transport=polling'), { headers: { connection: 'close' } });
    assert.equal(r.status, 200);
    assert.equal(r.headers.connection, 'close');
    const sid = JSON.parse(r.body.slice(1)).sid;
    const held = pollGet(srv.port, EIO, sid, { headers: { connection: 'close' } });
    await sleep(50);
    await pollPost(srv.port, EIO, sid, '4x');
    const answer = await held;
    assert.equal(answer.headers.connection, 'close', 'a held poll keeps the header for its late answer');
    assert.ok(packets(answer.body).includes('4x'), answer.body);
});

// ---- heartbeat -------------------------------------------------------------------------------

describe('heartbeat (pingInterval 300, pingTimeout 200)', () => {
    test('polling: a ping every interval, kept alive by pongs', async () => {
        const { sid } = await pollOpen(srv.port, EIO);
        for (let i = 0; i < 3; i++) {
            const t = Date.now();
            const r = await pollGet(srv.port, EIO, sid);
            assert.equal(r.status, 200);
            assert.equal(r.body, '2');
            assert.ok(Date.now() - t < 1500, `ping ${i} after ${Date.now() - t} ms`);
            assert.equal((await pollPost(srv.port, EIO, sid, '3')).body, 'ok');
        }
        await pollPost(srv.port, EIO, sid, '1');
    });

    test('polling: without a pong the session is gone after interval + timeout', async () => {
        const { sid } = await pollOpen(srv.port, EIO);
        await sleep(SETTINGS.pingInterval + SETTINGS.pingTimeout + 200);
        assertEioError(await pollGet(srv.port, EIO, sid), 1);
    });

    test('WebSocket: pings about every 300 ms while pongs come back', async () => {
        const w = await Wire.open(srv.port, EIO);
        try {
            await w.openPacket();
            const openAt = w.got[w.pos - 1].at;
            const at = [];
            for (let i = 0; i < 4; i++) {
                await w.next({ pred: (v) => v === '2', what: `ping ${i}` });
                at.push(w.got[w.pos - 1].at);
            }
            // A ping written late (say, when the timer's write waits for the loop to wake up)
            // leaves the client less than pingTimeout to answer.
            assert.ok(at[0] - openAt < SETTINGS.pingInterval + 150, `first ping ${at[0] - openAt} ms after the open packet`);
            for (let i = 1; i < at.length; i++) {
                const gap = at[i] - at[i - 1];
                assert.ok(gap >= 200 && gap < 1000, `ping gap ${gap} ms`);
            }
            assert.equal(w.closed, null);
        } finally {
            w.close();
        }
    });

    test('WebSocket: a client that never pongs is closed after about 500 ms', async () => {
        const w = await Wire.open(srv.port, EIO, { autoPong: false });
        await w.openPacket();
        const closed = await w.waitClosed(5000);
        const after = closed.at - w.opened;
        assert.ok(after >= 400 && after < 2000, `closed after ${after} ms`);
        assert.ok(w.got.some((m) => m.v === '2'), 'a ping went out before');
    });
});

// ---- the raw echo at /engine.io/ ------------------------------------------------------------

describe('raw Engine.IO echo at /engine.io/', () => {
    test('polling: text and binary messages come back as sent, in order', async () => {
        const { sid } = await pollOpen(srv.port, EIO);
        const sent = ['4hello', '4second one', 'bAQIDBA==', '4', '4h\u00e9llo \u2713'];
        assert.equal((await pollPost(srv.port, EIO, sid, sent.join(SEP))).body, 'ok');
        const got = [];
        while (got.length < sent.length) {
            const r = await pollGet(srv.port, EIO, sid);
            assert.equal(r.status, 200);
            got.push(...packets(r.body).filter((p) => p !== '2'));
        }
        assert.deepEqual(got, sent);
        await pollPost(srv.port, EIO, sid, '1');
    });

    test('WebSocket: text and binary frames come back unchanged', async () => {
        const w = await Wire.open(srv.port, EIO);
        try {
            await w.openPacket();
            w.send('4hello');
            assert.equal(await w.next(), '4hello');
            w.send(Buffer.from([1, 2, 3, 4]));
            assert.deepEqual(await w.next(), Buffer.from([1, 2, 3, 4]));
            const big = `4${'x'.repeat(200000)}`;
            w.send(big);
            assert.equal(await w.next(), big);
            w.send(Buffer.alloc(0));
            assert.deepEqual(await w.next(), Buffer.alloc(0));
        } finally {
            w.close();
        }
    });

    test('upgrade: probe answered, held poll released with a noop, then the echo on the WebSocket', async () => {
        const { sid } = await pollOpen(srv.port, EIO);
        const held = pollGet(srv.port, EIO, sid);
        await sleep(50);
        const w = await Wire.open(srv.port, EIO, { query: `&transport=websocket&sid=${sid}` });
        try {
            w.send('2probe');
            assert.equal(await w.next(), '3probe');
            const released = await held;
            assert.equal(released.status, 200);
            assert.ok(packets(released.body).includes('6'), released.body);
            w.send('5');
            w.send('4after the upgrade');
            assert.equal(await w.next(), '4after the upgrade');
            assertEioError(await pollGet(srv.port, EIO, sid), 3);
            // a second WebSocket for the same session is turned away; the first goes on
            const w2 = await Wire.open(srv.port, EIO, { query: `&transport=websocket&sid=${sid}` });
            await w2.waitClosed();
            w.send(Buffer.from([9, 8, 7]));
            assert.deepEqual(await w.next(), Buffer.from([9, 8, 7]));
        } finally {
            w.close();
        }
    });
});

// ---- what ends a session ----------------------------------------------------------------------

describe('what ends a session', () => {
    test('polling: a malformed body is a 400 and the session is gone', async () => {
        const { sid } = await pollOpen(srv.port, EIO);
        const r = await pollPost(srv.port, EIO, sid, 'abc').catch(() => null);
        if (r) assert.equal(r.status, 400);
        assertEioError(await pollGet(srv.port, EIO, sid), 1);
    });

    test('polling: a second GET beside a held one ends the session (close packet to the first)', async () => {
        const { sid } = await pollOpen(srv.port, EIO);
        const first = pollGet(srv.port, EIO, sid);
        await sleep(20);
        const second = await pollGet(srv.port, EIO, sid);
        assertEioError(second, 3);
        assert.equal((await first).body, '1');
        assertEioError(await pollGet(srv.port, EIO, sid), 1);
    });

    test('polling: a close packet from the client releases its held GET with a noop', async () => {
        const { sid } = await pollOpen(srv.port, EIO);
        const held = pollGet(srv.port, EIO, sid);
        await sleep(20);
        assert.equal((await pollPost(srv.port, EIO, sid, '1')).body, 'ok');
        const r = await held;
        assert.equal(r.status, 200);
        assert.equal(r.body, '6');
        assertEioError(await pollGet(srv.port, EIO, sid), 1);
    });

    test('polling: an aborted GET ends the session', async () => {
        const { sid } = await pollOpen(srv.port, EIO);
        let req;
        const p = pollGet(srv.port, EIO, sid, { onRequest: (r) => (req = r) }).catch(() => null);
        await sleep(30);
        req.destroy();
        await p;
        await sleep(30);
        assertEioError(await pollGet(srv.port, EIO, sid), 1);
    });

    test('WebSocket: a malformed frame or a close packet closes it', async () => {
        for (const bad of ['abc', '1']) {
            const w = await Wire.open(srv.port, EIO);
            await w.openPacket();
            w.send(bad);
            await w.waitClosed();
        }
    });

    for (const [what, packet] of [
        ['an unknown Socket.IO packet type', '4abc'],
        ['an EVENT whose payload is not an array', '42{}'],
        ['an EVENT with a non-numeric ack id', '42abc["message-with-ack",1,"2",{"3":[false]}]'],
    ]) {
        test(`Socket.IO: ${what} closes the connection`, async () => {
            const { w } = await sioJoin(srv.port);
            w.send(packet);
            await w.waitClosed();
        });
    }
});

// ---- Socket.IO at /socket.io/ -----------------------------------------------------------------

describe('Socket.IO at /socket.io/', () => {
    test('"/" without a payload: CONNECT with only a sid, then auth {}', async () => {
        const { w, answer, event } = await sioJoin(srv.port, '/');
        try {
            assert.ok(answer.startsWith('40{'), answer);
            const ok = JSON.parse(answer.slice(2));
            assert.deepEqual(Object.keys(ok), ['sid']);
            assert.equal(typeof ok.sid, 'string');
            assert.equal(event, '42["auth",{}]');
        } finally {
            w.close();
        }
    });

    test('"/" with a payload: the auth event echoes it', async () => {
        const auth = { token: '123', nested: { list: [1, 'two', null] } };
        const { w, event } = await sioJoin(srv.port, '/', auth);
        w.close();
        assert.deepEqual(JSON.parse(event.slice(2)), ['auth', auth]);
    });

    test('"/custom" with and without a payload', async () => {
        const a = await sioJoin(srv.port, '/custom');
        const b = await sioJoin(srv.port, '/custom', { token: 'abc' });
        a.w.close();
        b.w.close();
        for (const { answer } of [a, b]) {
            assert.ok(answer.startsWith('40/custom,'), answer);
            assert.deepEqual(Object.keys(JSON.parse(answer.slice(10))), ['sid']);
        }
        assert.equal(a.event, '42/custom,["auth",{}]');
        assert.equal(b.event, '42/custom,["auth",{"token":"abc"}]');
    });

    test('another namespace is refused with "Invalid namespace"; the session goes on', async () => {
        const w = await Wire.open(srv.port, SIO);
        try {
            await w.openPacket();
            w.send('40/random');
            assert.equal(await w.next(), '44/random,{"message":"Invalid namespace"}');
            w.send('40');
            assert.ok((await w.next()).startsWith('40{'));
            assert.equal(await w.next(), '42["auth",{}]');
        } finally {
            w.close();
        }
    });

    test('"message" comes back as "message-back" with the same arguments', async () => {
        const { w } = await sioJoin(srv.port);
        try {
            w.send('42["message",1,"2",{"3":[true]}]');
            assert.equal(await w.next(), '42["message-back",1,"2",{"3":[true]}]');
            w.send('42["message"]');
            assert.equal(await w.next(), '42["message-back"]');
        } finally {
            w.close();
        }
    });

    test('a binary "message" comes back with its attachments, in order', async () => {
        const { w } = await sioJoin(srv.port);
        try {
            w.send(`452-${JSON.stringify(['message', PH(0), 'text', { deep: PH(1) }])}`);
            w.send(Buffer.from([1, 2, 3]));
            w.send(Buffer.from([4, 5, 6, 7]));
            assert.equal(await w.next(), `452-${JSON.stringify(['message-back', PH(0), 'text', { deep: PH(1) }])}`);
            assert.deepEqual(await w.next(), Buffer.from([1, 2, 3]));
            assert.deepEqual(await w.next(), Buffer.from([4, 5, 6, 7]));
        } finally {
            w.close();
        }
    });

    test('"message-with-ack" is acknowledged with the same arguments (plain and binary)', async () => {
        const { w } = await sioJoin(srv.port);
        try {
            w.send('42456["message-with-ack",1,"2",{"3":[false]}]');
            assert.equal(await w.next(), '43456[1,"2",{"3":[false]}]');
            w.send(`452-789${JSON.stringify(['message-with-ack', PH(0), PH(1)])}`);
            w.send(Buffer.from([1, 2, 3]));
            w.send(Buffer.from([4, 5, 6]));
            assert.equal(await w.next(), `462-789${JSON.stringify([PH(0), PH(1)])}`);
            assert.deepEqual(await w.next(), Buffer.from([1, 2, 3]));
            assert.deepEqual(await w.next(), Buffer.from([4, 5, 6]));
        } finally {
            w.close();
        }
    });

    test('"/custom" echoes nothing; leaving it leaves "/" working', async () => {
        const { w } = await sioJoin(srv.port);
        try {
            w.send('40/custom');
            assert.ok((await w.next()).startsWith('40/custom,'));
            assert.equal(await w.next(), '42/custom,["auth",{}]');
            w.send('42/custom,["message","to custom"]');
            w.send('41/custom');
            w.send('42/custom,["message","after leaving"]');
            w.send('42["message","to main"]');
            assert.equal(await w.next(), '42["message-back","to main"]');
        } finally {
            w.close();
        }
    });

    test('after DISCONNECT from "/" only pings follow, and the session stays open', async () => {
        const { w } = await sioJoin(srv.port);
        try {
            w.send('41');
            w.send('42["message","not joined"]');
            assert.equal(await w.next({ pred: () => true }), '2');
            await sleep(SETTINGS.pingInterval * 2);
            assert.equal(w.closed, null);
            assert.deepEqual(
                w.got.slice(3).filter((m) => m.v !== '2').map((m) => m.v), // after open, CONNECT, auth
                [],
                'nothing but pings after leaving',
            );
        } finally {
            w.close();
        }
    });

    test('a session that joins no namespace is closed after connectTimeout (1000 ms)', async () => {
        const w = await Wire.open(srv.port, SIO);
        await w.openPacket();
        const closed = await w.waitClosed(5000);
        const after = closed.at - w.opened;
        assert.ok(after >= CONNECT_TIMEOUT - 100 && after < CONNECT_TIMEOUT + 1500, `closed after ${after} ms`);
    });

    test('polling carries the same: CONNECT answer and auth event in one body, echo on POST', async () => {
        const { sid } = await pollOpen(srv.port, SIO);
        assert.equal((await pollPost(srv.port, SIO, sid, '40{"k":"v"}')).body, 'ok');
        const first = packets((await pollGet(srv.port, SIO, sid)).body).filter((p) => p !== '2');
        assert.equal(first.length, 2, JSON.stringify(first));
        // each is an Engine.IO message "4" holding a Socket.IO packet
        assert.ok(first[0].startsWith('40{'), first[0]);
        assert.deepEqual(Object.keys(JSON.parse(first[0].slice(2))), ['sid']);
        assert.equal(first[1], '42["auth",{"k":"v"}]');
        // Engine.IO message "4" + Socket.IO BINARY_EVENT "51-", its attachment as "b" + base64,
        // then a plain EVENT
        await pollPost(srv.port, SIO, sid, `451-["message",${JSON.stringify(PH(0))}]${SEP}bAQID${SEP}42["message",true]`);
        const got = [];
        while (got.length < 3) got.push(...packets((await pollGet(srv.port, SIO, sid)).body).filter((p) => p !== '2'));
        assert.deepEqual(got, [`451-["message-back",${JSON.stringify(PH(0))}]`, 'bAQID', '42["message-back",true]']);
        await pollPost(srv.port, SIO, sid, '1');
    });
});

// ---- socket.io-client ------------------------------------------------------------------------

describe('socket.io-client 4.8.1', () => {
    for (const transports of [undefined, ['websocket'], ['polling']]) {
        test(`transports ${JSON.stringify(transports ?? 'default (polling, then upgrade)')}: auth, echo and ack with binary`, async () => {
            const s = sio(srv, '/', transports ? { transports } : {});
            try {
                await connected(s);
                await until(() => s.got.find((g) => g.event === 'auth'), 'the auth event');
                assert.deepEqual(s.got.find((g) => g.event === 'auth').data, {});
                const back = new Promise((resolve) => s.once('message-back', (...args) => resolve(args)));
                s.emit('message', 'hi', Buffer.from([0, 255, 7]), { n: 1 });
                const args = await back;
                assert.equal(args[0], 'hi');
                assert.deepEqual(Buffer.from(args[1]), Buffer.from([0, 255, 7]));
                assert.deepEqual(args[2], { n: 1 });
                const acked = await new Promise((resolve) =>
                    s.emit('message-with-ack', 42, Buffer.from('bytes'), (...a) => resolve(a)),
                );
                assert.equal(acked[0], 42);
                assert.equal(Buffer.from(acked[1]).toString(), 'bytes');
            } finally {
                closeSocket(s);
            }
        });
    }

    test('"/custom" gets its auth back; an unknown namespace is a connect_error', async () => {
        const c = sio(srv, '/custom', { auth: { token: 'abc' } });
        const bad = sio(srv, '/nope');
        // listen for the refusal now: it may come before /custom is connected
        const badRefused = refused(bad);
        try {
            await connected(c);
            await until(() => c.got.find((g) => g.event === 'auth'), 'the auth event on /custom');
            assert.deepEqual(c.got.find((g) => g.event === 'auth').data, { token: 'abc' });
            const err = await badRefused;
            assert.equal(err.message, 'Invalid namespace');
        } finally {
            closeSocket(c);
            closeSocket(bad);
        }
    });
});

// ---- last: an orderly stop ----------------------------------------------------------------------

describe('shutdown', () => {
    test('SIGTERM with sessions open: exits 0, clients see the end, no sanitizer report', async () => {
        const w = await Wire.open(srv.port, EIO);
        await w.openPacket();
        const { sid } = await pollOpen(srv.port, EIO);
        const held = pollGet(srv.port, EIO, sid);
        await sleep(20);
        srv.proc.kill('SIGTERM');
        const timer = setTimeout(() => srv.kill(), 10000);
        await srv.exitP;
        clearTimeout(timer);
        assert.deepEqual(srv.exited, { code: 0, signal: null }, srv.output);
        assert.doesNotMatch(srv.output, /AddressSanitizer|LeakSanitizer|runtime error:/);
        await w.waitClosed();
        const r = await held.catch(() => null);
        if (r) assert.ok(['1', '2'].includes(r.body) || r.body.split(SEP).includes('1'), r.body);
    });
});
