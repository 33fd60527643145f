// The soak's stream clients (bench/soak/run.sh), one role per process:
//   node clients.mjs sse --bridge P --streams s1,s2,s3 --steady N --churn N --refuse-ms MS
//     SSE clients of public streams (round robin): steady ones stay connected; churning ones cut
//     their connection every 4-12 s and come back 0.2-1 s later with Last-Event-ID, so they too
//     must see every event once. Every refuse-ms, a request for an unknown stream (404).
//   node clients.mjs sio --bridge P --streams ... --ws N --polling N --churn N --refuse-ms MS
//     socket.io-client 4.8 sockets on /bench: WebSocket only, polling only, and churning ones
//     (half each) whose transport is cut every 4-12 s; they reconnect by themselves and must be
//     recovered (connection state recovery) with the missed events. Every refuse-ms, a socket for
//     an unknown stream (connect_error).
//   node clients.mjs mqtt --mqtt P --token T --topic F --every-ms MS
//     MQTT 5 clients that connect with a listener token, subscribe, wait for one event and
//     disconnect, one after the other: the broker's and the plugin's per-client churn.
// Each prints a ready line once its steady clients are live, and its result line on SIGTERM.
import http from 'node:http';
import { connect, end, subscribe } from '../../tests/integration/lib/mqtt.mjs';
import { io } from '../../tests/integration/lib/sio.mjs';
import { Report, arg, between, controls, fail, num, ready, sleep } from './lib.mjs';

const role = process.argv[2];
const bridgePort = num('bridge', 0);
const streams = arg('streams', 's1').split(',');
const report = new Report(role);
const t0 = Date.now();
/** An unexpected turn, with its time, on stderr (<role>.err in the work directory). */
const trace = (what) => process.stderr.write(`${((Date.now() - t0) / 1000).toFixed(1)} s: ${what}\n`);
let churning = false;
let stopping = false;

// ---- SSE --------------------------------------------------------------------------------------

/** One SSE client that reconnects with Last-Event-ID whenever its connection ends. */
class SseClient {
    constructor(channel, name, stream, churn) {
        this.channel = channel;
        this.stream = stream;
        this.churn = churn;
        this.tally = report.tally(channel, name, stream);
        this.lastId = null;
        this.ready = false;
        this.req = null;
        this.cutByUs = false;
    }

    open() {
        const headers = { accept: 'text/event-stream' };
        if (this.lastId) headers['last-event-id'] = this.lastId;
        let buf = '';
        let frame = {};
        const req = http.get({ host: '127.0.0.1', port: bridgePort, path: `/stream/v1/streams/${this.stream}?tenant=bench`, headers, agent: false });
        this.req = req;
        this.cutByUs = false;
        req.on('response', (res) => {
            if (res.statusCode !== 200) {
                report.error(this.channel, `status ${res.statusCode}`);
                res.resume();
                return;
            }
            res.setEncoding('utf8');
            res.on('data', (d) => {
                buf += d;
                let nl;
                while ((nl = buf.indexOf('\n')) >= 0) {
                    const line = buf.slice(0, nl);
                    buf = buf.slice(nl + 1);
                    if (line === '') {
                        this.dispatch(frame);
                        frame = {};
                    } else if (line[0] !== ':') {
                        const i = line.indexOf(':');
                        const field = i < 0 ? line : line.slice(0, i);
                        const value = i < 0 ? '' : line.slice(line[i + 1] === ' ' ? i + 2 : i + 1);
                        frame[field] = value;
                    }
                }
            });
        });
        req.on('error', () => {});
        req.on('close', () => this.closed(req));
    }

    dispatch(f) {
        if (f.event === undefined && f.data !== undefined) {
            if (f.id) this.lastId = f.id;
            let ev;
            try {
                ev = JSON.parse(f.data);
            } catch {
                report.error(this.channel, 'data is not JSON');
                return;
            }
            report.event(this.tally, ev);
        } else if (f.event === 'mqpush:ready') {
            if (!this.ready) this.ready = true;
            else report.count(this.channel, 'resumed');
        } else if (f.event === 'mqpush:reset' || f.event === 'mqpush:reconnect') {
            report.error(this.channel, f.event);
        }
    }

    closed(req) {
        if (req !== this.req || stopping) return;
        if (!this.cutByUs) {
            report.error(this.channel, 'stream ended by the bridge');
            trace(`${this.tally.name}: stream ended by the bridge`);
        }
        setTimeout(() => this.open(), this.cutByUs ? between(200, 1000) : 500);
    }

    cut() {
        this.cutByUs = true;
        this.req.destroy();
    }

    async cycle() {
        while (!stopping) {
            await sleep(between(4000, 12000));
            if (churning && !stopping && this.ready) this.cut();
        }
    }
}

async function refuseSse(ms) {
    while (!stopping) {
        await sleep(ms);
        if (!churning) continue;
        const status = await new Promise((resolve) => {
            const req = http.get({ host: '127.0.0.1', port: bridgePort, path: '/stream/v1/streams/nope?tenant=bench', agent: false }, (res) => {
                res.resume();
                res.on('end', () => resolve(res.statusCode));
            });
            req.on('error', () => resolve(0));
        });
        if (status === 404) report.count('sse', 'refused_as_expected');
        else report.error('sse', `unknown stream answered ${status}`);
    }
}

async function sse() {
    const all = [];
    for (let i = 0; i < num('steady', 10); i++) all.push(new SseClient('sse', `sse-${i}`, streams[i % streams.length], false));
    for (let i = 0; i < num('churn', 0); i++) all.push(new SseClient('sse-resume', `sse-churn-${i}`, streams[i % streams.length], true));
    for (const c of all) c.open();
    const deadline = Date.now() + 20000;
    while (!all.every((c) => c.ready)) {
        if (Date.now() > deadline) throw new Error(`${all.filter((c) => !c.ready).length} SSE clients not ready after 20 s`);
        await sleep(50);
    }
    for (const c of all.filter((x) => x.churn)) c.cycle();
    refuseSse(num('refuse-ms', 2000));
    ready({ role, clients: all.length });
    return () => {
        stopping = true;
        for (const c of all) c.req?.destroy();
    };
}

// ---- socket.io --------------------------------------------------------------------------------

function sioSocket(channel, name, stream, transport, churn) {
    const tally = report.tally(channel, name, stream);
    const socket = io(`http://127.0.0.1:${bridgePort}/bench?stream=${stream}`, {
        forceNew: true,
        transports: [transport],
        upgrade: false,
        reconnection: true,
        reconnectionDelay: 300,
        reconnectionDelayMax: 1000,
        timeout: 20000,
    });
    const s = { socket, churn, ready: false, cutByUs: false, channel };
    socket.onAny((_name, ev) => report.event(tally, ev));
    socket.on('connect', () => {
        if (!s.ready) {
            s.ready = true;
            return;
        }
        if (socket.recovered) report.count(channel, 'recovered');
        else {
            report.error(channel, 'reconnected without recovery');
            trace(`${name}: reconnected without recovery, ${tally.distinct} events so far, max seq ${tally.maxSeq}`);
        }
    });
    socket.on('disconnect', (reason) => {
        if (!s.cutByUs && !stopping) {
            report.error(channel, `disconnect: ${reason}`);
            trace(`${name}: disconnect (${reason}), ${tally.distinct} events so far, max seq ${tally.maxSeq}`);
        }
        s.cutByUs = false;
    });
    socket.on('connect_error', (e) => report.error(channel, `connect_error: ${e.message}`));
    s.cycle = async () => {
        while (!stopping) {
            await sleep(between(4000, 12000));
            if (churning && !stopping && socket.connected) {
                s.cutByUs = true;
                socket.io.engine.close();
            }
        }
    };
    return s;
}

async function refuseSio(ms) {
    let k = 0;
    while (!stopping) {
        await sleep(ms);
        if (!churning) continue;
        const transport = k++ % 2 ? 'polling' : 'websocket';
        const socket = io(`http://127.0.0.1:${bridgePort}/bench?stream=nope`, { forceNew: true, transports: [transport], reconnection: false, timeout: 10000 });
        const outcome = await new Promise((resolve) => {
            socket.on('connect', () => resolve('connected'));
            socket.on('connect_error', (e) => resolve(e.message));
        });
        socket.disconnect();
        socket.io.engine?.close();
        if (outcome.startsWith('unknown_stream')) report.count('sio-churn', 'refused_as_expected');
        else report.error('sio-churn', `unknown stream: ${outcome}`);
    }
}

async function sio() {
    const all = [];
    for (let i = 0; i < num('ws', 10); i++) all.push(sioSocket('sio-ws', `ws-${i}`, streams[i % streams.length], 'websocket', false));
    for (let i = 0; i < num('polling', 4); i++) all.push(sioSocket('sio-polling', `poll-${i}`, streams[i % streams.length], 'polling', false));
    for (let i = 0; i < num('churn', 0); i++)
        all.push(sioSocket('sio-churn', `churn-${i}`, streams[i % streams.length], i % 2 ? 'polling' : 'websocket', true));
    const deadline = Date.now() + 30000;
    while (!all.every((s) => s.ready)) {
        if (Date.now() > deadline) throw new Error(`${all.filter((s) => !s.ready).length} sockets not connected after 30 s`);
        await sleep(50);
    }
    for (const s of all.filter((x) => x.churn)) s.cycle();
    refuseSio(num('refuse-ms', 2000));
    ready({ role, clients: all.length });
    return () => {
        stopping = true;
        for (const s of all) {
            s.socket.disconnect();
            s.socket.io.engine?.close();
        }
    };
}

// ---- MQTT ------------------------------------------------------------------------------------

async function mqttChurn() {
    const port = num('mqtt', 0);
    const token = arg('token');
    const topic = arg('topic');
    const every = num('every-ms', 500);
    let n = 0;
    const loop = async () => {
        while (!stopping) {
            await sleep(every);
            if (!churning) continue;
            let client;
            try {
                client = await connect(port, { id: `soak-churn-${process.pid}-${++n}`, username: 'soak', password: token });
                const granted = await subscribe(client, topic, { qos: 0 });
                if (granted >= 0x80) throw new Error(`SUBACK ${granted}`);
                await Promise.race([
                    new Promise((resolve) => client.once('message', resolve)),
                    sleep(3000).then(() => {
                        throw new Error('no event within 3 s');
                    }),
                ]);
                report.count('mqtt-churn', 'sessions');
            } catch (e) {
                // a session still waiting when the publishers stopped found nothing to wait for
                if (churning) report.error('mqtt-churn', e.message);
            } finally {
                await end(client).catch(() => {});
            }
        }
    };
    report.channel('mqtt-churn');
    loop();
    ready({ role });
    return () => {
        stopping = true;
    };
}

const roles = { sse, sio, mqtt: mqttChurn };
if (!roles[role]) fail(new Error('role: sse | sio | mqtt'));
let close = () => {};
controls({
    go: () => (churning = true),
    halt: () => (churning = false),
    finish: async () => {
        stopping = true;
        close();
        report.print();
    },
});
roles[role]()
    .then((c) => (close = c))
    .catch(fail);
