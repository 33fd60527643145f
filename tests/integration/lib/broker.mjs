// The real Mosquitto broker with the mqpush plugin, one per test file (or per test), on its own
// loopback port, in its own temporary directory.
import { spawn, execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { once } from 'node:events';
import { setTimeout as sleep } from 'node:timers/promises';
import {
    C_COMPILER,
    LSAN_SUPPRESSIONS,
    MOSQUITTO,
    MOSQUITTO_PASSWD,
    PLUGIN,
    SANITIZE,
    requireArtifacts,
} from './env.mjs';
import { freePort, waitForPort } from './net.mjs';
import { runOk } from './proc.mjs';

const SANITIZER_MARKERS = ['AddressSanitizer', 'LeakSanitizer', 'runtime error:'];

let asanRuntime;
function asanRuntimePath() {
    if (asanRuntime === undefined) {
        asanRuntime = execFileSync(C_COMPILER, ['-print-file-name=libasan.so'], { encoding: 'utf8' }).trim();
        // The compiler echoes the bare name back when it has no such library.
        if (!path.isAbsolute(asanRuntime) || !fs.existsSync(asanRuntime))
            throw new Error(`${C_COMPILER} knows no libasan.so (got "${asanRuntime}")`);
    }
    return asanRuntime;
}

/** The plugin is built with ASan: the runtime must come first, so it is preloaded. */
function brokerEnv(sanitize = SANITIZE) {
    const env = { ...process.env };
    if (!sanitize) return env;
    env.LD_PRELOAD = asanRuntimePath();
    env.ASAN_OPTIONS = 'detect_leaks=1:abort_on_error=0';
    if (fs.existsSync(LSAN_SUPPRESSIONS)) {
        env.LSAN_OPTIONS = `suppressions=${LSAN_SUPPRESSIONS}`;
        // The Debian broker has no frame pointers: the suppressions for its own leaks match only
        // the stacks of the slow unwinder.
        env.ASAN_OPTIONS += ':fast_unwind_on_malloc=0';
    }
    return env;
}

/**
 * mosquitto.conf for one listener on 127.0.0.1:port; plugin: another build's (a package's);
 * persistenceDir: where to keep sessions and queued messages across a restart (else none).
 */
export function mosquittoConf({ port, logFile, streamsFile, passwordFile, aclFile, extra = [], plugin = PLUGIN, persistenceDir }) {
    const lines = [
        `listener ${port} 127.0.0.1`,
        'allow_anonymous true',
        ...(persistenceDir ? ['persistence true', `persistence_location ${persistenceDir}/`] : ['persistence false']),
        `log_dest file ${logFile}`,
        'log_type all',
        'log_timestamp_format %Y-%m-%dT%H:%M:%S',
    ];
    // Run as root (CI containers), Mosquitto would switch to the "mosquitto" user and could not
    // read the private temporary directory.
    if (process.getuid?.() === 0) lines.push('user root');
    lines.push(`plugin ${plugin}`, `plugin_opt_config ${streamsFile}`);
    // the clients' rights go with their sessions across a restart (plugin/state.h)
    if (persistenceDir) lines.push(`plugin_opt_state_file ${persistenceDir}/mqpush-clients.json`);
    if (passwordFile) lines.push(`password_file ${passwordFile}`);
    if (aclFile) lines.push(`acl_file ${aclFile}`);
    lines.push(...extra);
    return `${lines.join('\n')}\n`;
}

/** Write a Mosquitto password file with mosquitto_passwd; users is {name: password}. */
export async function writePasswordFile(file, users) {
    let first = true;
    for (const [user, password] of Object.entries(users)) {
        await runOk(MOSQUITTO_PASSWD, [...(first ? ['-c'] : []), '-b', file, user, password]);
        first = false;
    }
    fs.chmodSync(file, 0o600);
    return file;
}

export class Broker {
    /**
     * dir: private directory for the conf and log. streamsFile: plugin_opt_config.
     * passwordFile, aclFile: optional Mosquitto security files. extra: more conf lines.
     * plugin, sanitize: a plugin other than the build under test's, and whether it has ASan.
     */
    constructor({ dir, streamsFile, passwordFile, aclFile, extra, name = 'broker', plugin = PLUGIN, sanitize = SANITIZE }) {
        this.dir = dir;
        this.streamsFile = streamsFile;
        this.passwordFile = passwordFile;
        this.aclFile = aclFile;
        this.extra = extra;
        this.name = name;
        this.plugin = plugin;
        this.sanitize = sanitize;
        // Set before start(): Mosquitto keeps sessions and their queues in this directory
        // (written at a clean stop, read at start), so that a restart hands them over.
        this.persistenceDir = null;
        this.confFile = path.join(dir, `${name}.conf`);
        this.logFile = path.join(dir, `${name}.log`);
        this.proc = null;
        this.port = 0;
        this.stderr = '';
        this.exited = null;
    }

    get running() {
        return this.proc !== null && this.exited === null;
    }

    /**
     * Start and wait until the listener accepts; retries when another process took the port.
     * samePort: start again on the port of the previous run (a restart clients can follow).
     */
    async start({ samePort = false } = {}) {
        requireArtifacts();
        for (let attempt = 1; ; attempt++) {
            if (!samePort || !this.port || attempt > 1) this.port = await freePort();
            fs.writeFileSync(
                this.confFile,
                mosquittoConf({
                    port: this.port,
                    logFile: this.logFile,
                    streamsFile: this.streamsFile,
                    passwordFile: this.passwordFile,
                    aclFile: this.aclFile,
                    extra: this.extra,
                    plugin: this.plugin,
                    persistenceDir: this.persistenceDir,
                }),
            );
            this.stderr = '';
            this.exited = null;
            const proc = spawn(MOSQUITTO, ['-c', this.confFile], {
                env: brokerEnv(this.sanitize),
                stdio: ['ignore', 'pipe', 'pipe'],
            });
            this.proc = proc;
            proc.stdout.on('data', (d) => (this.stderr += d.toString('utf8')));
            proc.stderr.on('data', (d) => (this.stderr += d.toString('utf8')));
            this.exitPromise = once(proc, 'exit').then(([code, signal]) => {
                this.exited = { code, signal };
                return this.exited;
            });
            const up = await waitForPort(this.port, { stillAlive: () => this.exited === null });
            if (up) return this;
            await this.exitPromise;
            const why = `${this.stderr}\n${this.log()}`;
            if (attempt < 3 && /Address already in use/i.test(why)) continue;
            throw new Error(`mosquitto exited during start-up (${JSON.stringify(this.exited)}):\n${why.slice(-4000)}`);
        }
    }

    /** The broker log so far (empty when not written yet). */
    log() {
        try {
            return fs.readFileSync(this.logFile, 'utf8');
        } catch {
            return '';
        }
    }

    /** Position to pass as `from` to waitForLog() to look only at what comes next. */
    logMark() {
        try {
            return fs.statSync(this.logFile).size;
        } catch {
            return 0;
        }
    }

    /** Resolve with the match of re in the log after byte offset from; fail after timeoutMs. */
    async waitForLog(re, { from = 0, timeoutMs = 10000 } = {}) {
        const deadline = Date.now() + timeoutMs;
        for (;;) {
            const text = this.log().slice(from);
            const m = text.match(re);
            if (m) return m;
            if (Date.now() > deadline)
                throw new Error(`no log line matching ${re} within ${timeoutMs} ms; log tail:\n${text.slice(-3000)}`);
            if (!this.running) throw new Error(`broker exited while waiting for ${re}: ${JSON.stringify(this.exited)}`);
            await sleep(20);
        }
    }

    /** SIGHUP, then wait for the plugin's verdict on the streams file (success or failure). */
    async reload({ timeoutMs = 10000 } = {}) {
        const from = this.logMark();
        this.proc.kill('SIGHUP');
        const m = await this.waitForLog(/mqpush: (reloaded .*|reload of .* failed.*)/, { from, timeoutMs });
        return { ok: m[1].startsWith('reloaded'), line: m[0], log: this.log().slice(from) };
    }

    /** Text of sanitizer reports in the broker's output or log, or '' when there are none. */
    sanitizerReport() {
        const text = `${this.stderr}\n${this.log()}`;
        return SANITIZER_MARKERS.some((m) => text.includes(m)) ? text.slice(-8000) : '';
    }

    /**
     * SIGTERM and wait for the exit. Throws when the broker had to be killed, exited with a
     * failure, or its output holds sanitizer reports (leaks are reported at exit).
     */
    async stop({ timeoutMs = 30000 } = {}) {
        if (!this.proc) return;
        if (this.exited === null) {
            this.proc.kill('SIGTERM');
            const timer = setTimeout(() => this.proc.kill('SIGKILL'), timeoutMs);
            await this.exitPromise;
            clearTimeout(timer);
        }
        const { code, signal } = this.exited;
        const report = this.sanitizerReport();
        this.proc = null;
        if (report) throw new Error(`sanitizer report from mosquitto:\n${report}`);
        if (code !== 0) throw new Error(`mosquitto exited with ${code ?? signal}:\n${this.stderr.slice(-3000)}`);
    }

    /** For after() hooks: make sure nothing is left running, without judging the exit. */
    kill() {
        if (this.proc && this.exited === null) this.proc.kill('SIGKILL');
    }
}
