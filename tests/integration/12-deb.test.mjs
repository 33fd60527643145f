// The Debian package. scripts/package.sh builds it in a Release tree of its own
// (<build>/deb-package): the build under test carries ASan/UBSan, whose runtimes no package
// should depend on, and is configured for /usr/local. Then dpkg itself installs the package,
// runs its maintainer scripts, reinstalls, removes and purges it, all in a throwaway root
// (`dpkg --root --force-script-chrootless`; the scripts honour DPKG_ROOT), so that the machine
// running the suite is left as it was: no user, no file in /etc, nothing in its dpkg database.
// Starting is shown without systemd (containers have none): the installed bridge, run as the
// installed user with the installed configuration and the token postinst minted, reaches
// /healthz "up" against Mosquitto running the installed plugin with the installed streams file.
import assert from 'node:assert/strict';
import { spawn, execFileSync } from 'node:child_process';
import { once } from 'node:events';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { request } from './lib/bridge.mjs';
import { Broker } from './lib/broker.mjs';
import { BUILD_DIR, MOSQUITTO, SOURCE_DIR } from './lib/env.mjs';
import { freePort, waitForPort } from './lib/net.mjs';
import { run, runOk } from './lib/proc.mjs';
import { describeErrors, projectAjv, validatorFor } from './lib/schemas.mjs';
import { makeTempDir, removeTempDir } from './lib/tmp.mjs';

const IS_ROOT = process.getuid?.() === 0;
const ROOT_ONLY = IS_ROOT ? false : 'dpkg --root and useradd --prefix need root';
const CONF = '/etc/mqpush';
const ELF_MAGIC = Buffer.from('\x7fELF', 'latin1');

let deb; // path of the .deb
let tmp; // scratch directory
let root; // the throwaway root dpkg installs into
let hostBefore;

function which(cmd) {
    try {
        return execFileSync('sh', ['-c', `command -v ${cmd}`], { encoding: 'utf8' }).trim() || null;
    } catch {
        return null;
    }
}

function field(name) {
    return execFileSync('dpkg-deb', ['--field', deb, name], { encoding: 'utf8' }).trim();
}

/** Depends as a list of package names (alternatives and version constraints dropped). */
function dependsNames() {
    return field('Depends')
        .split(',')
        .flatMap((d) => d.split('|'))
        .map((d) => d.trim().replace(/\s*\(.*\)$/, '').replace(/:.*$/, ''));
}

/** What installing on this machine would change, read without being disturbed by other work. */
function hostState() {
    const ask = (cmd) => execFileSync('sh', ['-c', `${cmd} 2>/dev/null || true`], { encoding: 'utf8' });
    return {
        user: ask('getent passwd mqpush'),
        group: ask('getent group mqpush'),
        dpkg: ask("dpkg-query -W -f='${Status}' mqpush"),
        files: [CONF, '/var/lib/mqpush', '/usr/bin/mqpush-bridge'].filter((p) => fs.existsSync(p)),
    };
}

function rootFile(p) {
    return path.join(root, p);
}

function entry(db, name) {
    const line = fs
        .readFileSync(rootFile(`/etc/${db}`), 'utf8')
        .split('\n')
        .find((l) => l.startsWith(`${name}:`));
    return line ? line.split(':') : null;
}

function jwtClaims(token) {
    return JSON.parse(Buffer.from(token.split('.')[1], 'base64url').toString('utf8'));
}

/** An empty system for dpkg: its database, and the account files useradd edits. */
function seedRoot(dir) {
    for (const d of ['etc', 'var/lib/dpkg/info', 'var/lib/dpkg/updates', 'var/log'])
        fs.mkdirSync(path.join(dir, d), { recursive: true });
    fs.writeFileSync(path.join(dir, 'var/lib/dpkg/status'), '');
    fs.writeFileSync(path.join(dir, 'var/lib/dpkg/available'), '');
    fs.writeFileSync(path.join(dir, 'etc/passwd'), 'root:x:0:0:root:/root:/bin/sh\n');
    fs.writeFileSync(path.join(dir, 'etc/group'), 'root:x:0:\n');
    fs.writeFileSync(path.join(dir, 'etc/shadow'), 'root:*:19000:0:99999:7:::\n', { mode: 0o640 });
    fs.writeFileSync(path.join(dir, 'etc/gshadow'), 'root:*::\n', { mode: 0o640 });
}

/** dpkg on the throwaway root; dependencies are the host's business, not this root's. */
function dpkg(args) {
    return runOk(
        'dpkg',
        [
            `--root=${root}`,
            '--force-script-chrootless',
            '--force-depends',
            '--force-confold',
            `--log=${path.join(root, 'var/log/dpkg.log')}`,
            ...args,
        ],
        { timeoutMs: 120000 },
    );
}

function statusOf(pkg) {
    const text = fs.readFileSync(rootFile('/var/lib/dpkg/status'), 'utf8');
    const para = text.split(/\n\n+/).find((p) => p.startsWith(`Package: ${pkg}\n`));
    return para ? para.match(/^Status: (.*)$/m)[1] : null;
}

before(async () => {
    tmp = await makeTempDir('deb');
    hostBefore = hostState();
    const out = await runOk(path.join(SOURCE_DIR, 'scripts', 'package.sh'), [path.join(BUILD_DIR, 'deb-package')], {
        env: { ...process.env, MQP_SKIP_DEPS: '1' },
        timeoutMs: 480000,
    });
    deb = out.trim().split('\n').pop();
    assert.ok(fs.existsSync(deb), `package.sh named ${deb}`);
    root = path.join(tmp, 'root');
    seedRoot(root);
});

after(async () => {
    await removeTempDir(tmp);
});

test('control fields: name, version, architecture, dependencies from dpkg-shlibdeps plus the broker', () => {
    const cmakeLists = fs.readFileSync(path.join(SOURCE_DIR, 'CMakeLists.txt'), 'utf8');
    const version = cmakeLists.match(/project\(mqpush VERSION ([0-9.]+)/)[1];
    assert.equal(field('Package'), 'mqpush');
    assert.equal(field('Version'), `${version}-1`);
    assert.equal(field('Architecture'), execFileSync('dpkg', ['--print-architecture'], { encoding: 'utf8' }).trim());
    assert.match(field('Maintainer'), /<[^@>\s]+@[^>\s]+>/);
    assert.match(field('Description'), /^\S.*\n \S/);
    const depends = field('Depends');
    assert.match(depends, /(^|, )mosquitto \(>= 2\.0\)(,|$)/);
    const names = dependsNames();
    const wanted = [/^libwebsockets\d+$/, /^libcurl\d/, /^libjson-c\d+$/, /^libsqlite3-\d+$/, /^libuv\d+$/, /^libssl\d/];
    for (const re of [...wanted, /^libc6$/, /^passwd$/])
        assert.ok(names.some((n) => re.test(n)), `Depends (${depends}) has ${re}`);
});

test('every library the packaged programs and plugin load comes from a package in Depends', async () => {
    const x = path.join(tmp, 'x');
    await runOk('dpkg-deb', ['-x', deb, x]);
    const ldcache = new Map();
    for (const line of execFileSync('ldconfig', ['-p'], { encoding: 'utf8' }).split('\n')) {
        const m = line.match(/^\s*(\S+) \(([^)]*)\) => (\S+)$/);
        if (m && m[2].includes('x86-64') === (process.arch === 'x64') && !ldcache.has(m[1])) ldcache.set(m[1], m[3]);
    }
    const owner = (file) => {
        // usrmerge: dpkg may know the library under /lib or /usr/lib
        for (const p of new Set([file, fs.realpathSync(file), file.replace(/^\/usr\//, '/'), `/usr${file}`])) {
            const r = execFileSync('sh', ['-c', 'dpkg -S "$1" 2>/dev/null || true', 'sh', p], { encoding: 'utf8' });
            if (r) return r.split(':')[0];
        }
        return null;
    };
    const names = dependsNames();
    const elves = [];
    const walk = (d) => {
        for (const e of fs.readdirSync(d, { withFileTypes: true })) {
            const p = path.join(d, e.name);
            if (e.isDirectory()) walk(p);
            else if (e.isFile() && fs.readFileSync(p).subarray(0, 4).equals(ELF_MAGIC)) elves.push(p);
        }
    };
    walk(x);
    assert.ok(elves.length >= 4, `bridge, mqpushctl, SSF receiver, plugin: ${elves}`);
    for (const elf of elves) {
        const dynamic = execFileSync('objdump', ['-p', elf], { encoding: 'utf8' });
        const needed = [...dynamic.matchAll(/^\s+NEEDED\s+(\S+)$/gm)].map((m) => m[1]);
        for (const soname of needed) {
            const lib = ldcache.get(soname);
            assert.ok(lib, `${soname} (needed by ${path.relative(x, elf)}) is known to ldconfig`);
            const pkg = owner(lib);
            const what = `${soname} of ${path.relative(x, elf)}`;
            assert.ok(pkg && names.includes(pkg), `${what} comes from ${pkg}, which Depends lists`);
        }
        if (needed.includes('libmosquitto.so.1')) assert.ok(names.includes('libmosquitto1'));
    }
});

test('control scripts and conffiles', async () => {
    const control = path.join(tmp, 'control');
    await runOk('dpkg-deb', ['-e', deb, control]);
    for (const s of ['postinst', 'prerm', 'postrm']) {
        const st = fs.statSync(path.join(control, s));
        assert.equal(st.mode & 0o777, 0o755, `${s} is 0755`);
        await runOk('sh', ['-n', path.join(control, s)]);
    }
    const conffiles = fs.readFileSync(path.join(control, 'conffiles'), 'utf8').trim().split('\n').sort();
    assert.deepEqual(conffiles, [`${CONF}/bridge.json`, `${CONF}/streams.json`]);
});

test('layout: programs, plugin, units, token renewal, snippet, schemas, docs; nothing outside /usr and /etc', () => {
    const list = execFileSync('dpkg-deb', ['-c', deb], { encoding: 'utf8' })
        .trim()
        .split('\n')
        .map((l) => {
            const [mode, owner, , , , ...rest] = l.split(/\s+/);
            return { mode, owner, path: rest.join(' ').replace(/^\./, '') };
        });
    const byPath = new Map(list.map((e) => [e.path, e]));
    const expect = {
        '/usr/bin/mqpush-bridge': '-rwxr-xr-x',
        '/usr/bin/mqpushctl': '-rwxr-xr-x',
        '/usr/bin/mqpush-ssf-receiver': '-rwxr-xr-x',
        '/usr/lib/mqpush/mqpush_plugin.so': '-rw-r--r--',
        '/usr/libexec/mqpush/mqpush-bridge-token': '-rwxr-xr-x',
        '/usr/lib/systemd/system/mqpush-bridge.service': '-rw-r--r--',
        '/usr/lib/systemd/system/mqpush-bridge-token.service': '-rw-r--r--',
        '/usr/lib/systemd/system/mqpush-bridge-token.timer': '-rw-r--r--',
        '/usr/share/mqpush/mosquitto-mqpush.conf': '-rw-r--r--',
        '/usr/share/mqpush/schemas/bridge.schema.json': '-rw-r--r--',
        '/usr/share/mqpush/schemas/streams.schema.json': '-rw-r--r--',
        '/usr/share/doc/mqpush/README.md': '-rw-r--r--',
        '/usr/share/doc/mqpush/docs/debian.md': '-rw-r--r--',
        '/usr/share/doc/mqpush/examples/mosquitto.conf.example': '-rw-r--r--',
        [`${CONF}/bridge.json`]: '-rw-r--r--',
        [`${CONF}/streams.json`]: '-rw-r--r--',
    };
    for (const [p, mode] of Object.entries(expect)) {
        assert.ok(byPath.has(p), `${p} is in the package`);
        assert.equal(byPath.get(p).mode, mode, `${p} mode`);
    }
    for (const e of list) {
        assert.equal(e.owner, 'root/root', `${e.path} owned by root`);
        assert.match(e.path, /^\/($|usr\/|etc\/)/, `${e.path} under /usr or /etc`);
        assert.doesNotMatch(e.path, /^\/usr\/local\//);
    }
    // the keys and the token are made on the machine, never shipped
    assert.ok(!list.some((e) => /\.(pem|token)$/.test(e.path)));
});

test('the default configuration validates against the schemas it names', () => {
    const ajv = projectAjv();
    const x = path.join(tmp, 'x');
    for (const [file, schema] of [
        ['bridge.json', 'bridge.schema.json'],
        ['streams.json', 'streams.schema.json'],
    ]) {
        const doc = JSON.parse(fs.readFileSync(path.join(x, CONF, file), 'utf8'));
        const validate = validatorFor(ajv, schema);
        assert.ok(validate(doc), `${file}: ${describeErrors(validate)}`);
    }
});

// Optional: lintian is a large install and not part of scripts/deps.sh.
test('lintian finds no errors but the missing copyright file', { skip: which('lintian') ? false : 'lintian is not installed' }, async () => {
    const r = await run('lintian', ['--tag-display-limit', '0', deb], { timeoutMs: 300000 });
    // The source tree states no licence yet, so there is nothing true to put in
    // /usr/share/doc/mqpush/copyright.
    const errors = r.stdout.split('\n').filter((l) => l.startsWith('E: ') && !/ no-copyright-file$/.test(l));
    assert.deepEqual(errors, [], r.stdout);
});

test('systemd-analyze verify accepts the units', { skip: which('systemd-analyze') ? false : 'no systemd-analyze' }, async () => {
    // The units name /usr paths; verified as copies pointing into the extracted package, since
    // systemd-analyze checks that the programs they start exist.
    const x = path.join(tmp, 'x');
    const units = path.join(tmp, 'units');
    fs.mkdirSync(units);
    const names = ['mqpush-bridge.service', 'mqpush-bridge-token.service', 'mqpush-bridge-token.timer'];
    for (const u of names) {
        const text = fs.readFileSync(path.join(x, 'usr/lib/systemd/system', u), 'utf8');
        fs.writeFileSync(path.join(units, u), text.replace(/^(Exec\w+=)\/usr\//gm, `$1${x}/usr/`));
    }
    const r = await run('systemd-analyze', ['verify', ...names.map((u) => path.join(units, u))]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stderr.trim(), '', 'no warnings');
});

test('dpkg installs it into a throwaway root; postinst provisions user, state, keys, token and units', { skip: ROOT_ONLY }, async () => {
    await dpkg(['-i', deb]);
    assert.equal(statusOf('mqpush'), 'install ok installed');
    const status = fs.readFileSync(rootFile('/var/lib/dpkg/status'), 'utf8');
    assert.match(status, new RegExp(`Conffiles:\\n ${CONF}/bridge.json [0-9a-f]{32}\\n ${CONF}/streams.json [0-9a-f]{32}`));

    const user = entry('passwd', 'mqpush');
    const group = entry('group', 'mqpush');
    assert.ok(user && group, 'user and group mqpush');
    const [, , uid, gid, , home, shell] = user;
    assert.ok(Number(uid) < 1000 && Number(uid) > 0, `system uid (${uid})`);
    assert.equal(gid, group[2]);
    assert.equal(home, '/var/lib/mqpush');
    assert.equal(shell, '/usr/sbin/nologin');

    const state = fs.statSync(rootFile('/var/lib/mqpush'));
    assert.ok(state.isDirectory());
    assert.equal(state.uid, Number(uid));
    assert.equal(state.mode & 0o777, 0o750);

    const key = fs.statSync(rootFile(`${CONF}/keys/service.pem`));
    assert.equal(key.mode & 0o777, 0o600, 'private key 0600');
    assert.equal(key.uid, 0);
    // the plugin (user mosquitto) reads the public keys and the streams file
    assert.equal(fs.statSync(rootFile(`${CONF}/keys/service.jwks.json`)).mode & 0o777, 0o644);
    assert.equal(fs.statSync(rootFile(`${CONF}/streams.json`)).mode & 0o777, 0o644);
    const jwks = JSON.parse(fs.readFileSync(rootFile(`${CONF}/keys/service.jwks.json`), 'utf8'));
    assert.equal(jwks.keys.length, 1);
    assert.equal(jwks.keys[0].d, undefined, 'no private part in the JWKS');

    const tok = fs.statSync(rootFile(`${CONF}/bridge.token`));
    assert.equal(tok.mode & 0o777, 0o640, 'token 0640');
    assert.equal(tok.uid, 0);
    assert.equal(tok.gid, Number(gid), 'token readable by the group mqpush');
    const streams = JSON.parse(fs.readFileSync(rootFile(`${CONF}/streams.json`), 'utf8'));
    const claims = jwtClaims(fs.readFileSync(rootFile(`${CONF}/bridge.token`), 'utf8').trim());
    assert.equal(claims.iss, streams.service.issuer);
    assert.equal(claims.aud, streams.service.audience);
    assert.deepEqual(claims.roles, ['mqpush-bridge']);
    assert.equal(claims.exp - claims.iat, 30 * 86400);

    // enabled the way deb-systemd-helper records it; nothing started without systemd
    for (const [target, unit] of [
        ['multi-user.target.wants', 'mqpush-bridge.service'],
        ['timers.target.wants', 'mqpush-bridge-token.timer'],
    ]) {
        const link = rootFile(`/etc/systemd/system/${target}/${unit}`);
        assert.equal(fs.readlinkSync(link), `/usr/lib/systemd/system/${unit}`);
    }

    // the installed tools accept the installed configuration as it is
    const ctl = await runOk(rootFile('/usr/bin/mqpushctl'), ['check-config', rootFile(`${CONF}/streams.json`)]);
    assert.match(ctl, /^ok: 1 tenants/);
    await runOk(rootFile('/usr/bin/mqpush-bridge'), ['--check-config', '-c', rootFile(`${CONF}/bridge.json`)]);

    assert.deepEqual(hostState(), hostBefore, 'the host system is untouched');
});

test('the installed bridge starts with the installed configuration and token, against the installed plugin', { skip: ROOT_ONLY }, async () => {
    const uid = Number(entry('passwd', 'mqpush')[2]);
    const gid = Number(entry('group', 'mqpush')[2]);
    const broker = new Broker({
        dir: tmp,
        streamsFile: rootFile(`${CONF}/streams.json`),
        plugin: rootFile('/usr/lib/mqpush/mqpush_plugin.so'),
        sanitize: false,
    });
    const cfgFile = rootFile(`${CONF}/bridge.test.json`);
    let bridge;
    try {
        await broker.start();
        await broker.waitForLog(/mqpush: loaded .*streams\.json \(1 tenants\)/);
        // bridge.json as installed, moved to free ports and into the root's state directory
        const cfg = JSON.parse(fs.readFileSync(rootFile(`${CONF}/bridge.json`), 'utf8'));
        const port = await freePort();
        assert.equal(cfg.store, 'sqlite:///var/lib/mqpush/mqpush.db');
        cfg.listen = `127.0.0.1:${port}`;
        cfg.broker.port = broker.port;
        cfg.store = `sqlite://${rootFile('/var/lib/mqpush/mqpush.db')}`;
        fs.writeFileSync(cfgFile, JSON.stringify(cfg));
        // as the unit runs it: user mqpush, who must reach the token and the state directory
        fs.chmodSync(tmp, 0o755);
        bridge = spawn(rootFile('/usr/bin/mqpush-bridge'), ['-c', cfgFile], {
            uid,
            gid,
            stdio: ['ignore', 'pipe', 'pipe'],
        });
        let output = '';
        bridge.stdout.on('data', (d) => (output += d));
        bridge.stderr.on('data', (d) => (output += d));
        const exited = once(bridge, 'exit');
        const deadline = Date.now() + 20000;
        let health;
        for (;;) {
            health = await request(port, '/healthz').catch(() => null);
            if (health?.status === 200) break;
            assert.equal(bridge.exitCode, null, `bridge exited:\n${output}`);
            assert.ok(Date.now() < deadline, `no healthy bridge within 20 s:\n${output}`);
            await sleep(50);
        }
        assert.equal(JSON.parse(health.body).status, 'ok');
        assert.equal(JSON.parse(health.body).broker, 'up');
        await broker.waitForLog(/mqpush: client mqpush-bridge: token accepted \(service/);
        const metrics = await request(port, '/metrics');
        assert.match(metrics.body, /^mqpush_bridge_broker_up 1$/m);
        assert.equal(fs.statSync(rootFile('/var/lib/mqpush/mqpush.db')).uid, uid, 'the store is the bridge user\'s');
        bridge.kill('SIGTERM');
        const [code] = await exited;
        bridge = null;
        assert.equal(code, 0, output);
    } finally {
        bridge?.kill('SIGKILL');
        fs.rmSync(cfgFile, { force: true });
        await broker.stop();
    }
});

test('the shipped mosquitto snippet loads the installed plugin in a Debian-style broker configuration', async () => {
    const x = path.join(tmp, 'x');
    const snippet = fs.readFileSync(path.join(x, 'usr/share/mqpush/mosquitto-mqpush.conf'), 'utf8');
    assert.match(snippet, /^plugin \/usr\/lib\/mqpush\/mqpush_plugin\.so$/m);
    assert.match(snippet, new RegExp(`^plugin_opt_config ${CONF}/streams.json$`, 'm'));
    assert.match(snippet, /^per_listener_settings false$/m);
    assert.match(snippet, /^plugin_opt_state_file \/var\/lib\/mosquitto\/mqpush-clients\.json$/m);
    assert.match(snippet, /^listener 1883 127\.0\.0\.1$/m);
    // The snippet in conf.d, with the paths of this test and a free port; the main file as
    // Debian's mosquitto package ships it, with temporary paths.
    const confd = path.join(tmp, 'conf.d');
    fs.mkdirSync(confd);
    const port = await freePort();
    const streams = IS_ROOT ? rootFile(`${CONF}/streams.json`) : path.join(x, `${CONF}/streams.json`);
    fs.writeFileSync(
        path.join(confd, 'mqpush.conf'),
        snippet
            .replace(/^listener 1883 /m, `listener ${port} `)
            .replace(/^plugin \//m, `plugin ${x}/`)
            .replace(/^plugin_opt_config .*$/m, `plugin_opt_config ${streams}`)
            .replace(/^plugin_opt_state_file .*$/m, `plugin_opt_state_file ${path.join(tmp, 'mqpush-clients.json')}`),
    );
    const log = path.join(tmp, 'snippet.log');
    const main = path.join(tmp, 'mosquitto-debian.conf');
    fs.writeFileSync(
        main,
        [
            `pid_file ${path.join(tmp, 'mosquitto.pid')}`,
            'persistence false',
            `log_dest file ${log}`,
            ...(IS_ROOT ? ['user root'] : []),
            `include_dir ${confd}`,
            '',
        ].join('\n'),
    );
    if (!IS_ROOT) {
        // without the postinst run, give the streams file the keys it names
        fs.mkdirSync(path.join(x, CONF, 'keys'), { recursive: true });
        const jwksFile = path.join(x, CONF, 'keys/service.jwks.json');
        await runOk(path.join(x, 'usr/bin/mqpushctl'), ['keygen', '--type', 'ec', '--key', path.join(tmp, 'k.pem'), '--jwks', jwksFile]);
    }
    const proc = spawn(MOSQUITTO, ['-c', main], { stdio: 'ignore' });
    try {
        const up = await waitForPort(port, { stillAlive: () => proc.exitCode === null });
        assert.ok(up, fs.existsSync(log) ? fs.readFileSync(log, 'utf8') : 'mosquitto exited');
        assert.match(fs.readFileSync(log, 'utf8'), /mqpush: loaded .*\(1 tenants\)/);
    } finally {
        proc.kill('SIGTERM');
        await once(proc, 'exit');
    }
});

test('reinstall keeps an edited conffile and the keys, remove keeps the configuration, purge clears it', { skip: ROOT_ONLY }, async () => {
    const bridgeJson = rootFile(`${CONF}/bridge.json`);
    const edited = fs.readFileSync(bridgeJson, 'utf8').replace('"heartbeat_ms": 15000', '"heartbeat_ms": 10000');
    fs.writeFileSync(bridgeJson, edited);
    const keyBefore = fs.readFileSync(rootFile(`${CONF}/keys/service.pem`));
    const jtiBefore = jwtClaims(fs.readFileSync(rootFile(`${CONF}/bridge.token`), 'utf8')).jti;
    fs.writeFileSync(rootFile('/var/lib/mqpush/kept'), 'state');

    await dpkg(['-i', deb]);
    assert.equal(statusOf('mqpush'), 'install ok installed');
    assert.equal(fs.readFileSync(bridgeJson, 'utf8'), edited, 'the administrator\'s bridge.json stays');
    assert.ok(fs.readFileSync(rootFile(`${CONF}/keys/service.pem`)).equals(keyBefore), 'the service key stays');
    const jtiAfter = jwtClaims(fs.readFileSync(rootFile(`${CONF}/bridge.token`), 'utf8')).jti;
    assert.notEqual(jtiAfter, jtiBefore, 'a fresh token');
    assert.ok(fs.existsSync(rootFile('/var/lib/mqpush/kept')), 'the state directory stays');
    assert.equal(fs.readFileSync(rootFile('/etc/passwd'), 'utf8').match(/^mqpush:/gm).length, 1, 'one user');

    await dpkg(['--remove', 'mqpush']);
    assert.equal(statusOf('mqpush'), 'deinstall ok config-files');
    assert.ok(!fs.existsSync(rootFile('/usr/bin/mqpush-bridge')));
    assert.ok(fs.existsSync(bridgeJson) && fs.existsSync(rootFile(`${CONF}/keys/service.pem`)));

    await dpkg(['--purge', 'mqpush']);
    assert.equal(statusOf('mqpush'), null);
    const enableLink = '/etc/systemd/system/multi-user.target.wants/mqpush-bridge.service';
    for (const p of [CONF, '/var/lib/mqpush', '/usr/bin/mqpush-bridge', enableLink])
        assert.ok(!fs.existsSync(rootFile(p)), `${p} is gone`);
    // the user stays (files it owned may outlive the package, and must not pass to a new user)
    assert.ok(entry('passwd', 'mqpush'));
    assert.deepEqual(hostState(), hostBefore, 'the host system is untouched');
});
