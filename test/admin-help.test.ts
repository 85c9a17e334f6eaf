// `help <command>` and the suggestions after an unknown command, for every command the master
// and the workers list in `help`, read from the live socket: a command someone adds later is
// covered without touching this file.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { editDistance, suggestCommands } from '../src/admin/commands.ts';
import { VERSION as PACKAGE_VERSION } from '../src/version.ts';
import { exchange, startTestSocket, type TestSocket } from './admin-fixture.ts';

let admin: TestSocket;
before(async () => {
  admin = await startTestSocket({ level: 'admin' });
});
after(() => admin.close());

/** The usage lines of a `help` reply, without routing words. */
function usages(help: string): string[] {
  return [...help.matchAll(/^ {2}(\S.*?) +: /gm)].map((m) => m[1]!).filter((u) => !u.startsWith('@'));
}
const fixedWords = (usage: string) => usage.split(' ').filter((w) => !w.startsWith('<') && !w.startsWith('[')).join(' ');
/** One typing mistake: a letter too many at the end (`show stat` → `show stats`). */
const typo = (command: string) => `${command}s`;

/** What a person at a prompt sees after typing one line. */
async function atPrompt(line: string, prefix = ''): Promise<string> {
  const reply = await exchange(admin.path, `prompt\n${prefix}${line}\nquit\n`, { keepOpen: true });
  const prompt = prefix === '' ? 'master> ' : `${prefix.slice(1, -1)}> `;
  assert.ok(reply.startsWith(`master> ${prefix === '' ? '' : prompt}`) && reply.endsWith(prompt), reply);
  return reply.slice(`master> ${prefix === '' ? '' : prompt}`.length, -prompt.length);
}

for (const [where, prefix] of [['master', ''], ['worker', '@1\n']] as const) {
  test(`${where}: help <command> describes each command help lists`, async () => {
    const listed = usages(await atPrompt('help', prefix));
    assert.ok(listed.length >= 5, `help lists ${listed.join(', ')}`);
    for (const usage of listed) {
      const text = await atPrompt(`help ${fixedWords(usage)}`, prefix);
      assert.match(text, new RegExp(`^usage: ${usage.replace(/[[\]<>]/g, '\\$&')}( \\(level \\w+\\))?\\n {2}\\S`), `help ${fixedWords(usage)}`);
    }
  });

  test(`${where}: a mistyped command at the prompt is answered with the closest commands`, async () => {
    const listed = usages(await atPrompt('help', prefix));
    for (const usage of listed) {
      const mistyped = typo(fixedWords(usage));
      const text = await atPrompt(mistyped, prefix);
      const [reply, ...suggestion] = text.split('\n');
      assert.equal(reply, `{"status":"error","message":"unknown command: ${mistyped}"}`);
      assert.equal(suggestion[0], 'Unknown command, but maybe one of the following ones is a better match:', mistyped);
      assert.ok(usages(suggestion.join('\n')).includes(usage), `"${mistyped}" suggests ${usage}:\n${text}`);
    }
  });
}

test('help reload says what reload does, the level it needs, and its replies', async () => {
  const text = await exchange(admin.path, 'help reload\n');
  assert.match(text, /^usage: reload \(level operator\)\n {2}re-read the config file and apply it to every worker\n\n {2}Re-reads and fully validates/);
  assert.match(text, /\{"status":"error","message":\.\.\.\}/);
  // A prefix lists the commands it begins; a name that is no command is the usual error.
  assert.match(await exchange(admin.path, 'help show\n'), /^ {2}show proc +: show processes status$/m);
  assert.equal(await exchange(admin.path, 'help frobnicate\n'), '{"status":"error","message":"unknown command: frobnicate"}\n');
});

test('without prompt, an unknown command gets exactly the seed reply (scripts parse it)', async () => {
  assert.equal(await exchange(admin.path, 'show stats\n'), '{"status":"error","message":"unknown command: show stats"}\n');
  assert.equal(await exchange(admin.path, '@1 show stats\n'), '{"status":"error","message":"unknown command: show stats"}\n');
});

test('show version on the master and on a worker', async () => {
  assert.equal(await exchange(admin.path, 'show version\n'), `${PACKAGE_VERSION}\n`);
  assert.equal(await exchange(admin.path, '@2 show version\n'), `${PACKAGE_VERSION}\n`);
});

test('suggestions: typos by one edit, a missing word, nothing for far-off words', () => {
  const table = ['show proc', 'show info', 'show stat', 'status', 'reload'].map((usage) => ({ usage, description: '' }));
  const names = (command: string) => suggestCommands(table, command).map((e) => e.usage);
  assert.deepEqual(names('show stats'), ['show stat']);
  assert.deepEqual(names('relaod'), ['reload'], 'a transposition is one edit');
  assert.deepEqual(names('sho proc'), ['show proc']);
  assert.deepEqual(names('show'), ['show proc', 'show info', 'show stat'], 'the commands a first word begins');
  assert.deepEqual(names('show everything'), ['show proc', 'show info', 'show stat'], 'right first word, nothing close');
  assert.deepEqual(names('frobnicate'), []);
  assert.equal(editDistance('kitten', 'sitting'), 3);
});
