// The bridge SIGKILLed at random moments, over and over, under steady traffic to a stream that
// every channel carries at once: SET push to an RFC 8935 receiver, Web Push (bodies decrypted
// with npm http_ece), UnifiedPush to an application server's endpoint, SSE and socket.io
// clients. After each kill it comes back on the same port after a short random pause; events
// keep being published meanwhile (the broker queues them in the bridge's persistent session).
// In the end every published event reached every durable receiver at least once, and a repeat
// always carries the same event id (SET: jti). SSE and socket.io reconnect by themselves
// (Last-Event-ID, connection state recovery); their replay buffer starts empty with each
// bridge, so what they got is printed, not held to zero loss.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { Bridge, shutdown } from '../integration/lib/bridge.mjs';
import { createWorld } from '../integration/lib/world.mjs';
import {
    DURABLE,
    QUEUE_CONF,
    channelConfig,
    drained,
    durableReceivers,
    pacedPublisher,
    sioFollower,
    sseFollower,
    table,
    tally,
    tenants,
} from './lib/durable.mjs';

const KILLS = 20;
const RATE = 100; // events per second
const UP_MS = [100, 2500]; // how long a bridge lives before its SIGKILL (from its spawn)
const DOWN_MS = [100, 1200]; // how long it stays dead
const DRAIN_MS = 90000;

let w;
let bridge;
let recv;
let pub;
let sse;
let sock;

const between = ([lo, hi]) => lo + Math.floor(Math.random() * (hi - lo));

before(async () => {
    w = await createWorld({ label: 'f-kill', tenants: tenants(), brokerConf: QUEUE_CONF });
    bridge = await new Bridge(w, { sse: { replay_max_events: 1000 }, extra: channelConfig() }).start();
    recv = await durableReceivers(w, bridge);
});

after(async () => {
    await pub?.stop().catch(() => {});
    await sse?.stop();
    sock?.stop();
    await recv?.close();
    await shutdown({ bridge, world: w });
});

test(`${KILLS} SIGKILLs under ${RATE} events/s: every event reaches every durable receiver, repeats keep their id`, async () => {
    sse = sseFollower(bridge, recv.reader);
    sock = sioFollower(bridge, recv.reader);
    pub = pacedPublisher(w, { rate: RATE });
    const t0 = Date.now();
    const kills = [];
    for (let i = 0; i < KILLS; i++) {
        const up = between(UP_MS);
        await sleep(up);
        bridge.kill();
        await bridge.exitPromise;
        assert.equal(bridge.exited.signal, 'SIGKILL', `the bridge ended by itself: ${bridge.output.slice(-3000)}`);
        const down = between(DOWN_MS);
        kills.push(`${up}/${down}`);
        await sleep(down);
        await bridge.start({ samePort: true, waitHealthy: false });
    }
    await bridge.waitHealthy({ timeoutMs: 30000 });
    await sleep(1000);
    await pub.stop();
    const publishing = Date.now() - t0;
    const drainMs = await drained(recv, pub.published, DRAIN_MS);
    // the live channels get what the last bridge still has to give
    await sleep(1500);

    const rows = [
        ...DURABLE.map((c) => tally(c, pub.published, recv.received(c))),
        tally('sse', pub.published, sse.got),
        tally('socket.io', pub.published, sock.got),
    ];
    console.log(
        `\n${KILLS} kills (up/down ms: ${kills.join(' ')}), ${pub.published.length} events published in ` +
            `${publishing} ms (${pub.unacked.size} without PUBACK), durable channels drained ${drainMs} ms later\n` +
            `${table(rows)}\n` +
            `sse: ${sse.opens} connections, ${sse.resets} mqpush:reset; socket.io: ${sock.connects.length} connects, ` +
            `${sock.connects.filter((c) => c.recovered).length} recovered\n`,
    );
    assert.equal(pub.unacked.size, 0, 'the broker acknowledged every event (it is never down here)');
    for (const r of rows) assert.deepEqual(r.idConflicts, [], `${r.channel}: an event under two ids`);
    for (const r of rows.filter((x) => DURABLE.includes(x.channel))) {
        assert.equal(r.lost, 0, `${r.channel}: ${r.lost} of ${r.published} events lost: ${r.missing.slice(0, 20).join(' ')}`);
        assert.equal(r.strays, 0, `${r.channel}: events nobody published`);
    }
    assert.ok(drainMs >= 0);
    assert.ok(sse.opens > 1 && sock.connects.length > 1, 'the live clients came back after the kills');
});
