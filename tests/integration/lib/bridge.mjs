// The real mqpush-bridge, started against a world (broker with the plugin, tenants, service
// issuer), on its own loopback port, with a bridge.json written into the world's directory.
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { BRIDGE, LSAN_SUPPRESSIONS, SANITIZE, requireFile } from './env.mjs';
import { connect, end, publish } from './mqtt.mjs';
import { freePort } from './net.mjs';

const SANITIZER_MARKERS = ['AddressSanitizer', 'LeakSanitizer', 'runtime error:'];

/** asanOptions: more ASAN_OPTIONS (e.g. a smaller quarantine for a test that reads RSS). */
function bridgeEnv(asanOptions) {
    const env = { ...process.env };
    if (SANITIZE) {
        env.ASAN_OPTIONS = `detect_leaks=1:abort_on_error=0${asanOptions ? `:${asanOptions}` : ''}`;
        if (fs.existsSync(LSAN_SUPPRESSIONS)) env.LSAN_OPTIONS = `suppressions=${LSAN_SUPPRESSIONS}`;
    }
    return env;
}

/** GET/POST on 127.0.0.1:port; resolves {status, headers, body} (body as text). */
export function request(port, pathname, { method = 'GET', headers = {}, body, timeoutMs = 10000 } = {}) {
    return new Promise((resolve, reject) => {
        const req = http.request({ host: '127.0.0.1', port, path: pathname, method, headers }, (res) => {
            let text = '';
            res.setEncoding('utf8');
            res.on('data', (d) => (text += d));
            res.on('end', () => resolve({ status: res.statusCode, headers: res.headers, body: text }));
            res.on('error', reject);
        });
        req.setTimeout(timeoutMs, () => req.destroy(new Error(`${method} ${pathname}: timed out`)));
        req.on('error', reject);
        if (body !== undefined) req.write(body);
        req.end();
    });
}

export class Bridge {
    /**
     * world: from createWorld(). options: sse, limits, outbound, extra (top-level keys merged
     * into bridge.json), name, asanOptions (appended to ASAN_OPTIONS under the sanitizers),
     * store (its URL, e.g. world.pg.url; default a SQLite file named after the bridge),
     * wrap (argv => argv: the command line to run instead, e.g. the bridge in another
     * namespace through nsenter; it must exec the bridge so that the pid stays the bridge's).
     */
    constructor(world, options = {}) {
        this.world = world;
        this.options = options;
        this.name = options.name ?? 'bridge';
        this.configFile = path.join(world.dir, `${this.name}.json`);
        this.logFile = path.join(world.dir, `${this.name}.log`);
        this.port = 0;
        this.proc = null;
        this.exited = null;
        this.output = '';
    }

    get url() {
        return `http://127.0.0.1:${this.port}`;
    }

    get running() {
        return this.proc !== null && this.exited === null;
    }

    /** The bridge.json this bridge runs with (also for --check-config tests). */
    async writeConfig() {
        if (!this.token) {
            this.token = await this.world.token('service', {
                sub: 'mqpush-bridge',
                roles: ['mqpush-bridge'],
                ttl: 3600,
            });
            fs.writeFileSync(path.join(this.world.dir, `${this.name}.token`), `${this.token}\n`);
        }
        const cfg = {
            listen: `127.0.0.1:${this.port}`,
            broker: {
                host: '127.0.0.1',
                port: this.world.broker.port,
                client_id: `${this.name}-${process.pid}`,
                token_file: `${this.name}.token`,
            },
            streams_file: path.basename(this.world.streamsFile),
            store: this.options.store ?? `sqlite://${this.name}.db`,
            limits: this.options.limits ?? {},
            sse: this.options.sse ?? {},
            ...(this.options.extra ?? {}),
        };
        fs.writeFileSync(this.configFile, `${JSON.stringify(cfg, null, 2)}\n`);
        return cfg;
    }

    /** Start and wait until /healthz says the broker link is up. */
    async start({ samePort = false, waitHealthy = true } = {}) {
        requireFile(BRIDGE, 'mqpush-bridge');
        if (!samePort || !this.port) this.port = await freePort();
        await this.writeConfig();
        this.exited = null;
        const argv = (this.options.wrap ?? ((a) => a))([BRIDGE, '-c', this.configFile]);
        const proc = spawn(argv[0], argv.slice(1), { env: bridgeEnv(this.options.asanOptions), stdio: ['ignore', 'pipe', 'pipe'] });
        this.proc = proc;
        const log = fs.createWriteStream(this.logFile, { flags: 'a' });
        const take = (d) => {
            this.output += d.toString('utf8');
            log.write(d);
        };
        proc.stdout.on('data', take);
        proc.stderr.on('data', take);
        this.exitPromise = once(proc, 'exit').then(([code, signal]) => {
            this.exited = { code, signal };
            log.end();
            return this.exited;
        });
        await this.waitForOutput(/listening on/, { timeoutMs: 20000 });
        if (waitHealthy) await this.waitHealthy();
        return this;
    }

    async waitHealthy({ timeoutMs = 20000 } = {}) {
        const deadline = Date.now() + timeoutMs;
        for (;;) {
            const r = await request(this.port, '/healthz').catch(() => null);
            if (r?.status === 200) return;
            if (!this.running) throw new Error(`bridge exited: ${JSON.stringify(this.exited)}\n${this.output.slice(-3000)}`);
            if (Date.now() > deadline) throw new Error(`bridge not healthy after ${timeoutMs} ms\n${this.output.slice(-3000)}`);
            await sleep(50);
        }
    }

    mark() {
        return this.output.length;
    }

    async waitForOutput(re, { from = 0, timeoutMs = 10000 } = {}) {
        const deadline = Date.now() + timeoutMs;
        for (;;) {
            const m = this.output.slice(from).match(re);
            if (m) return m;
            if (!this.running)
                throw new Error(`bridge exited (${JSON.stringify(this.exited)}) waiting for ${re}:\n${this.output.slice(-3000)}`);
            if (Date.now() > deadline) throw new Error(`no output matching ${re} within ${timeoutMs} ms:\n${this.output.slice(-3000)}`);
            await sleep(20);
        }
    }

    /** SIGHUP; resolves {ok, line}. */
    async reload() {
        const from = this.mark();
        this.proc.kill('SIGHUP');
        const m = await this.waitForOutput(/reload: (.*loaded.*|.*refused.*)/, { from });
        return { ok: /loaded/.test(m[1]), line: m[0] };
    }

    /** Prometheus text parsed into {"name{labels}": value}. */
    async metrics() {
        const r = await request(this.port, '/metrics');
        const out = {};
        for (const line of r.body.split('\n')) {
            if (!line || line.startsWith('#')) continue;
            const i = line.lastIndexOf(' ');
            out[line.slice(0, i)] = Number(line.slice(i + 1));
        }
        return out;
    }

    /** VmRSS of the bridge in bytes. */
    rss() {
        const m = fs.readFileSync(`/proc/${this.proc.pid}/status`, 'utf8').match(/VmRSS:\s+(\d+) kB/);
        return Number(m[1]) * 1024;
    }

    sanitizerReport() {
        return SANITIZER_MARKERS.some((m) => this.output.includes(m)) ? this.output.slice(-8000) : '';
    }

    /** SIGTERM; throws unless it exits 0 without sanitizer reports. */
    async stop({ timeoutMs = 30000 } = {}) {
        if (!this.proc) return;
        if (this.exited === null) {
            this.proc.kill('SIGTERM');
            const timer = setTimeout(() => this.proc.kill('SIGKILL'), timeoutMs);
            await this.exitPromise;
            clearTimeout(timer);
        }
        const report = this.sanitizerReport();
        if (report) throw new Error(`sanitizer report from the bridge:\n${report}`);
        if (this.exited.code !== 0)
            throw new Error(`bridge exited with ${JSON.stringify(this.exited)}:\n${this.output.slice(-3000)}`);
    }

    kill() {
        if (this.proc && this.exited === null) this.proc.kill('SIGKILL');
    }
}

/** A publisher of one tenant: publish(ns, name, body) puts a domain event on the broker. */
export async function publisher(world, tenant) {
    const client = await connect(world.port(), {
        username: `${tenant}-pub`,
        password: await world.token(tenant, { roles: ['mqpush-publisher'] }),
    });
    return {
        client,
        publish: (ns, name, body) => publish(client, `${tenant}/events/${ns}/${name}`, JSON.stringify(body)),
        end: () => end(client),
    };
}

/**
 * For after() hooks: end the publisher, stop the bridge (throwing unless it exits 0 without
 * sanitizer reports) and remove the world; whatever fails, nothing is left running.
 */
export async function shutdown({ pub, bridge, world, timeoutMs = 30000 }) {
    await pub?.end().catch(() => {});
    try {
        await bridge?.stop({ timeoutMs });
    } finally {
        bridge?.kill();
        await world?.dispose();
    }
}
