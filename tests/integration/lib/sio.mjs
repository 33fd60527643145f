// socket.io against the bridge: socket.io-client sockets that record what they see, and a
// wire-level Engine.IO v4 / Socket.IO v5 client (node:http for long polling, npm ws for the
// WebSocket transport) for what the client library hides.
// The protocol texts: socket.io's docs/engine.io-protocol/v4-current.md and
// docs/socket.io-protocol/v5-current.md.
import http from 'node:http';
import { setTimeout as sleep } from 'node:timers/promises';
import { Manager, io } from 'socket.io-client';
import WebSocket from 'ws';

export { Manager, io };

/** Wait until pred() is truthy; what names it in the error. */
export async function until(pred, what, timeoutMs = 10000) {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
        const v = await pred();
        if (v) return v;
        if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
        await sleep(10);
    }
}

/**
 * Attach recorders to a socket.io-client socket:
 *   got: [{event, data, offset, nargs, transport, at}] for every server event;
 *   connects: [{id, recovered, transport}], disconnects: [reason], errors: [Error].
 */
export function record(socket) {
    socket.got = [];
    socket.connects = [];
    socket.disconnects = [];
    socket.errors = [];
    socket.onAny((event, ...args) => {
        socket.got.push({
            event,
            data: args[0],
            offset: args[1],
            nargs: args.length,
            transport: socket.io.engine?.transport?.name,
            at: Date.now(),
        });
    });
    socket.on('connect', () =>
        socket.connects.push({ id: socket.id, recovered: socket.recovered, transport: socket.io.engine?.transport?.name }),
    );
    socket.on('disconnect', (reason) => socket.disconnects.push(reason));
    socket.on('connect_error', (e) => socket.errors.push(e));
    return socket;
}

/**
 * A recorded socket on `${bridge.url}${nspAndQuery}` with its own Manager (forceNew: the
 * client library would otherwise share one Manager, and its query, between io() calls).
 * Reconnection is off unless opts say otherwise.
 */
export function sio(bridge, nspAndQuery, opts = {}) {
    return record(io(`${bridge.url}${nspAndQuery}`, { forceNew: true, reconnection: false, timeout: 10000, ...opts }));
}

/** Resolve once connected; reject with the connect_error (message and data.code) if refused. */
export function connected(socket, timeoutMs = 10000) {
    if (socket.connected) return Promise.resolve(socket);
    return new Promise((resolve, reject) => {
        const done = (f, v) => {
            clearTimeout(timer);
            socket.off('connect', ok);
            socket.off('connect_error', bad);
            f(v);
        };
        const ok = () => done(resolve, socket);
        const bad = (e) => done(reject, Object.assign(new Error(`connect_error: ${e.message} ${JSON.stringify(e.data)}`), { cause: e }));
        const timer = setTimeout(() => done(reject, new Error(`not connected within ${timeoutMs} ms`)), timeoutMs);
        socket.on('connect', ok);
        socket.on('connect_error', bad);
    });
}

/** Resolve the connect_error a refused socket gets; reject if it connects instead. */
export function refused(socket, timeoutMs = 10000) {
    return new Promise((resolve, reject) => {
        const done = (f, v) => {
            clearTimeout(timer);
            socket.off('connect', ok);
            socket.off('connect_error', bad);
            f(v);
        };
        const ok = () => done(reject, new Error(`connected (id ${socket.id}) although a refusal was expected`));
        const bad = (e) => done(resolve, e);
        const timer = setTimeout(() => done(reject, new Error(`neither connect nor connect_error within ${timeoutMs} ms`)), timeoutMs);
        socket.on('connect', ok);
        socket.on('connect_error', bad);
    });
}

/** Events of one name the socket got, as {event, data, offset}. */
export function eventsNamed(socket, name) {
    return socket.got.filter((g) => g.event === name);
}

/** Close a socket and its Manager (engine) for good. */
export function closeSocket(socket) {
    socket.disconnect();
    socket.io.engine?.close();
}

// ---------------------------------------------------------------------------------------------
// Wire level.

export const SEP = '\x1e';

/** An HTTP request on 127.0.0.1:port that resolves {status, headers, body} (or rejects). */
export function httpReq(port, path, { method = 'GET', headers = {}, body, timeoutMs = 10000, onRequest } = {}) {
    return new Promise((resolve, reject) => {
        // a body goes with Content-Length, as browsers and socket.io-client send it (lws reads
        // no chunked request bodies)
        if (body !== undefined && !Object.keys(headers).some((h) => h.toLowerCase() === 'content-length'))
            headers = { ...headers, 'content-length': Buffer.byteLength(body) };
        const req = http.request({ host: '127.0.0.1', port, path, method, headers, agent: false }, (res) => {
            let text = '';
            res.setEncoding('utf8');
            res.on('data', (d) => (text += d));
            res.on('end', () => resolve({ status: res.statusCode, headers: res.headers, body: text }));
            res.on('error', reject);
        });
        req.setTimeout(timeoutMs, () => req.destroy(new Error(`${method} ${path}: no answer within ${timeoutMs} ms`)));
        req.on('error', reject);
        onRequest?.(req);
        if (body !== undefined) req.write(body);
        req.end();
    });
}

export const eioPath = (query) => `/socket.io/?EIO=4${query}`;

/** Open a polling session: resolves {sid, open, res}. */
export async function pollOpen(port, { query = '', headers = {} } = {}) {
    const res = await httpReq(port, eioPath(`&transport=polling${query}`), { headers });
    if (res.status !== 200 || !res.body.startsWith('0'))
        throw new Error(`polling handshake: ${res.status} ${res.body}`);
    const open = JSON.parse(res.body.slice(1));
    return { sid: open.sid, open, res };
}

export const pollGet = (port, sid, opts = {}) => httpReq(port, eioPath(`&transport=polling&sid=${sid}`), opts);
/** POST packets as browsers and socket.io-client send them: text/plain with a Content-Length. */
export const pollPost = (port, sid, body, opts = {}) =>
    httpReq(port, eioPath(`&transport=polling&sid=${sid}`), {
        method: 'POST',
        body,
        ...opts,
        headers: {
            'content-type': 'text/plain;charset=UTF-8',
            'content-length': String(Buffer.byteLength(body)),
            ...(opts.headers ?? {}),
        },
    });

/** Packets of a polling body. */
export const packets = (body) => (body === '' ? [] : body.split(SEP));

/** Parse an Engine.IO error body; throws with the body when it is not one. */
export function eioError(res) {
    try {
        return JSON.parse(res.body);
    } catch {
        throw new Error(`not a JSON error body (status ${res.status}): ${JSON.stringify(res.body)}`);
    }
}

/**
 * A Socket.IO packet as text: type digit, namespace (when not "/") and comma, ack id, JSON.
 * E.g. sioPacket(0, '/t', {stream: 's'}) -> '40/t,{"stream":"s"}' (the Engine.IO "4" first).
 */
export function sioPacket(type, nsp, data, ackId) {
    let s = `4${type}`;
    if (nsp && nsp !== '/') s += `${nsp},`;
    if (ackId !== undefined) s += String(ackId);
    if (data !== undefined) s += JSON.stringify(data);
    return s;
}

/** Parse a Socket.IO packet carried by an Engine.IO message ("4..."): {type, nsp, id, data}. */
export function parseSio(text) {
    if (text[0] !== '4') throw new Error(`not an Engine.IO message: ${text}`);
    const type = Number(text[1]);
    let i = 2;
    let nsp = '/';
    if (text[i] === '/') {
        const comma = text.indexOf(',', i);
        nsp = comma < 0 ? text.slice(i) : text.slice(i, comma);
        i = comma < 0 ? text.length : comma + 1;
    }
    let id;
    const m = /^\d+/.exec(text.slice(i));
    if (m) {
        id = Number(m[0]);
        i += m[0].length;
    }
    const rest = text.slice(i);
    return { type, nsp, id, data: rest === '' ? undefined : JSON.parse(rest) };
}

/**
 * A WebSocket to /socket.io/ (npm ws): every text message lands in `messages`; take() waits
 * for the next one matching a predicate. autoPong answers the server's pings ("2" -> "3").
 */
export class EioWs {
    static async open(port, { sid, query = '', headers = {}, autoPong = true } = {}) {
        const q = `&transport=websocket${sid ? `&sid=${sid}` : ''}${query}`;
        const ws = new WebSocket(`ws://127.0.0.1:${port}${eioPath(q)}`, { headers });
        const c = new EioWs(ws, autoPong);
        await new Promise((resolve) => {
            ws.once('open', resolve);
            ws.once('close', resolve);
        });
        return c;
    }

    constructor(ws, autoPong) {
        this.ws = ws;
        this.autoPong = autoPong;
        this.messages = [];
        this.pos = 0;
        this.closed = null;
        this.opened = Date.now();
        ws.on('message', (m, isBinary) => {
            const text = isBinary ? m : m.toString('utf8');
            this.messages.push(text);
            if (this.autoPong && text === '2') ws.send('3');
        });
        ws.on('close', (code, reason) => (this.closed = { code, reason: reason.toString(), at: Date.now() }));
        ws.on('error', (e) => {
            this.error = e;
            // ws reports a refused upgrade as "Unexpected server response: <status>".
            const m = /Unexpected server response: (\d+)/.exec(e.message);
            if (m) this.refusedStatus = Number(m[1]);
        });
    }

    send(text) {
        this.ws.send(text);
    }

    /** The next message (after those already taken) matching pred; later ones stay. */
    async take(pred = () => true, { timeoutMs = 10000, what = 'message' } = {}) {
        const deadline = Date.now() + timeoutMs;
        for (;;) {
            for (let i = this.pos; i < this.messages.length; i++) {
                if (pred(this.messages[i])) {
                    this.pos = i + 1;
                    return this.messages[i];
                }
            }
            if (this.closed) throw new Error(`ws closed (${JSON.stringify(this.closed)}) waiting for ${what}; got ${JSON.stringify(this.messages.slice(-10))}`);
            if (Date.now() > deadline) throw new Error(`no ${what} within ${timeoutMs} ms; got ${JSON.stringify(this.messages.slice(-10))}`);
            await sleep(5);
        }
    }

    /** The open packet of a WebSocket-only session. */
    async openPacket() {
        return JSON.parse((await this.take((m) => m[0] === '0', { what: 'open packet' })).slice(1));
    }

    /** Join a namespace: CONNECT with auth; resolves the parsed answer (CONNECT or CONNECT_ERROR). */
    async join(nsp, auth) {
        this.send(sioPacket(0, nsp, auth));
        const m = await this.take((t) => /^4[04]/.test(t) && parseSio(t).nsp === nsp, { what: `CONNECT answer for ${nsp}` });
        return parseSio(m);
    }

    /** Socket.IO EVENTs of a namespace received so far: [{name, args, id}]. */
    events(nsp) {
        return this.messages
            .filter((m) => typeof m === 'string' && m.startsWith('42'))
            .map(parseSio)
            .filter((p) => p.nsp === nsp)
            .map((p) => ({ name: p.data[0], args: p.data.slice(1), id: p.id }));
    }

    async waitClosed(timeoutMs = 10000) {
        await until(() => this.closed, 'the WebSocket to close', timeoutMs);
        return this.closed;
    }

    close() {
        this.ws.terminate();
    }
}
