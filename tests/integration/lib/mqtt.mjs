// MQTT 5 clients (mqtt.js) with the reason codes the tests assert on.
import mqtt from 'mqtt';
import { once } from 'node:events';

export const RC = Object.freeze({
    SUCCESS: 0x00,
    NO_MATCHING_SUBSCRIBERS: 0x10,
    UNSPECIFIED: 0x80,
    BAD_CREDENTIALS: 0x86,
    NOT_AUTHORIZED: 0x87,
});

let seq = 0;
/** Client ids unique within the run (the broker is per file, but ids must not collide there). */
export function clientId(label) {
    seq += 1;
    return `${label}-${process.pid}-${seq}`.slice(0, 64);
}

/**
 * Connect with MQTT 5. opts: id, username, password, clean (default true), keepalive,
 * timeoutMs. Resolves the connected client (with .connack and .inbox); rejects with an error
 * whose .code is the CONNACK reason code when the broker refuses.
 */
export async function connect(port, opts = {}) {
    const client = mqtt.connect({
        host: '127.0.0.1',
        port,
        protocolVersion: 5,
        clientId: opts.id ?? clientId('c'),
        username: opts.username,
        password: opts.password,
        clean: opts.clean ?? true,
        keepalive: opts.keepalive ?? 30,
        reconnectPeriod: 0,
        connectTimeout: opts.timeoutMs ?? 10000,
        properties: opts.properties,
    });
    client.inbox = new Inbox(client);
    client.errors = [];
    client.closed = false;
    client.on('close', () => {
        client.closed = true;
    });
    return new Promise((resolve, reject) => {
        const onConnect = (connack) => {
            cleanup();
            client.connack = connack;
            client.on('error', (e) => client.errors.push(e));
            resolve(client);
        };
        const onError = (e) => {
            cleanup();
            client.end(true);
            reject(e);
        };
        const onClose = () => {
            cleanup();
            client.end(true);
            reject(Object.assign(new Error('connection closed before CONNACK'), { code: 'CLOSED' }));
        };
        const cleanup = () => {
            client.off('connect', onConnect);
            client.off('error', onError);
            client.off('close', onClose);
        };
        client.on('connect', onConnect);
        client.on('error', onError);
        client.on('close', onClose);
    });
}

/** Like connect(), but resolves {ok: true, client} or {ok: false, code} instead of rejecting. */
export async function tryConnect(port, opts) {
    try {
        return { ok: true, client: await connect(port, opts), code: 0 };
    } catch (e) {
        return { ok: false, code: e.code, error: e };
    }
}

/**
 * Subscribe to one filter; resolves the SUBACK reason code (granted QoS, or >= 0x80 when
 * refused). Never rejects on a refusal: tests assert on the code.
 */
export function subscribe(client, filter, { qos = 1, ...rest } = {}) {
    return new Promise((resolve, reject) => {
        client.subscribe(filter, { qos, ...rest }, (err, _granted, packet) => {
            if (packet?.granted) resolve(packet.granted[0]);
            else reject(err ?? new Error(`no SUBACK for ${filter}`));
        });
    });
}

/**
 * Publish; resolves the PUBACK/PUBREC reason code for QoS 1/2 (0 on success), 0 for QoS 0 once
 * the packet is written.
 */
export function publish(client, topic, payload, { qos = 1, retain = false, properties } = {}) {
    const body = typeof payload === 'string' || Buffer.isBuffer(payload) ? payload : JSON.stringify(payload);
    return new Promise((resolve, reject) => {
        client.publish(topic, body, { qos, retain, properties }, (err, packet) => {
            if (err && typeof err.code === 'number') resolve(err.code);
            else if (err) reject(err);
            else resolve(packet?.reasonCode ?? 0);
        });
    });
}

/** End the connection cleanly (DISCONNECT) and wait for the socket to close. */
export async function end(client) {
    if (!client || client.closed) return;
    await new Promise((resolve) => client.end(false, {}, resolve));
}

/** Messages a client received, with bounded waits for expected ones. */
export class Inbox {
    constructor(client) {
        this.messages = [];
        this.waiters = new Set();
        client.on('message', (topic, payload, packet) => {
            let json;
            try {
                json = JSON.parse(payload.toString('utf8'));
            } catch {
                json = undefined;
            }
            const msg = { topic, payload, text: payload.toString('utf8'), json, qos: packet.qos, packet };
            this.messages.push(msg);
            for (const w of this.waiters) w();
        });
    }

    matching(pred) {
        return this.messages.filter(pred);
    }

    /** Resolve the first n messages matching pred once they are there; fail after timeoutMs. */
    waitFor(pred, { count = 1, timeoutMs = 10000, what = 'message' } = {}) {
        return new Promise((resolve, reject) => {
            const check = () => {
                const found = this.matching(pred);
                if (found.length >= count) {
                    this.waiters.delete(check);
                    clearTimeout(timer);
                    resolve(found.slice(0, count));
                    return true;
                }
                return false;
            };
            const timer = setTimeout(() => {
                this.waiters.delete(check);
                reject(
                    new Error(
                        `timed out after ${timeoutMs} ms waiting for ${count} x ${what}; got ${this.matching(pred).length}` +
                            ` (inbox: ${this.messages.length} messages, last topics: ${this.messages
                                .slice(-5)
                                .map((m) => m.topic)
                                .join(', ')})`,
                    ),
                );
            }, timeoutMs);
            if (!check()) this.waiters.add(check);
        });
    }

    /** Wait for one message on exactly this topic. */
    async next(topic, opts) {
        return (await this.waitFor((m) => m.topic === topic, { what: topic, ...opts }))[0];
    }

    clear() {
        this.messages.length = 0;
    }
}

/** Resolve when the client's connection closes (e.g. the broker kicked it); fail after timeoutMs. */
export async function waitClosed(client, timeoutMs) {
    if (client.closed) return;
    const ac = new AbortController();
    const timer = setTimeout(() => ac.abort(), timeoutMs);
    try {
        await once(client, 'close', { signal: ac.signal });
    } catch (e) {
        if (e.name === 'AbortError') throw new Error(`connection still open after ${timeoutMs} ms`);
        throw e;
    } finally {
        clearTimeout(timer);
    }
}

export function sleepMs(ms) {
    return new Promise((r) => setTimeout(r, ms));
}
