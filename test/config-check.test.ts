// `reverse-proxy check` on good and broken files: the same validation start-up and reload use.
import assert from 'node:assert/strict';
import { mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { checkConfigText, runCli } from './helpers/proxy-process.ts';

let dir: string;
before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'rp-check-'));
});
after(() => rm(dir, { recursive: true, force: true }));

const check = (name: string, text: string) => checkConfigText(dir, name, text);

const GOOD = `workers = 2

[[listeners]]
address = "127.0.0.1"
port = 8080

[[sites]]
host = "Example.COM"
upstream = "http://127.0.0.1:9000"

[[sites]]
host = ["*.example.org", "api.example.net"]
upstream = ["http://127.0.0.1:9001", "http://127.0.0.1:9002"]
rate_limit = { rps = 10, burst = 20 }
body_limit_bytes = 1048576

[[sites]]
default = true
upstream = "http://127.0.0.1:9003"
`;

describe('check', () => {
  test('a valid file: exit 0 and a one-line summary', async () => {
    const r = await check('good.toml', GOOD);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^.*good\.toml: ok: 3 sites, 1 listener \(http:\/\/127\.0\.0\.1:8080\), workers 2, 1 admin socket \(sha256 [0-9a-f]{12}\)\n$/);
  });

  test('a TOML syntax error names the file and line', async () => {
    const r = await check('syntax.toml', 'workers = 1\n[[sites]]\nhost = "a.com"\nupstream = "http://127.0.0.1:1\n');
    assert.equal(r.code, 1);
    assert.match(r.stderr, /syntax\.toml:4: TOML syntax error at column \d+/);
    assert.match(r.stderr, /config is invalid/);
  });

  test('a wrong type names the line, the key and what was expected', async () => {
    const r = await check('type.toml', '[[sites]]\nhost = "a.com"\nupstream = "http://127.0.0.1:1"\nconnect_timeout_secs = "5"\n');
    assert.equal(r.code, 1);
    assert.match(r.stderr, /type\.toml:4: sites\[0\]\.connect_timeout_secs: must be a number, not the string "5"/);
  });

  test('an unknown key is refused with its line', async () => {
    const r = await check('unknown.toml', 'worker = 2\n[[sites]]\nhost = "a.com"\nupstream = "http://127.0.0.1:1"\nupstreams = []\n');
    assert.equal(r.code, 1);
    assert.match(r.stderr, /unknown\.toml:1: worker: unknown key "worker"/);
    assert.match(r.stderr, /unknown\.toml:5: sites\[0\]\.upstreams: unknown key "upstreams"/);
  });

  test('a duplicate host names both sites', async () => {
    const r = await check('dup.toml', '[[sites]]\nhost = "a.com"\nupstream = "http://127.0.0.1:1"\n\n[[sites]]\nhost = "A.com"\nupstream = "http://127.0.0.1:2"\n');
    assert.equal(r.code, 1);
    assert.match(r.stderr, /dup\.toml:6: sites\[1\]\.host: host "a\.com" is already served by sites\[0\]/);
  });

  test('values a person can get wrong are explained', async () => {
    const r = await check(
      'values.toml',
      [
        'admin_socket_path = "run/admin.sock"',
        'workers = 0',
        '[[sites]]',
        'host = "http://a.com"',
        'upstream = "http://127.0.0.1:1/path"',
        '[[sites]]',
        'upstream = "ftp://127.0.0.1:2"',
        '',
      ].join('\n'),
    );
    assert.equal(r.code, 1);
    assert.match(r.stderr, /values\.toml:1: admin_socket_path: "run\/admin\.sock" must be an absolute path/);
    assert.match(r.stderr, /values\.toml:2: workers: must be at least 1/);
    assert.match(r.stderr, /values\.toml:4: sites\[0\]\.host\[0\]: must be a host name/);
    assert.match(r.stderr, /values\.toml:5: sites\[0\]\.upstream\[0\]: "http:\/\/127\.0\.0\.1:1\/path" must be an origin only/);
    assert.match(r.stderr, /values\.toml:7: sites\[1\]\.upstream\[0\]: "ftp:\/\/127\.0\.0\.1:2" must use http:\/\/ or https:\/\//);
  });

  test('two default sites, a socket path with "..", a too-long socket path', async () => {
    const long = `/tmp/${'x'.repeat(120)}.sock`;
    const r = await check(
      'more.toml',
      `admin_socket_path = "/run/../etc/admin.sock"\n[[admin_sockets]]\npath = "${long}"\n[[sites]]\ndefault = true\nupstream = "http://127.0.0.1:1"\n[[sites]]\ndefault = true\nupstream = "http://127.0.0.1:2"\n`,
    );
    assert.equal(r.code, 1);
    assert.match(r.stderr, /more\.toml:1: admin_socket_path: "\/run\/\.\.\/etc\/admin\.sock" must not contain "\.\."/);
    assert.match(r.stderr, /more\.toml:3: admin_sockets\[0\]\.path: .* is 130 bytes long; Unix socket paths are limited to 107/);
    // Cross-entry rules run in the same pass as the field errors.
    assert.match(r.stderr, /more\.toml:8: sites\[1\]\.default: only one site can be the default; sites\[0\] already is/);
  });

  test('missing file, a directory, and not UTF-8', async () => {
    const missing = await runCli(['check', '--config', join(dir, 'nope.toml')]);
    assert.equal(missing.code, 1);
    assert.match(missing.stderr, /nope\.toml: no such file/);
    const directory = await runCli(['check', '--config', dir]);
    assert.equal(directory.code, 1);
    assert.match(directory.stderr, /is a directory, not a regular file/);
    const file = join(dir, 'latin1.toml');
    await writeFile(file, Buffer.from([0x23, 0x20, 0xe9, 0x0a]));
    const binary = await runCli(['check', '--config', file]);
    assert.equal(binary.code, 1);
    assert.match(binary.stderr, /latin1\.toml: is not valid UTF-8 text/);
  });

  test('reads through a kubelet-style symlink and honours REVERSE_PROXY_CONFIG', async () => {
    const target = join(dir, 'target.toml');
    await writeFile(target, GOOD);
    await symlink(target, join(dir, 'linked.toml'));
    const r = await runCli(['check'], { env: { REVERSE_PROXY_CONFIG: join(dir, 'linked.toml') } });
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /linked\.toml: ok: 3 sites/);
  });

  test('--help, --version and a bad flag', async () => {
    const help = await runCli(['check', '--help']);
    assert.equal(help.code, 0);
    assert.match(help.stdout, /Usage: reverse-proxy check \[--config FILE\]/);
    const version = await runCli(['check', '--version']);
    assert.match(version.stdout, /^\d+\.\d+\.\d+\n$/);
    const bad = await runCli(['check', '--conifg', 'x']);
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /Unknown option '--conifg'/);
    const unknown = await runCli(['serv']);
    assert.equal(unknown.code, 2);
    assert.match(unknown.stderr, /unknown command "serv"/);
  });
});

describe('check: like nginx -t, every problem in one pass', () => {
  test('five different mistakes: all five, in line order, exit 1', async () => {
    const r = await check(
      'five.toml',
      [
        'admin_socket_path = "relative/admin.sock"', // 1: a value rule
        '',
        '[[listeners]]',
        'address = "127.0.0.1"',
        'port = 70000', // 5: out of range
        '',
        '[[sites]]',
        'host = "shop.example.com"',
        'upstream = "http://127.0.0.1:9001"',
        '',
        '[[sites]]',
        'name = "shop-b"',
        'host = "SHOP.example.com"', // 13: a duplicate host, across entries
        'upstream = "http://127.0.0.1:9002"',
        'connect_timeout_secs = "5"', // 15: a wrong type, in the same entry
        '',
        '[[sites]]',
        'host = "api.example.com"',
        'upstream = "http://127.0.0.1:9003"',
        'conect_timeout_secs = 5', // 20: a misspelt key
        '',
      ].join('\n'),
    );
    assert.equal(r.code, 1);
    assert.equal(r.stdout, '');
    const lines = r.stderr.trimEnd().split('\n');
    assert.deepEqual(
      lines.map((l) => l.slice(r.file.length)),
      [
        ':1: admin_socket_path: "relative/admin.sock" must be an absolute path',
        ':5: listeners[0].port: must be a port between 0 and 65535',
        ':13: sites[1].host: host "shop.example.com" is already served by sites[0]',
        ':15: sites[1].connect_timeout_secs: must be a number, not the string "5"',
        ':20: sites[2].conect_timeout_secs: unknown key "conect_timeout_secs"',
        ': config is invalid',
      ],
    );
  });

  test('referenced files are opened and checked in the same pass as the field errors', async () => {
    await writeFile(join(dir, 'garbage.crt'), 'not a certificate\n');
    await writeFile(join(dir, 'garbage.key'), 'not a key\n');
    const r = await check(
      'files.toml',
      [
        'workers = 0', // 1
        '',
        '[[listeners]]',
        'address = "127.0.0.1"',
        'port = 8443',
        'tls_cert = "missing.crt"', // 6: no such file, relative to the config's directory
        'tls_key = "missing.key"', // 7
        '',
        '[[certificates]]',
        'cert = "garbage.crt"', // 10: not PEM
        'key = "garbage.key"',
        '',
        '[[sites]]',
        'host = "a.example.com"',
        'upstream = "ftp://127.0.0.1:1"', // 15
        '',
      ].join('\n'),
    );
    assert.equal(r.code, 1);
    const lines = r.stderr.trimEnd().split('\n').map((l) => l.slice(r.file.length));
    assert.deepEqual(lines.map((l) => /^:(\d+): ([^:]+):/.exec(l)?.slice(1, 3).join(' ') ?? l), [
      '1 workers',
      '6 listeners[0].tls_cert',
      '7 listeners[0].tls_key',
      '10 certificates[0].cert',
      '15 sites[0].upstream[0]',
      ': config is invalid',
    ]);
    assert.match(lines[1]!, /cannot read .*missing\.crt: no such file/);
    assert.match(lines[3]!, /garbage\.crt/);
  });

  test('no [[sites]] is legal but warned about; the file still checks ok', async () => {
    const r = await check('nosites.toml', '[[listeners]]\naddress = "127.0.0.1"\nport = 8080\n');
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stderr, `warning: ${r.file}: has no [[sites]]: every request will be answered 404\n`);
    assert.match(r.stdout, /nosites\.toml: ok: 0 sites/);
  });
});

describe('check: an empty file', () => {
  test('is refused, since loading it would drop every site', async () => {
    const r = await check('empty.toml', ' \n\n');
    assert.equal(r.code, 1);
    assert.match(r.stderr, /empty\.toml: is empty; a config needs at least its \[\[sites\]\]/);
  });
});
