// A connection storm: 10,000 new connections a second for two seconds (20,000 in all, at most
// 2,000 of them open at once), each reset by the client right after connecting, or after the
// first answer to a request, a WebSocket upgrade or an Engine.IO handshake. Meanwhile an SSE
// reader and a socket.io-client get every event, in order; afterwards the bridge's descriptors
// are back where they were, its Engine.IO sessions expire, and its RSS stays within a bound.
import assert from 'node:assert/strict';
import net from 'node:net';
import { after, before, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { Bridge, publisher, shutdown } from '../integration/lib/bridge.mjs';
import { closeSocket, connected, eventsNamed, pollGet, sio } from '../integration/lib/sio.mjs';
import { SseReader } from '../integration/lib/sse.mjs';
import { ev, stream } from '../integration/lib/streams.mjs';
import { createWorld } from '../integration/lib/world.mjs';
import { fdCount, fdsBackTo, quantile, summary, until } from './lib/measure.mjs';

const RATE = 10000; // connections a second
const SECONDS = 2;
const MAX_OPEN = 2000; // the storm waits rather than hold more than this many at once
const PING_MS = 3000; // Engine.IO pingInterval and pingTimeout: abandoned handshakes expire
const QUARANTINE_MB = 16; // ASan keeps freed memory this long before reuse (default 256 MiB)
const MIB = 1024 * 1024;
const STREAM = '/stream/v1/streams/open?tenant=t';

let w;
let bridge;
let pub;
let sse;
let sock;

before(async () => {
    w = await createWorld({
        label: 'f-storm',
        tenants: { t: { streams: [stream('open', { publicSubscribe: true, events: [ev('app', 'tick')] })] } },
    });
    bridge = await new Bridge(w, {
        extra: { socketio: { ping_interval_ms: PING_MS, ping_timeout_ms: PING_MS } },
        asanOptions: `quarantine_size_mb=${QUARANTINE_MB}`,
    }).start();
    pub = await publisher(w, 't');
    sse = await SseReader.open(`${bridge.url}${STREAM}`);
    await sse.waitNamed('mqpush:ready');
    // the default transports: long polling first, then the upgrade to a WebSocket
    sock = sio(bridge, '/t?stream=open');
    await connected(sock);
    await until(() => sock.io.engine?.transport?.name === 'websocket', 'the socket.io upgrade');
});

after(async () => {
    sse?.close();
    if (sock) closeSocket(sock);
    await shutdown({ pub, bridge, world: w, timeoutMs: 60000 });
});

const REQUESTS = [
    null, // connect, then reset
    'GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n',
    `GET ${STREAM} HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
        'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n',
    'GET /socket.io/?EIO=4&transport=polling HTTP/1.1\r\nHost: x\r\n\r\n',
];

/** One storm connection of the given kind; resolves when it is over. */
function one(kind, counts) {
    return new Promise((resolve) => {
        const s = net.connect(bridge.port, '127.0.0.1');
        const done = () => {
            clearTimeout(timer);
            resolve();
        };
        // a request the bridge never answers would hold a slot of the storm for ever
        const timer = setTimeout(() => {
            counts.unanswered++;
            s.resetAndDestroy();
        }, 15000);
        s.on('close', done);
        s.on('error', () => counts.errors++);
        s.on('connect', () => {
            const req = REQUESTS[kind];
            if (req === null) {
                s.resetAndDestroy();
                return;
            }
            s.write(req);
            s.once('data', (d) => {
                const text = d.toString('latin1');
                if (/^HTTP\/1\.1 (101|200)/.test(text)) counts.answered++;
                const sid = /"sid":"([^"]+)"/.exec(text);
                if (sid && counts.sids.length < 100) counts.sids.push(sid[1]);
                s.resetAndDestroy(); // RST: no TIME_WAIT left behind on either side
            });
        });
    });
}

/** RATE connections a second for SECONDS; resolves {started, ms, counts}. */
async function storm() {
    const total = RATE * SECONDS;
    const counts = { answered: 0, errors: 0, unanswered: 0, sids: [] };
    const running = new Set();
    let started = 0;
    let waited = 0;
    const t0 = Date.now();
    while (started < total) {
        const due = Math.min(total, Math.floor(((Date.now() - t0) * RATE) / 1000) + 100);
        while (started < due && running.size < MAX_OPEN) {
            const p = one(started % REQUESTS.length, counts);
            running.add(p);
            p.then(() => running.delete(p));
            started++;
        }
        if (running.size >= MAX_OPEN) waited++;
        await sleep(5);
    }
    await Promise.all(running);
    return { started, ms: Date.now() - t0, counts, waited };
}

test(`new connections offered at ${RATE} a second for ${SECONDS} s: every event still arrives in order, descriptors and memory come back`, async () => {
    const fds0 = fdCount(bridge.proc.pid);
    const rss0 = bridge.rss();
    const sent = [];
    let publishing = true;
    // 50 events a second through the storm and a second after it
    const publisherLoop = (async () => {
        while (publishing) {
            const n = sent.length;
            sent.push(Date.now());
            await pub.publish('app', 'tick', { payload: { n } });
            await sleep(20);
        }
    })();
    const seenAt = new Map();
    const sseSeen = setInterval(() => {
        for (const e of sse.events()) if (!seenAt.has(e.payload.n)) seenAt.set(e.payload.n, Date.now());
    }, 5);
    let result;
    try {
        result = await storm();
        await sleep(1000);
    } finally {
        publishing = false;
        await publisherLoop;
    }
    const n = sent.length;
    await sse.waitEvents(n, { timeoutMs: 20000 });
    await until(() => eventsNamed(sock, 'app:tick').length >= n, `${n} events on socket.io`, 20000);
    clearInterval(sseSeen);
    for (const e of sse.events()) if (!seenAt.has(e.payload.n)) seenAt.set(e.payload.n, Date.now());
    const rate = Math.round((result.started * 1000) / result.ms);
    const sseLat = [...seenAt].map(([k, t]) => t - sent[k]);
    const sioLat = eventsNamed(sock, 'app:tick').map((g) => g.at - sent[g.data.payload.n]);
    console.log(
        `# ${result.started} connections in ${result.ms} ms (${rate}/s; the storm waited for open ones ${result.waited} times), ` +
            `${result.counts.answered} answered, ${result.counts.unanswered} never answered`,
    );
    console.log(`# event latency: SSE ${summary(sseLat)}; socket.io ${summary(sioLat)}`);
    const want = [...Array(n).keys()];
    assert.deepEqual(sse.events().map((e) => e.payload.n), want, 'SSE: every event once, in order');
    assert.deepEqual(eventsNamed(sock, 'app:tick').map((g) => g.data.payload.n), want, 'socket.io: every event once, in order');
    assert.equal(sock.connected, true);
    assert.deepEqual(sock.disconnects, []);
    assert.equal(result.started, RATE * SECONDS);
    assert.equal(result.counts.unanswered, 0, 'every request was answered');
    // the storm slows event delivery; it must not hold events back for longer than this
    assert.ok(quantile(sseLat, 1) < 5000 && quantile(sioLat, 1) < 5000, 'events delayed by seconds');

    // The abandoned Engine.IO handshakes expire after pingInterval + pingTimeout: a poll with
    // their ids is then refused as Session ID unknown (code 1).
    assert.ok(result.counts.sids.length > 0, 'Engine.IO handshakes were answered');
    await sleep(2 * PING_MS + 1000);
    for (const sid of result.counts.sids) {
        const r = await pollGet(bridge.port, sid);
        assert.equal(r.status, 400, `session ${sid} still there: ${r.body}`);
        assert.equal(JSON.parse(r.body).code, 1);
    }
    const fds = await fdsBackTo(bridge, fds0);
    assert.ok(fds <= fds0 + 2, `descriptors: ${fds0} before, ${fds} after`);
    const m = await bridge.metrics();
    assert.equal(m['mqpush_bridge_connections{channel="sse"}'], 1, 'only the SSE reader is left');
    assert.equal(m['mqpush_bridge_connections{channel="socketio"}'], 1, 'only the socket.io client is left');
    assert.equal(m.mqpush_bridge_consumers, 2, 'the SSE reader and the socket.io client');

    // RSS: at most MAX_OPEN connections were open at once, each costing the bridge well under
    // 32 KiB (lws's connection, our struct conn, a header buffer of max_header_bytes while its
    // head is read, the kernel's socket not counted), plus about 5,000 Engine.IO sessions of
    // under 4 KiB alive until they expire: 2,000 x 32 KiB + 5,000 x 4 KiB = 82 MiB. The
    // allocator keeps what it had at the peak; ASan adds its quarantine.
    const grown = bridge.rss() - rss0;
    const bound = 96 * MIB + QUARANTINE_MB * MIB;
    console.log(`# RSS ${Math.round(rss0 / MIB)} MiB before, grew by ${(grown / MIB).toFixed(1)} MiB (bound ${bound / MIB} MiB)`);
    assert.ok(grown < bound, `RSS grew by ${grown} bytes`);
});
