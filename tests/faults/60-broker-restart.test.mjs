// Mosquitto restarted under load, with persistence on so that it keeps sessions and their
// queues across the restart. Just before the stop the bridge is held (SIGSTOP) so that events
// pile up in its persistent session, unacknowledged; the broker writes them out at its stop and
// hands them over when the bridge's link comes back. Shown: the bridge reconnects (link down,
// /healthz 503, then up and 200 again); the SSE and socket.io clients keep their connections to
// the bridge and get every event published once the link is back; the durable channels (Web
// Push, UnifiedPush, SET push) get every event the broker acknowledged before the stop (the
// queued ones too) and after the bridge's return. What the publisher sent while the broker was
// down without an acknowledgement is the publisher's business and not counted. Events the broker
// took between its restart and the bridge's return reach the bridge's restored session too (the
// plugin restores the clients' rights with the sessions, plugin_opt_state_file), and so do the
// stream copies of events acknowledged as it was told to stop (spooled at the stop and fanned
// out at the next start).
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { Bridge, request, shutdown } from '../integration/lib/bridge.mjs';
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
import { until } from './lib/measure.mjs';

const RATE = 50;
const HELD_MS = 1500; // the bridge stopped (SIGSTOP) while events pile up at the broker
const DOWN_MS = 2000; // the broker away
const DRAIN_MS = 60000;
// events acknowledged this close to the broker's SIGTERM may be routed by a loop that never runs
const STOP_MARGIN_MS = 100;

let w;
let bridge;
let recv;
let pub;
let sse;
let sock;

before(async () => {
    w = await createWorld({ label: 'f-brokerrestart', tenants: tenants(), brokerConf: QUEUE_CONF, start: false });
    w.broker.persistenceDir = w.dir;
    await w.broker.start();
    bridge = await new Bridge(w, { sse: { replay_max_events: 1000 }, extra: channelConfig() }).start();
    recv = await durableReceivers(w, bridge);
});

after(async () => {
    if (bridge?.running) bridge.proc.kill('SIGCONT');
    await pub?.stop().catch(() => {});
    await sse?.stop();
    sock?.stop();
    await recv?.close();
    await shutdown({ bridge, world: w });
});

const healthz = async () => {
    const r = await request(bridge.port, '/healthz').catch((e) => ({ status: e.message, body: '' }));
    return { status: r.status, body: r.body ? JSON.parse(r.body) : null };
};

/**
 * The seqs the broker took between its restart and the bridge's new CONNACK, read from its log
 * (its "Received PUBLISH ... (m<id>" lines name the publisher's packet identifiers).
 */
function gapSeqs(log, pubId, bridgeId, midToSeq) {
    const end = log.indexOf(`Sending CONNACK to ${bridgeId}`);
    const gap = [];
    const re = new RegExp(`Received PUBLISH from ${pubId} \\([^)]*?m(\\d+),`, 'g');
    for (const m of log.slice(0, end < 0 ? log.length : end).matchAll(re)) {
        const seq = midToSeq.get(Number(m[1]));
        if (seq !== undefined) gap.push(seq);
    }
    return gap;
}

let result; // what the first test saw, for the second

test('a broker restart under load: the bridge reconnects, clients stay, nothing acknowledged is lost', async () => {
    sse = sseFollower(bridge, recv.reader);
    sock = sioFollower(bridge, recv.reader);
    await until(() => sse.connected() && sock.socket.connected, 'the live clients connected');
    pub = pacedPublisher(w, { rate: RATE });
    await sleep(3000);

    // Events pile up in the bridge's session: the bridge is held, the broker keeps sending
    // until the bridge's receive window is full, then queues.
    const seqBeforeHold = pub.next;
    bridge.proc.kill('SIGSTOP');
    await sleep(HELD_MS);
    const from = bridge.mark();
    const stopAt = Date.now();
    await w.broker.stop();
    const stoppedAt = pub.next;
    const restartFrom = w.broker.logMark();
    bridge.proc.kill('SIGCONT');
    await bridge.waitForOutput(/broker link down/, { from });
    const down = await until(async () => {
        const h = await healthz();
        return h.status === 503 ? h : null;
    }, '/healthz 503 while the broker is away');
    assert.equal(down.body.broker, 'down', JSON.stringify(down.body));
    assert.equal((await bridge.metrics()).mqpush_bridge_broker_up, 0);
    await sleep(DOWN_MS);

    await w.broker.start({ samePort: true });
    await bridge.waitForOutput(/broker link up/, { from, timeoutMs: 40000 });
    await bridge.waitHealthy({ timeoutMs: 40000 });
    assert.ok(/Saving in-memory database/.test(w.broker.log().slice(0, restartFrom)), 'the broker wrote its sessions out');
    await until(() => pub.published.length && pub.published.at(-1) > stoppedAt, 'publishing again', 20000);
    await sleep(3000);
    await pub.stop();

    // Taken by the broker before it stopped (some while the bridge was held, queued), between
    // its restart and the bridge's return (see the next test), and after.
    const restartLog = w.broker.log().slice(restartFrom);

    const gap = gapSeqs(restartLog, pub.id, `${bridge.name}-${process.pid}`, pub.mids);
    const gapSet = new Set(gap);
    // acknowledged as the broker was told to stop (see the last test)
    const atStop = pub.published.filter((s) => s < stoppedAt && pub.ackAt.get(s) >= stopAt - STOP_MARGIN_MS);
    const beforeStop = pub.published.filter((s) => s < stoppedAt && !atStop.includes(s));
    const queued = beforeStop.filter((s) => s >= seqBeforeHold);
    const afterReturn = pub.published.filter((s) => s >= stoppedAt && !gapSet.has(s));
    const counted = [...beforeStop, ...afterReturn];
    const drainMs = await drained(recv, counted, DRAIN_MS);
    await sleep(1000);

    const rows = [
        ...DURABLE.map((c) => tally(c, counted, recv.received(c))),
        tally('sse (after)', afterReturn, sse.got),
        tally('socket.io (after)', afterReturn, sock.got),
    ];
    result = {
        gap: { seqs: gap, rows: DURABLE.map((c) => tally(`${c} (gap)`, gap, recv.received(c))) },
        atStop: { seqs: atStop, rows: DURABLE.map((c) => tally(`${c} (at the stop)`, atStop, recv.received(c))) },
    };
    console.log(
        `\n${pub.published.length} events acknowledged by the broker (${pub.unacked.size} sent without a PUBACK while ` +
            `it went away, not counted): ${beforeStop.length} before its stop, ${queued.length} of them while the ` +
            `bridge was held (queued at the broker across the restart), ${atStop.length} as it was told to stop (not counted here), ${gap.length} between its restart and the ` +
            `bridge's return (seq ${gap[0]}..${gap.at(-1)}; the broker stopped at ${stoppedAt}; not counted here), ${afterReturn.length} after; ` +
            `durable channels drained ${drainMs} ms ` +
            `after the last publish\n${table(rows)}\n` +
            `sse: ${sse.opens} connection(s), ${sse.got.length} events in all; socket.io: ${sock.connects.length} ` +
            `connect(s), ${sock.got.length} events in all\n`,
    );
    assert.ok(queued.length >= (RATE * HELD_MS) / 2000, `${queued.length} events queued while the bridge was held`);
    for (const r of rows) assert.deepEqual(r.idConflicts, [], `${r.channel}: an event under two ids`);
    for (const r of rows) assert.equal(r.lost, 0, `${r.channel}: ${r.lost} of ${r.published} lost: ${r.missing.slice(0, 20).join(' ')}`);
    assert.ok(drainMs >= 0);
    assert.equal(sse.opens, 1, 'the SSE connection was never dropped');
    assert.equal(sock.connects.length, 1, 'the socket.io connection was never dropped');
});

// Mosquitto checks a subscriber's read access when it queues a message for it; the plugin
// grants it from the token of the connection that authenticated (plugin/acl.c). For a session
// restored from the persistence file it uses the rights written at the stop (plugin/state.h),
// so events are queued for the bridge's session before the bridge is back.
test(
    'events the broker took after its restart, before the bridge was back, reach the durable channels',
    () => {
        assert.ok(result, 'the first test ran');
        console.log(`\n${result.gap.seqs.length} events between the broker's restart and the bridge's CONNACK\n${table(result.gap.rows)}\n`);
        for (const r of result.gap.rows) assert.equal(r.lost, 0, `${r.channel}: ${r.lost} of ${r.published} lost: ${r.missing.slice(0, 20).join(' ')}`);
    },
);

// The plugin fans an event out with mosquitto_broker_publish_copy(), which Mosquitto only
// queues, to be routed at the start of its next loop; the publisher's PUBACK goes at once. A
// SIGTERM that ends the loop in between would drop the stream copies of an event already
// acknowledged: the plugin keeps such events until their copies are routed and writes them out
// at the stop, and the next start fans them out again (plugin/spool.h).
test(
    'events the broker acknowledged as it was told to stop reach the durable channels',
    () => {
        assert.ok(result, 'the first test ran');
        console.log(`\n${result.atStop.seqs.length} events acknowledged within ${STOP_MARGIN_MS} ms of the stop: ${result.atStop.seqs.join(' ')}\n${table(result.atStop.rows)}\n`);
        for (const r of result.atStop.rows) assert.equal(r.lost, 0, `${r.channel}: ${r.lost} of ${r.published} lost: ${r.missing.join(' ')}`);
    },
);
