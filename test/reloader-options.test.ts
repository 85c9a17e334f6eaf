// Flags, environment variables and defaults of `reverse-proxy reloader`.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';
import { UsageError } from '../src/errors.ts';
import {
  DEFAULT_DEBOUNCE_MS,
  DEFAULT_RELOAD_TIMEOUT_SECS,
  DEFAULT_RESYNC_SECS,
  DEFAULT_RETRY_FAILED_MAX_SECS,
  DEFAULT_RETRY_FAILED_SECS,
  DEFAULT_SOCKET_RETRY_MAX_MS,
  envNameOf,
  parseListen,
  parseReloaderOptions,
  usage,
} from '../src/reloader/options.ts';

test('defaults: only --watch is required', () => {
  const options = parseReloaderOptions(['--watch', '/etc/reverse-proxy'], {});
  assert.deepEqual(options, {
    watchDirs: ['/etc/reverse-proxy'],
    configFile: '/etc/reverse-proxy/config.toml',
    socketPath: '/run/reverse-proxy/admin.sock',
    socketOwner: undefined,
    debounceMs: DEFAULT_DEBOUNCE_MS,
    resyncSecs: DEFAULT_RESYNC_SECS,
    retryFailedSecs: DEFAULT_RETRY_FAILED_SECS,
    retryFailedMaxSecs: DEFAULT_RETRY_FAILED_MAX_SECS,
    socketRetryMaxMs: DEFAULT_SOCKET_RETRY_MAX_MS,
    reloadTimeoutSecs: DEFAULT_RELOAD_TIMEOUT_SECS,
    listen: undefined,
    logLevel: 'info',
  });
  assert.ok(DEFAULT_DEBOUNCE_MS < 1000);
});

test('every flag has an env var; flags win over env', () => {
  const env = {
    REVERSE_PROXY_WATCH: '/a, /b',
    REVERSE_PROXY_FILE: 'proxy.toml',
    REVERSE_PROXY_SOCKET: '/tmp/env.sock',
    REVERSE_PROXY_SOCKET_OWNER: '1234',
    REVERSE_PROXY_DEBOUNCE_MS: '100',
    REVERSE_PROXY_RESYNC_SECS: '5',
    REVERSE_PROXY_RETRY_FAILED_SECS: '7',
    REVERSE_PROXY_RETRY_FAILED_MAX_SECS: '70',
    REVERSE_PROXY_SOCKET_RETRY_MAX_MS: '900',
    REVERSE_PROXY_RELOAD_TIMEOUT_SECS: '9',
    REVERSE_PROXY_LISTEN: '127.0.0.1:9901',
    REVERSE_PROXY_LOG_LEVEL: 'debug',
  };
  const fromEnv = parseReloaderOptions([], env);
  assert.deepEqual(fromEnv.watchDirs, ['/a', '/b']);
  assert.equal(fromEnv.configFile, '/a/proxy.toml');
  assert.equal(fromEnv.socketPath, '/tmp/env.sock');
  assert.equal(fromEnv.socketOwner, 1234);
  assert.equal(fromEnv.debounceMs, 100);
  assert.equal(fromEnv.resyncSecs, 5);
  assert.equal(fromEnv.retryFailedSecs, 7);
  assert.equal(fromEnv.retryFailedMaxSecs, 70);
  assert.equal(fromEnv.socketRetryMaxMs, 900);
  assert.equal(fromEnv.reloadTimeoutSecs, 9);
  assert.deepEqual(fromEnv.listen, { host: '127.0.0.1', port: 9901 });
  assert.equal(fromEnv.logLevel, 'debug');

  const flags = parseReloaderOptions(['--watch', '/c', '--watch=/d', '--file', '/abs/x.toml', '--socket', '/tmp/flag.sock', '--debounce-ms=0', '--log-level', 'warn', '--socket-owner', 'root'], env);
  assert.deepEqual(flags.watchDirs, ['/c', '/d']);
  assert.equal(flags.configFile, '/abs/x.toml');
  assert.equal(flags.socketPath, '/tmp/flag.sock');
  assert.equal(flags.debounceMs, 0);
  assert.equal(flags.socketOwner, 0, 'a user name is resolved to its uid');
  assert.equal(flags.logLevel, 'warn');
  assert.equal(flags.resyncSecs, 5, 'unset flags still come from env');
});

test('a relative --watch dir is resolved against the working directory', () => {
  assert.equal(parseReloaderOptions(['--watch', 'conf'], {}).configFile, join(process.cwd(), 'conf', 'config.toml'));
});

test('usage names every flag with its env var', () => {
  const text = usage();
  for (const flag of ['watch', 'file', 'socket', 'debounce-ms', 'resync-secs', 'retry-failed-secs', 'retry-failed-max-secs', 'socket-retry-max-ms', 'reload-timeout-secs', 'listen', 'log-level']) {
    assert.match(text, new RegExp(`--${flag} `));
    assert.ok(text.includes(envNameOf(flag)), envNameOf(flag));
  }
});

test('mistakes are UsageErrors that say what is wrong', () => {
  const cases: [string[], RegExp][] = [
    [[], /--watch DIR is required/],
    [['--watch', '/a', '--bogus', '1'], /unknown flag --bogus/],
    [['--watch'], /--watch needs a value/],
    [['--watch', '/a', '--debounce-ms', 'soon'], /--debounce-ms "soon": expected a whole number/],
    [['--watch', '/a', '--resync-secs', '0'], /--resync-secs 0: must be at least 1/],
    [['--watch', '/a', '--socket', 'admin.sock'], /--socket .*absolute/],
    [['--watch', '/a', '--log-level', 'loud'], /--log-level "loud"/],
    [['--watch', '/a', '--listen', '9090'], /--listen "9090": expected HOST:PORT/],
    [['--watch', '/a', '--file', 'a', '--file', 'b'], /--file given twice/],
    [['--watch', '/a', 'stray'], /unexpected argument "stray"/],
  ];
  for (const [argv, message] of cases) assert.throws(() => parseReloaderOptions(argv, {}), (err: unknown) => err instanceof UsageError && message.test(err.message), argv.join(' '));
});

test('--listen accepts IPv4, IPv6 in brackets and an empty host', () => {
  assert.deepEqual(parseListen('0.0.0.0:9901'), { host: '0.0.0.0', port: 9901 });
  assert.deepEqual(parseListen('[::1]:0'), { host: '::1', port: 0 });
  assert.deepEqual(parseListen(':9901'), { host: '0.0.0.0', port: 9901 });
  assert.throws(() => parseListen('host:70000'), UsageError);
});
