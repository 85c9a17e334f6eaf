// kubelet swaps a Secret volume's `..data` whenever it likes, including between the read of
// tls.crt and the read of tls.key. Loads, content hashes and reloads that run while `..data`
// flips every few milliseconds must each take one whole payload (a certificate with its own
// key, hashed as that pair), never a mix, and fail only when every attempt saw a flip (a loaded
// machine stretches a read over many of them); and files that change on every read must fail the
// load with ERR_CONFIG_FILES_UNSTABLE rather than load something half-updated.
import assert from 'node:assert/strict';
import { createPrivateKey, createPublicKey, X509Certificate } from 'node:crypto';
import { mkdtemp, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test, type TestContext } from 'node:test';
import { mountedContent } from '../src/config/content-hash.ts';
import { loadConfigFile } from '../src/config/load.ts';
import { combinedSha256 } from '../src/config/referenced-files.ts';
import { SNAPSHOT_READ_CONCURRENCY } from '../src/config/snapshot.ts';
import { SNAPSHOT_READ_ATTEMPTS } from '../src/config/stable-read.ts';
import { ConfigFilesUnstableError } from '../src/errors.ts';
import { createPreparedVolume, type PreparedVolume } from './helpers/kubelet.ts';
import { CA_REFERENCES, rewrittenCa } from './helpers/rewritten-ca.ts';
import { startProxy } from './helpers/proxy-process.ts';
import { createCa, handshake, hasOpenssl, issue, type KeyPair } from './helpers/tls.ts';

/** How long loads run against the swapping volume, at least. */
const SWAP_RUN_MS = 4_000;
/**
 * Past SWAP_RUN_MS the run goes on until enough reads overlapped a flip to prove anything, up to
 * this: a loaded 2-core machine does only a few reloads (each with a handshake) a second.
 */
const MAX_SWAP_RUN_MS = 40_000;
/** kubelet-style flips come this often, at random within the range. */
const FLIP_MIN_MS = 5;
const FLIP_MAX_MS = 50;

const skip = !hasOpenssl() && 'openssl not installed';

interface SwappingSecret {
  pairs: KeyPair[];
  volume: PreparedVolume;
  certPath: string;
  keyPath: string;
  /** The content hash of a config whose certificate is this volume, for each payload. */
  hashFor(configBytes: Buffer): string[];
}

/** A Secret volume with three payloads, each a different certificate and key for app.test. */
async function swappingSecret(t: TestContext): Promise<SwappingSecret> {
  const dir = await mkdtemp(join(tmpdir(), 'rp-secret-swap-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const ca = await createCa(dir);
  const pairs = await Promise.all([0, 1, 2].map((i) => issue(dir, ca, { names: ['app.test'], file: `pair-${i}` })));
  const volume = await createPreparedVolume(pairs.map((p) => ({ 'tls.crt': p.cert, 'tls.key': p.key })), dir);
  const certPath = join(volume.dir, 'tls.crt');
  const keyPath = join(volume.dir, 'tls.key');
  const hashFor = (configBytes: Buffer) => pairs.map((p) => combinedSha256(configBytes, [{ path: certPath, bytes: p.cert }, { path: keyPath, bytes: p.key }]));
  return { pairs, volume, certPath, keyPath, hashFor };
}

const certificateTable = (s: SwappingSecret) => `[[certificates]]\ncert = "${s.certPath}"\nkey = "${s.keyPath}"\n\n`;

interface Swapper {
  readonly flips: number;
  stop(): void;
}

/** Flips `..data` to the next payload every FLIP_MIN_MS–FLIP_MAX_MS until stopped. */
function startSwapper(t: TestContext, volume: PreparedVolume, payloads: number): Swapper {
  let flips = 0;
  let timer: NodeJS.Timeout | undefined;
  const next = () => {
    timer = setTimeout(() => {
      flips++;
      volume.flipTo(flips % payloads);
      next();
    }, FLIP_MIN_MS + Math.random() * (FLIP_MAX_MS - FLIP_MIN_MS));
  };
  next();
  const stop = () => clearTimeout(timer);
  t.after(stop);
  return {
    get flips() {
      return flips;
    },
    stop,
  };
}

/**
 * Whether a failed read is the documented refusal of files that never held still, rather than
 * a bug: ERR_CONFIG_FILES_UNSTABLE, and `flipsDuring` shows a flip was there to fail each of the
 * SNAPSHOT_READ_ATTEMPTS attempts (a loaded machine stretches a read over many flips). A read
 * that failed with fewer flips had a quiet attempt it should have taken.
 */
const fairlyUnstable = (message: string, flipsDuring: number): boolean =>
  message.includes('kept changing while read') && flipsDuring >= SNAPSHOT_READ_ATTEMPTS;

const spki = (key: ReturnType<typeof createPublicKey>) => key.export({ type: 'spki', format: 'der' });

/** The payload a loaded certificate came from, after checking on its own that the key is the certificate's. */
function payloadOf(pairs: KeyPair[], loaded: { cert: string; key: string }): number {
  assert.ok(spki(createPublicKey(createPrivateKey(loaded.key))).equals(spki(new X509Certificate(loaded.cert).publicKey)), 'the loaded key belongs to the loaded certificate');
  const index = pairs.findIndex((p) => p.cert.toString() === loaded.cert);
  assert.ok(index >= 0, 'the loaded certificate is one of the payloads');
  assert.equal(loaded.key, pairs[index]!.key.toString(), 'the key is the one of the same payload');
  return index;
}

test('loads and content hashes while ..data flips every 5–50 ms: each takes one whole payload, none fails that had a quiet attempt', { skip }, async (t) => {
  const secret = await swappingSecret(t);
  const configPath = join(secret.volume.dir, '..', 'config.toml');
  await writeFile(configPath, `${certificateTable(secret)}[[listeners]]\naddress = "127.0.0.1"\nport = 0\ntls = true\n\n[[sites]]\nhost = "app.test"\nupstream = "http://127.0.0.1:1"\n`);
  const hashes = secret.hashFor(await readFile(configPath));

  const swapper = startSwapper(t, secret.volume, secret.pairs.length);
  const failures: string[] = [];
  let unstable = 0;
  const loaded = { runs: 0, overlapped: 0, payloads: new Set<number>() };
  const hashed = { runs: 0, overlapped: 0, hashes: new Set<string>(), mixed: 0 };
  const started = Date.now();
  const enoughEvidence = () =>
    swapper.flips >= 40 && loaded.overlapped >= 20 && hashed.overlapped >= 20 && loaded.payloads.size === secret.pairs.length && hashed.hashes.size === secret.pairs.length;
  const running = () => Date.now() - started < SWAP_RUN_MS || (!enoughEvidence() && Date.now() - started < MAX_SWAP_RUN_MS);

  const loadLoop = async () => {
    while (running()) {
      const flipsBefore = swapper.flips;
      let config;
      try {
        config = await loadConfigFile(configPath);
      } catch (err) {
        const message = (err as Error).message;
        if (fairlyUnstable(message, swapper.flips - flipsBefore)) unstable++;
        else failures.push(message);
      }
      loaded.runs++;
      if (swapper.flips !== flipsBefore) loaded.overlapped++;
      if (config === undefined) continue;
      assert.equal(config.certificates.length, 1);
      const index = payloadOf(secret.pairs, config.certificates[0]!);
      assert.equal(config.sha256, hashes[index], 'the load hashes the payload it loaded');
      loaded.payloads.add(index);
    }
  };
  const hashLoop = async () => {
    while (running()) {
      const flipsBefore = swapper.flips;
      const { sha256 } = await mountedContent(configPath);
      hashed.runs++;
      if (swapper.flips !== flipsBefore) hashed.overlapped++;
      if (hashes.includes(sha256)) hashed.hashes.add(sha256);
      else hashed.mixed++;
    }
  };
  await Promise.all([loadLoop(), hashLoop()]);
  swapper.stop();
  t.diagnostic(
    `${swapper.flips} flips in ${Date.now() - started} ms; ${loaded.runs} loads (${loaded.overlapped} with a flip during them, ${failures.length} failed, ` +
      `${unstable} refused as unstable with a flip during each attempt); ` +
      `${hashed.runs} hashes (${hashed.overlapped} with a flip during them, ${hashed.mixed} of no whole payload)`,
  );

  assert.deepEqual(failures, [], `${failures.length} of ${loaded.runs} loads failed`);
  assert.ok(unstable * 4 < loaded.runs, `${unstable} of ${loaded.runs} loads refused as unstable: most must get through`);
  assert.equal(hashed.mixed, 0, `${hashed.mixed} of ${hashed.runs} content hashes were of a mix of two payloads`);
  // Proof that the swaps really landed during the reads, or nothing above was tested.
  assert.ok(swapper.flips >= 40, `only ${swapper.flips} flips`);
  assert.ok(loaded.overlapped >= 20, `only ${loaded.overlapped} of ${loaded.runs} loads had a flip during them`);
  assert.ok(hashed.overlapped >= 20, `only ${hashed.overlapped} of ${hashed.runs} hashes had a flip during them`);
  assert.equal(loaded.payloads.size, secret.pairs.length, 'loads saw every payload');
  assert.equal(hashed.hashes.size, secret.pairs.length, 'hashes saw every payload');
});

test('reload through the admin socket while ..data flips: every reply ok (or refused with a flip in every attempt), show info and the handshake show one whole payload', { skip }, async (t) => {
  const secret = await swappingSecret(t);
  const proxy = await startProxy({ t, tls: true, accessLog: false, config: `${certificateTable(secret)}[[sites]]\nhost = "app.test"\nupstream = "http://127.0.0.1:1"\n` });
  const hashes = secret.hashFor(await readFile(proxy.configPath));
  const fingerprints = secret.pairs.map((p) => p.fingerprint256);

  const swapper = startSwapper(t, secret.volume, secret.pairs.length);
  const started = Date.now();
  const failures: string[] = [];
  let unstable = 0;
  let reloads = 0;
  let overlapped = 0;
  const running = new Set<string>();
  while (Date.now() - started < SWAP_RUN_MS || ((overlapped < 10 || running.size < 2) && Date.now() - started < MAX_SWAP_RUN_MS)) {
    const flipsBefore = swapper.flips;
    const reply = JSON.parse(await proxy.admin('reload')) as { status: string; message?: string };
    reloads++;
    const flipsDuring = swapper.flips - flipsBefore;
    if (flipsDuring > 0) overlapped++;
    if (reply.status !== 'ok') {
      const message = reply.message ?? JSON.stringify(reply);
      if (fairlyUnstable(message, flipsDuring)) unstable++;
      else failures.push(message);
    }
    const info = JSON.parse(await proxy.admin('show info json')) as { config_sha256: string };
    assert.ok(hashes.includes(info.config_sha256), `show info ${info.config_sha256.slice(0, 12)} is the hash of one whole payload`);
    running.add(info.config_sha256);
    // A server holding a key that is not its certificate's cannot complete a handshake at all.
    const served = await handshake(proxy.port, 'app.test');
    assert.ok(fingerprints.includes(served.fingerprint256), 'the served certificate is one of the payloads');
  }
  swapper.stop();
  t.diagnostic(`${swapper.flips} flips in ${Date.now() - started} ms; ${reloads} reloads (${overlapped} with a flip during them, ${failures.length} failed, ${unstable} refused as unstable with a flip during each attempt)`);

  assert.deepEqual(failures, [], `${failures.length} of ${reloads} reloads failed`);
  assert.ok(unstable * 4 < reloads, `${unstable} of ${reloads} reloads refused as unstable: most must get through`);
  assert.ok(overlapped >= 10, `only ${overlapped} of ${reloads} reloads had a flip during them`);
  assert.ok(running.size >= 2, 'reloads picked up more than one payload');
});

/**
 * The writer thread can be held back by a busy machine for a whole attempt; then two passes do
 * read the same bytes, a consistent snapshot that is rightly taken. So what must be refused is
 * tried up to this many times and must be refused on one of them (nearly always the first).
 */
const UNSTABLE_TRIES = 5;

async function firstFailure(attempt: () => Promise<unknown>): Promise<unknown> {
  for (let tries = 0; tries < UNSTABLE_TRIES; tries++) {
    try {
      await attempt();
    } catch (err) {
      return err;
    }
  }
  assert.fail(`${UNSTABLE_TRIES} tries, none failed`);
}

test('files that change on every read: load and content hash fail with ERR_CONFIG_FILES_UNSTABLE, naming what changed', { skip }, async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'rp-unstable-files-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const ca = await rewrittenCa(dir);
  const configPath = join(dir, 'config.toml');
  await writeFile(configPath, ca.sites);
  const rewriter = await ca.startRewriting(t);

  const unstable = (err: unknown) => {
    assert.ok(err instanceof ConfigFilesUnstableError, String(err));
    assert.equal(err.code, 'ERR_CONFIG_FILES_UNSTABLE');
    assert.ok(err.changed.length > 0 && err.changed.every((f) => f.startsWith(join(dir, 'ca-'))), `changed: ${err.changed.join(', ')}`);
    assert.match(err.message, new RegExp(`^${configPath}: the config and the files it references kept changing while read \\(.*ca-\\d+\\.pem.* differed between two reads, ${SNAPSHOT_READ_ATTEMPTS} attempts\\)`));
    return true;
  };
  unstable(await firstFailure(() => loadConfigFile(configPath)));
  unstable(await firstFailure(() => mountedContent(configPath)));
  assert.ok((await rewriter.stop()) > 0);
  // Once the writes stop, the same files load: all of them (more than are read at once), each at its own key.
  const loaded = await loadConfigFile(configPath);
  assert.ok(CA_REFERENCES > SNAPSHOT_READ_CONCURRENCY);
  assert.deepEqual(Object.keys(loaded.caFiles).sort(), loaded.config.sites.map((site) => site.tls_ca_file).sort());
  assert.equal(new Set(Object.values(loaded.caFiles)).size, 1, 'every path read the one file, as it was after the last write');
});

test('reload while a referenced file changes on every read: the reply says the files kept changing, the old config keeps running', { skip }, async (t) => {
  const proxy = await startProxy({ t, accessLog: false, config: '[[sites]]\nhost = "app.test"\nupstream = "http://127.0.0.1:1"\n' });
  const ca = await rewrittenCa(proxy.dir);
  const preamble = (await readFile(proxy.configPath, 'utf8')).replace(/\[\[sites\]\][\s\S]*$/, '');
  await writeFile(`${proxy.configPath}.tmp`, preamble + ca.sites);
  await rename(`${proxy.configPath}.tmp`, proxy.configPath);
  const rewriter = await ca.startRewriting(t);

  let reply: { status: string; message?: string } | undefined;
  let before: { config_sha256: string } | undefined;
  for (let tries = 0; tries < UNSTABLE_TRIES && reply?.status !== 'error'; tries++) {
    before = JSON.parse(await proxy.admin('show info json')) as { config_sha256: string };
    reply = JSON.parse(await proxy.admin('reload')) as { status: string; message?: string };
  }
  await rewriter.stop();
  assert.equal(reply?.status, 'error', `${UNSTABLE_TRIES} reloads, none refused: ${JSON.stringify(reply)}`);
  assert.match(reply.message ?? '', new RegExp(`^${proxy.configPath}: the config and the files it references kept changing while read \\(.*ca-\\d+\\.pem.* differed between two reads, ${SNAPSHOT_READ_ATTEMPTS} attempts\\); try again once the update has finished$`));
  const after = JSON.parse(await proxy.admin('show info json')) as { config_sha256: string };
  assert.equal(after.config_sha256, before?.config_sha256, 'the refused reload left the running config as it was');
  assert.equal(JSON.parse(await proxy.admin('reload')).status, 'ok', 'once the writes stop, the same files load');
});
