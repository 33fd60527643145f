// socket.io under connection churn: while events flow, sockets on the same stream have their
// transport cut every few milliseconds and come back; the steady WebSocket and polling sockets
// beside them get every event, in order, and the bridge stops cleanly (exit 0) afterwards. A
// session closed while it waited on the engine's list of sessions to write used to cut that list
// behind it: the sessions there were never written to again, and at SIGTERM never freed (their
// heartbeat timers kept the loop from closing, exit 1).
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { Bridge, publisher, shutdown } from './lib/bridge.mjs';
import { closeSocket, connected, eventsNamed, sio } from './lib/sio.mjs';
import { ev, stream } from './lib/streams.mjs';
import { createWorld } from './lib/world.mjs';

const STEADY_WS = 4;
const STEADY_POLLING = 2;
const CHURNING = 12;
const SECONDS = 8;

let w;
let bridge;
let pub;
const sockets = [];

before(async () => {
    w = await createWorld({
        label: 'socketio-churn',
        tenants: { t: { streams: [stream('live', { publicSubscribe: true, events: [ev('app', 'tick')] })] } },
    });
    bridge = await new Bridge(w).start();
    pub = await publisher(w, 't');
});

after(async () => {
    for (const s of sockets) closeSocket(s);
    await shutdown({ pub, bridge, world: w });
});

test('steady sockets get every event while others on the stream churn; SIGTERM exits 0', async () => {
    const steady = [
        ...Array.from({ length: STEADY_WS }, () => sio(bridge, '/t?stream=live', { transports: ['websocket'] })),
        ...Array.from({ length: STEADY_POLLING }, () => sio(bridge, '/t?stream=live', { transports: ['polling'] })),
    ];
    const churning = Array.from({ length: CHURNING }, () =>
        sio(bridge, '/t?stream=live', { transports: ['websocket'], reconnection: true, reconnectionDelay: 50, reconnectionDelayMax: 100 }),
    );
    sockets.push(...steady, ...churning);
    await Promise.all(sockets.map((s) => connected(s)));

    let n = 0;
    let cuts = 0;
    const cutter = setInterval(() => {
        const s = churning[Math.floor(Math.random() * CHURNING)];
        if (s.connected) {
            s.io.engine.close();
            cuts++;
        }
    }, 20);
    const end = Date.now() + SECONDS * 1000;
    while (Date.now() < end) {
        await pub.publish('app', 'tick', { payload: { n: ++n } });
        await sleep(4);
    }
    clearInterval(cutter);
    const want = Array.from({ length: n }, (_, i) => i + 1);
    const deadline = Date.now() + 15000;
    while (steady.some((s) => eventsNamed(s, 'app:tick').length < n) && Date.now() < deadline) await sleep(50);
    for (const s of steady) {
        assert.deepEqual(eventsNamed(s, 'app:tick').map((e) => e.data.payload.n), want);
        assert.deepEqual(s.disconnects, []);
    }
    assert.ok(cuts > 100, `only ${cuts} transports cut`);
    for (const s of sockets.splice(0)) {
        s.io.opts.reconnection = false;
        closeSocket(s);
    }
    await sleep(200);
    await bridge.stop(); // throws unless the bridge exits 0
});
