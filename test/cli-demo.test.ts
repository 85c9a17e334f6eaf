// What a newcomer sees: `npm start` (the demo) serves through the proxy and prints what to try,
// and every command answers --help and --version.
import assert from 'node:assert/strict';
import { createInterface } from 'node:readline';
import { describe, test } from 'node:test';
import { request } from 'undici';
import { sendCommand } from '../src/admin/client.ts';
import { runCli, spawnCli } from './helpers/proxy-process.ts';

describe('demo', () => {
  test('serves the demo upstream through the proxy and prints the URL and the admin socket', async (t) => {
    const child = spawnCli(['demo', '--port', '0']);
    const exited = new Promise((resolve) => child.once('exit', resolve));
    t.after(async () => {
      child.kill('SIGINT');
      await exited;
    });
    const printed: string[] = [];
    const lines = createInterface({ input: child.stderr! });
    const urlLine = await new Promise<string>((resolve, reject) => {
      lines.on('line', (line) => {
        printed.push(line);
        if (line.includes('try it:')) resolve(line);
      });
      child.once('exit', () => reject(new Error(`demo exited early:\n${printed.join('\n')}`)));
    });
    const url = /curl (http:\/\/127\.0\.0\.1:\d+\/)/.exec(urlLine)![1]!;
    const res = await request(url);
    assert.equal(res.statusCode, 200);
    assert.equal((await res.body.json() as { message: string }).message, 'hello from the demo upstream');

    const socketLine = await new Promise<string>((resolve) => {
      const seen = printed.find((l) => l.includes('admin socket:'));
      if (seen) resolve(seen);
      else lines.on('line', (line) => line.includes('admin socket:') && resolve(line));
    });
    const socket = /admin socket:\s+(\S+)/.exec(socketLine)![1]!;
    assert.match(await sendCommand(socket, 'status'), /^\{"status":"ok","uptime_secs":\d+,"sites":1\}\n$/);
  });
});

describe('--help and --version', () => {
  for (const command of ['serve', 'check', 'ctl', 'reloader', 'demo']) {
    test(`${command} --help prints its usage and exits 0`, async () => {
      const r = await runCli([command, '--help']);
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stdout, new RegExp(`usage: reverse-proxy ${command}`, 'i'));
    });
  }

  test('the top level lists every command; --version prints the package version', async () => {
    const help = await runCli(['--help']);
    assert.equal(help.code, 0);
    for (const command of ['serve', 'check', 'ctl', 'reloader', 'demo']) assert.match(help.stdout, new RegExp(`^  ${command} `, 'm'));
    const { version } = JSON.parse(await (await import('node:fs/promises')).readFile(new URL('../package.json', import.meta.url), 'utf8'));
    for (const args of [['--version'], ['serve', '--version'], ['check', '-v'], ['ctl', '--version'], ['reloader', '--version']]) {
      const r = await runCli(args);
      assert.equal(r.stdout, `${version}\n`, args.join(' '));
    }
    const bare = await runCli([]);
    assert.equal(bare.code, 2, 'no command is a usage error');
  });
});
