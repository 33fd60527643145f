// socket.io connection state recovery with socket.io-client 4.8: the transport is cut under a
// connected socket, events are published while it is away, the client reconnects by itself
// with the pid and last offset, and gets the same socket id, recovered === true and exactly the
// missed events, once and in order, before the live ones. No recovery when the offset has left
// the stream's replay buffer, when the recovery window has passed, or when recovery is off.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { Bridge, publisher, shutdown } from './lib/bridge.mjs';
import { EioWs, closeSocket, connected, sio, until } from './lib/sio.mjs';
import { SseReader } from './lib/sse.mjs';
import { ev, stream } from './lib/streams.mjs';
import { createWorld } from './lib/world.mjs';

const REPLAY = 30; // sse.replay_max_events: the per-stream buffer recovery draws on
const AWAY_MS = 2500; // the client's fixed reconnection delay: time to publish while it is away

let w;
let bridge;
let short; // recovery_window_s 1
let off; // recovery_window_s 0
let pub;
let keeper;
let seq = 0;

before(async () => {
    w = await createWorld({
        label: 'socketio-recovery',
        tenants: {
            t: {
                streams: [
                    stream('shared', { publicSubscribe: true, events: [ev('app', 'tick')] }),
                    stream('solo', { publicSubscribe: true, events: [ev('app', 'solo')] }),
                ],
            },
        },
    });
    const sse = { replay_max_events: REPLAY };
    bridge = await new Bridge(w, { sse, extra: { socketio: { recovery_window_s: 120 } } }).start();
    short = await new Bridge(w, { name: 'short', sse, extra: { socketio: { recovery_window_s: 1 } } }).start();
    off = await new Bridge(w, { name: 'off', sse, extra: { socketio: { recovery_window_s: 0 } } }).start();
    pub = await publisher(w, 't');
    // Another consumer holds "shared" on the main bridge throughout; "solo" has none but the
    // socket under test.
    keeper = await SseReader.open(`${bridge.url}/stream/v1/streams/shared?tenant=t`);
    await keeper.waitNamed('mqpush:ready');
});

after(async () => {
    keeper?.close();
    try {
        await short?.stop();
        await off?.stop();
    } finally {
        short?.kill();
        off?.kill();
        await shutdown({ pub, bridge, world: w });
    }
});

/** A socket that reconnects by itself after exactly AWAY_MS. */
function reconnecting(b, path, opts = {}) {
    return sio(b, path, {
        reconnection: true,
        reconnectionDelay: AWAY_MS,
        reconnectionDelayMax: AWAY_MS,
        randomizationFactor: 0,
        ...opts,
    });
}

const CUTS = {
    'engine.close()': (s) => s.io.engine.close(),
    'the TCP connection reset': (s) => {
        const t = s.io.engine.transport;
        if (t.name !== 'websocket') throw new Error(`cut by reset needs the websocket transport, not ${t.name}`);
        t.ws._socket.resetAndDestroy();
    },
};

/** Publish n ticks on a stream's event; returns their sequence numbers. */
async function publishN(name, n, extra = {}) {
    const ns = [];
    for (let i = 0; i < n; i++) {
        ns.push(++seq);
        await pub.publish('app', name, { payload: { seq, ...extra } });
    }
    return ns;
}

const seqs = (s) => s.got.map((g) => g.data.payload.seq);

/**
 * Connect, get `before` events, cut the transport, publish `away` events while the client is
 * away, let it reconnect. Resolves {s, firstId, sent: {before, away}}.
 */
async function cutAndReconnect(b, path, { cut, opts, name = 'tick', before: nBefore = 5, away = 10, extra } = {}) {
    const s = reconnecting(b, path, opts);
    await connected(s);
    const firstId = s.id;
    const sentBefore = await publishN(name, nBefore, extra);
    await until(() => s.got.length === nBefore, `${nBefore} events before the cut`);
    CUTS[cut ?? 'engine.close()'](s);
    await until(() => s.disconnects.length === 1, 'the disconnect');
    const t = Date.now();
    const sentAway = await publishN(name, away, extra);
    assert.equal(s.connected, false, `published while away (took ${Date.now() - t} ms)`);
    await until(() => s.connects.length === 2, 'the reconnect', AWAY_MS + 10000);
    return { s, firstId, sent: { before: sentBefore, away: sentAway } };
}

describe('recovered', () => {
    for (const [cut, transports] of [
        ['engine.close()', ['websocket']],
        ['the TCP connection reset', ['websocket']],
        ['engine.close()', ['polling']],
    ]) {
        test(`${transports} cut by ${cut}: same id, recovered, the missed events once and in order, then live ones`, async () => {
            const { s, firstId, sent } = await cutAndReconnect(bridge, '/t?stream=shared', { cut, opts: { transports } });
            try {
                assert.equal(s.recovered, true, 'socket.recovered');
                assert.equal(s.id, firstId, 'the same socket id');
                const live = await publishN('tick', 3);
                const want = [...sent.before, ...sent.away, ...live];
                await until(() => s.got.length >= want.length, `${want.length} events`);
                await sleep(300);
                assert.deepEqual(seqs(s), want, 'every event once, in order');
                assert.equal(new Set(s.got.map((g) => g.offset)).size, want.length, 'distinct offsets');
                assert.deepEqual(s.got.map((g) => g.offset), s.got.map((g) => g.data.id));
            } finally {
                closeSocket(s);
            }
        });
    }

    test('the only consumer of a stream gets what was published while it was away', async () => {
        const { s, firstId, sent } = await cutAndReconnect(bridge, '/t?stream=solo', { name: 'solo', opts: { transports: ['websocket'] } });
        try {
            assert.equal(s.recovered, true, 'socket.recovered');
            assert.equal(s.id, firstId);
            await until(() => s.got.length >= 15, 'the missed events');
            await sleep(300);
            assert.deepEqual(seqs(s), [...sent.before, ...sent.away]);
        } finally {
            closeSocket(s);
        }
    });

    test('recovered events respect the criteria the socket asked for', async () => {
        const s = reconnecting(bridge, '/t', {
            transports: ['websocket'],
            auth: { stream: 'shared', criteria: { 'payload.keep': true } },
        });
        try {
            await connected(s);
            await pub.publish('app', 'tick', { payload: { seq: ++seq, keep: true } });
            const firstKept = seq;
            await until(() => s.got.length === 1, 'the first kept event');
            s.io.engine.close();
            await until(() => s.disconnects.length === 1, 'the disconnect');
            const kept = [];
            for (let i = 0; i < 6; i++) {
                await pub.publish('app', 'tick', { payload: { seq: ++seq, keep: i % 2 === 0 } });
                if (i % 2 === 0) kept.push(seq);
            }
            assert.equal(s.connected, false);
            await until(() => s.connects.length === 2, 'the reconnect', AWAY_MS + 10000);
            assert.equal(s.recovered, true);
            await until(() => s.got.length >= 4, 'the kept events');
            await sleep(300);
            assert.deepEqual(seqs(s), [firstKept, ...kept]);
        } finally {
            closeSocket(s);
        }
    });

    test('the CONNECT answer carries a pid; a forged pid and offset give a new socket', async () => {
        const c = await EioWs.open(bridge.port);
        try {
            await c.openPacket();
            const ans = await c.join('/t', { stream: 'shared', pid: 'forged-pid', offset: '00000000-0000-7000-8000-000000000000' });
            assert.equal(ans.type, 0, JSON.stringify(ans));
            assert.equal(typeof ans.data.sid, 'string');
            assert.equal(typeof ans.data.pid, 'string');
            assert.notEqual(ans.data.pid, 'forged-pid');
        } finally {
            c.close();
        }
    });
});

describe('not recovered', () => {
    test(`the offset has left the replay buffer (${REPLAY} events): recovered === false, a new id, no partial replay`, async () => {
        const { s, firstId, sent } = await cutAndReconnect(bridge, '/t?stream=shared', {
            opts: { transports: ['websocket'] },
            before: 2,
            away: REPLAY + 10,
        });
        try {
            assert.equal(s.recovered, false, 'socket.recovered');
            assert.notEqual(s.id, firstId, 'a new socket id');
            const live = await publishN('tick', 2);
            await until(() => s.got.length >= 4, 'the live events');
            await sleep(300);
            assert.deepEqual(seqs(s), [...sent.before, ...live], 'none of the missed events');
        } finally {
            closeSocket(s);
        }
    });

    test('the recovery window has passed (recovery_window_s 1, back after 2.5 s): recovered === false', async () => {
        const sse = await SseReader.open(`${short.url}/stream/v1/streams/shared?tenant=t`);
        await sse.waitNamed('mqpush:ready');
        const { s, firstId, sent } = await cutAndReconnect(short, '/t?stream=shared', {
            opts: { transports: ['websocket'] },
            before: 1,
            away: 3,
        });
        try {
            assert.equal(s.recovered, false);
            assert.notEqual(s.id, firstId);
            const live = await publishN('tick', 1);
            await until(() => s.got.length >= 2, 'the live event');
            await sleep(300);
            assert.deepEqual(seqs(s), [...sent.before, ...live]);
        } finally {
            closeSocket(s);
            sse.close();
        }
    });

    test('recovery off (recovery_window_s 0): no pid in the CONNECT answer, and a reconnect is a new socket', async () => {
        const c = await EioWs.open(off.port);
        try {
            await c.openPacket();
            const ans = await c.join('/t', { stream: 'shared' });
            assert.equal(ans.type, 0);
            assert.equal(typeof ans.data.sid, 'string');
            assert.equal(ans.data.pid, undefined, JSON.stringify(ans.data));
        } finally {
            c.close();
        }
        const sse = await SseReader.open(`${off.url}/stream/v1/streams/shared?tenant=t`);
        await sse.waitNamed('mqpush:ready');
        const { s, firstId, sent } = await cutAndReconnect(off, '/t?stream=shared', { opts: { transports: ['websocket'] }, before: 1, away: 2 });
        try {
            assert.ok(!s.recovered, `recovered: ${s.recovered}`);
            assert.notEqual(s.id, firstId);
            await sleep(500);
            assert.deepEqual(seqs(s), sent.before);
        } finally {
            closeSocket(s);
            sse.close();
        }
    });
});
