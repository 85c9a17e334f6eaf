// Loading a config through the SiteCache (what every reload does) gives exactly what loading it
// whole gives, after any sequence of edits; only the `[[sites]]` blocks whose text changed are
// validated again, and every error is the whole-file error, at the same line.
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { loadConfigFile } from '../src/config/load.ts';
import { cutSiteBlocks } from '../src/config/site-blocks.ts';
import { SiteCache } from '../src/config/site-cache.ts';
import { parseConfig } from '../src/config/validate.ts';
import { ConfigInvalidError } from '../src/errors.ts';

const PREAMBLE = `workers = 2

[[listeners]]
address = "127.0.0.1"
port = 0

[[upstreams]]
name = "api"
servers = ["http://10.0.0.1:8080", { url = "http://10.0.0.2:8080", weight = 2 }]
`;

/** A site with a few routes of every kind; `n` makes each one different. */
function site(n: number, extra = ''): string {
  return `[[sites]]
host = "site-${n}.test"
upstream = "http://127.0.0.1:${3000 + n}"
${extra}
  [[sites.routes]]
  name = "api"
  path_prefix = "/api/"
  upstream = "api"
  strip_prefix = true

  [[sites.routes]]
  path = "/ping"
  respond = { status = 200, body = "pong ${n}" }

  [[sites.routes]]
  path_regex = "^/v[0-9]+/"
  methods = ["GET",
             "HEAD"]
  request_headers = { set = { "x-site" = "${n}" } }

`;
}

/** Tables after the sites belong to the rest of the file, not to the last site. */
const TRAILER = `[logging]
level = "warn"
`;

const configOf = (sites: readonly string[]) => PREAMBLE + sites.join('') + TRAILER;

/** Parses `text` through `cache` and commits, as a successful load does; checks it against a cold parse. */
function warmEqualsCold(cache: SiteCache, text: string) {
  const warm = cache.parse(text, 'c.toml');
  warm.commit();
  assert.deepStrictEqual(warm.config, parseConfig(text, 'c.toml'));
  return warm;
}

function errorOf(parse: () => unknown): string {
  try {
    parse();
  } catch (err) {
    assert.ok(err instanceof ConfigInvalidError, String(err));
    return err.message;
  }
  assert.fail('expected the config to be refused');
}

describe('SiteCache', () => {
  test('after every kind of edit, a warm parse equals a cold one and validates only the changed blocks', () => {
    const cache = new SiteCache();
    let sites = [1, 2, 3, 4, 5].map((n) => site(n));
    assert.deepStrictEqual(warmEqualsCold(cache, configOf(sites)).reuse, { parsed: 5, reused: 0 }, 'cold: every block');

    const steps: { name: string; edit: (s: string[]) => string[]; reuse: { parsed: number; reused: number } }[] = [
      { name: 'nothing changed', edit: (s) => s, reuse: { parsed: 0, reused: 5 } },
      { name: 'site added', edit: (s) => [...s, site(6)], reuse: { parsed: 1, reused: 5 } },
      { name: 'site removed', edit: (s) => s.filter((_, i) => i !== 1), reuse: { parsed: 0, reused: 5 } },
      { name: 'sites moved', edit: (s) => [s[4]!, ...s.slice(0, 4)], reuse: { parsed: 0, reused: 5 } },
      { name: 'one site edited', edit: (s) => s.map((b, i) => (i === 2 ? b.replace('upstream = "http', 'request_timeout_secs = 9\nupstream = "http') : b)), reuse: { parsed: 1, reused: 4 } },
      { name: 'one route changed', edit: (s) => s.map((b, i) => (i === 0 ? b.replace('"/ping"', '"/pong"') : b)), reuse: { parsed: 1, reused: 4 } },
      {
        name: 'a [[sites]] line inside multi-line strings',
        edit: (s) => [...s, site(7, `\n  [[sites.routes]]\n  path = "/doc"\n  respond = { status = 200, body = """\n[[sites]]\nhost = "not-a-site.test"\n""" }\n\n  [[sites.routes]]\n  path = "/lit"\n  respond = { status = 200, body = '''\n[[sites]]\n''' }\n`)],
        reuse: { parsed: 1, reused: 5 },
      },
      { name: 'a comment edited inside a block', edit: (s) => s.map((b, i) => (i === 1 ? `${b}# note\n` : b)), reuse: { parsed: 1, reused: 5 } },
    ];
    for (const step of steps) {
      sites = step.edit(sites);
      const warm = warmEqualsCold(cache, configOf(sites));
      assert.deepStrictEqual(warm.reuse, step.reuse, step.name);
      assert.equal(cache.size, sites.length, `${step.name}: the cache holds this load's sites only`);
    }
    const strings = warmEqualsCold(cache, configOf(sites)).config.sites.find((s) => s.host?.[0] === 'site-7.test')!;
    assert.match(strings.routes.find((r) => r.path === '/doc')!.respond!.body, /^\[\[sites\]\]\nhost = "not-a-site.test"\n$/);
  });

  test('a site block is known by its exact text: the same text elsewhere in the file is the same site, a changed byte is not', () => {
    const cache = new SiteCache();
    const first = warmEqualsCold(cache, configOf([site(1), site(2)]));
    const swapped = warmEqualsCold(cache, configOf([site(2), site(1)]));
    assert.equal(swapped.config.sites[0], first.config.sites[1], 'the validated site of the last load, found by its text');
    assert.deepStrictEqual(swapped.siteKeys, [first.siteKeys![1], first.siteKeys![0]]);
    const edited = warmEqualsCold(cache, configOf([site(2), site(1).replace('pong 1', 'pong 1!')]));
    assert.notEqual(edited.siteKeys![1], first.siteKeys![0]);
    assert.deepStrictEqual(edited.reuse, { parsed: 1, reused: 1 });
  });

  test('cuts at top-level [[sites]] headers only: not in strings, comments or arrays', () => {
    const text = `${PREAMBLE}# [[sites]] in a comment
[[sites]]
host = "a.test"
upstream = "http://127.0.0.1:1"
  [sites.rate_limit]
  rps = 5
  [[sites.routes]]
  path = "/x"
  respond = { status = 200, body = "[[sites]]" }
  match_headers = { "x-a" = '[[sites]]' }

[["sites"]]
host = "b.test"
upstream = ["http://127.0.0.1:2",
  "http://127.0.0.1:3"]

[[certificates]]
cert = "c.pem"
key = "k.pem"
`;
    const cut = cutSiteBlocks(text)!;
    assert.equal(cut.sites.length, 2);
    assert.match(cut.sites[0]!, /^\[\[sites\]\]\nhost = "a.test"[^]*rps = 5[^]*'\[\[sites\]\]' }\n\n$/);
    assert.match(cut.sites[1]!, /^\[\["sites"\]\]\nhost = "b.test"[^]*:3"\]\n\n$/);
    assert.ok(cut.rest.startsWith(PREAMBLE) && cut.rest.endsWith('[[certificates]]\ncert = "c.pem"\nkey = "k.pem"\n'));
    assert.equal(cut.rest.length + cut.sites.join('').length, text.length, 'every byte is in exactly one piece');
  });

  test('the blocks of the last cut are skipped where the text has them whole, and the cut is the same as without them', () => {
    const base = [1, 2, 3, 4, 5].map((n) => site(n));
    const previous = cutSiteBlocks(configOf(base))!.sites;
    const inString = base[0]!.replace('"pong 1"', `"""\n${base[1]}"""`);
    const edits: { name: string; sites: string[]; same: number[] }[] = [
      { name: 'unchanged', sites: base, same: [0, 1, 2, 3, 4] },
      { name: 'one edited', sites: base.map((b, i) => (i === 2 ? b.replace('pong 3', 'pong three') : b)), same: [0, 1, -1, 3, 4] },
      { name: 'one inserted', sites: [...base.slice(0, 2), site(9), ...base.slice(2)], same: [0, 1, -1, 2, 3, 4] },
      { name: 'one removed', sites: base.filter((_, i) => i !== 1), same: [0, 2, 3, 4] },
      { name: 'lines added after a block', sites: base.map((b, i) => (i === 3 ? `${b}# more\nvia = true\n` : b)), same: [0, 1, 2, -1, 4] },
      { name: 'last two swapped', sites: [...base.slice(0, 3), base[4]!, base[3]!], same: [0, 1, 2, 4, 3] },
      { name: 'a previous block inside a multi-line string', sites: [inString, ...base.slice(2)], same: [-1, 2, 3, 4] },
    ];
    for (const edit of edits) {
      const text = configOf(edit.sites);
      const warm = cutSiteBlocks(text, previous)!;
      const cold = cutSiteBlocks(text)!;
      assert.deepStrictEqual({ rest: warm.rest, sites: warm.sites }, { rest: cold.rest, sites: cold.sites }, edit.name);
      assert.deepStrictEqual(warm.same, edit.same, edit.name);
    }
    // A text that ends inside a block the last cut had whole: nothing is skipped past its end.
    const truncated = configOf(base).slice(0, -TRAILER.length - 10);
    assert.deepStrictEqual(cutSiteBlocks(truncated, previous)?.sites, cutSiteBlocks(truncated)?.sites);
  });

  test('a file the cut cannot read with certainty is parsed whole, with the same result', () => {
    const cache = new SiteCache();
    const cases = [
      // A table of the last site written after another table: valid TOML, but not a block.
      `${PREAMBLE}${site(1)}[logging]\nlevel = "warn"\n\n[sites.rate_limit]\nrps = 3\n`,
      // A quoted header key with a dot in it.
      `${PREAMBLE}${site(1)}["a.b"]\nx = 1\n`,
      // A string that never ends, in the rest of the file.
      `${PREAMBLE}${site(1)}request_id_header = """\n`,
    ];
    assert.equal(cutSiteBlocks(cases[0]!), undefined);
    assert.deepStrictEqual(warmEqualsCold(cache, cases[0]!).reuse, undefined);
    for (const text of cases.slice(1)) {
      assert.equal(cutSiteBlocks(text), undefined);
      assert.equal(errorOf(() => cache.parse(text, 'c.toml')), errorOf(() => parseConfig(text, 'c.toml')));
    }
  });

  test('every error is the whole-file error at the same line, and a refused file leaves the cache as it was', () => {
    const cache = new SiteCache();
    const good = [1, 2, 3].map((n) => site(n));
    warmEqualsCold(cache, configOf(good));
    const broken = {
      'TOML syntax in one block': good.map((b, i) => (i === 1 ? b.replace('strip_prefix = true', 'strip_prefix = tru') : b)),
      'a bad route field': good.map((b, i) => (i === 2 ? b.replace('path = "/ping"', 'path = "ping"') : b)),
      'a host served twice': [...good, site(1)],
      'an unknown group': good.map((b, i) => (i === 0 ? b.replace('upstream = "api"', 'upstream = "apx"') : b)),
      'two routes with one name': good.map((b, i) => (i === 1 ? b.replace('path = "/ping"', 'name = "api"\n  path = "/ping"') : b)),
    };
    for (const [name, sites] of Object.entries(broken)) {
      const text = configOf(sites);
      const message = errorOf(() => cache.parse(text, 'c.toml'));
      assert.equal(message, errorOf(() => parseConfig(text, 'c.toml')), name);
      assert.match(message, /c\.toml:\d+: /, `${name}: names the line`);
    }
    assert.deepStrictEqual(warmEqualsCold(cache, configOf(good)).reuse, { parsed: 0, reused: 3 }, 'the last good load is still cached');
  });

  test('loadConfigFile with a cache commits only a load that succeeded, and names the right line of a broken block', async (t) => {
    const dir = await mkdtemp(join(tmpdir(), 'rp-site-cache-'));
    t.after(() => rm(dir, { recursive: true, force: true }));
    const file = join(dir, 'config.toml');
    const cache = new SiteCache();
    const sites = [1, 2, 3].map((n) => site(n));
    await writeFile(file, configOf(sites));
    const cold = await loadConfigFile(file, cache);
    assert.deepStrictEqual(cold.siteReuse, { parsed: 3, reused: 0 });

    const text = configOf(sites.map((b, i) => (i === 2 ? b.replace('"/ping"', '"/ping"\n  body_limit_bytes = -1') : b)));
    await writeFile(file, text);
    const line = text.split('\n').indexOf('  body_limit_bytes = -1') + 1;
    await assert.rejects(loadConfigFile(file, cache), (err: Error) => {
      assert.equal(err.message, `${file}:${line}: sites[2].routes[1].body_limit_bytes: must be 0 or more bytes`);
      return true;
    });
    // A file that validates but names a CA file that cannot be read: refused after the parse.
    await writeFile(file, configOf([...sites, site(4, 'tls_ca_file = "missing.pem"\n')]));
    await assert.rejects(loadConfigFile(file, cache), /cannot read/);

    await writeFile(file, configOf([...sites, site(4)]));
    const warm = await loadConfigFile(file, cache);
    assert.deepStrictEqual(warm.siteReuse, { parsed: 1, reused: 3 }, 'neither refused load replaced the cache');
    assert.deepStrictEqual(warm.config, (await loadConfigFile(file)).config);
    assert.equal(warm.sha256, (await loadConfigFile(file)).sha256);
  });
});
