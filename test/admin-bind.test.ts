// Socket life-cycle: safe bind, stale and live sockets, paths that must never be touched,
// permissions without a window, and clean removal.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:net';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { chmod, lstat, mkdir, readdir, readFile, readlink, rename, stat, symlink, writeFile } from 'node:fs/promises';
import { watch } from 'node:fs';
import { join } from 'node:path';
import { startAdminSocket } from '../src/admin/server.ts';
import { SOCKET_DIRECTORY_MODE } from '../src/admin/bind.ts';
import { AdminSocketUnsafeError } from '../src/errors.ts';
import { MAX_SOCKET_PATH_BYTES } from '../src/config/socket-path.ts';
import { TestMaster, capturingLogger, exchange, tempDir } from './admin-fixture.ts';

const STATUS_OK = '{"status":"ok","uptime_secs":62,"sites":2}\n';

function start(path: string, mode = 0o660) {
  const { logger, lines } = capturingLogger();
  return { started: startAdminSocket({ path, mode, level: 'admin', backend: new TestMaster(), logger }), logs: lines };
}

async function listenPlain(path: string) {
  const server = createServer((c) => c.resume().end('plain\n'));
  await new Promise<void>((resolve) => server.listen(path, resolve));
  return server;
}

test('binds, answers, and removes its socket file on close', async () => {
  const { dir, remove } = await tempDir();
  try {
    const path = join(dir, 'admin.sock');
    const socket = await start(path).started;
    assert.ok(socket);
    assert.ok((await lstat(path)).isSocket());
    assert.equal(await exchange(path, 'status\n'), STATUS_OK);
    await socket.close();
    await assert.rejects(lstat(path), { code: 'ENOENT' });
    assert.deepEqual(await readdir(dir), [], 'no temporary entries are left behind');
  } finally {
    await remove();
  }
});

for (const mode of [0o600, 0o660, 0o666]) {
  test(`the socket file has exactly mode 0${mode.toString(8)}`, async () => {
    const { dir, remove } = await tempDir();
    try {
      const path = join(dir, 'admin.sock');
      const socket = await start(path, mode).started;
      assert.equal((await lstat(path)).mode & 0o777, mode);
      await socket?.close();
    } finally {
      await remove();
    }
  });
}

test('no entry ever appears in the directory with looser permissions than asked', async () => {
  const { dir, remove } = await tempDir();
  const seen: { name: string; mode: number; socket: boolean; directory: boolean }[] = [];
  const pending: Promise<void>[] = [];
  const watcher = watch(dir, (_event, name) => {
    if (name === null) return;
    pending.push(
      lstat(join(dir, name)).then(
        (info) => void seen.push({ name, mode: info.mode & 0o7777, socket: info.isSocket(), directory: info.isDirectory() }),
        () => {},
      ),
    );
  });
  try {
    const previousUmask = process.umask(0); // a careless bind would now create a 0777 socket
    let socket;
    try {
      socket = await start(join(dir, 'admin.sock'), 0o600).started;
    } finally {
      process.umask(previousUmask);
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
    await Promise.all(pending);
    assert.ok(seen.length > 0, 'the watcher saw the bind');
    for (const entry of seen) {
      if (entry.socket) assert.equal(entry.mode, 0o600, `${entry.name} was visible as 0${entry.mode.toString(8)}`);
      else if (entry.directory) assert.equal(entry.mode & 0o077, 0, `${entry.name} was a directory open to others`);
      else assert.fail(`unexpected entry ${entry.name}`);
    }
    await socket?.close();
  } finally {
    watcher.close();
    await remove();
  }
});

test('a stale socket left by a killed process is removed and replaced', async () => {
  const { dir, remove } = await tempDir();
  try {
    const path = join(dir, 'admin.sock');
    // A real crash: a process binds the path and is killed before it can clean up.
    const child = spawn(process.execPath, ['-e', `require('node:net').createServer().listen(${JSON.stringify(path)}, () => console.log('up'))`], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    await once(child.stdout, 'data');
    child.kill('SIGKILL');
    await once(child, 'exit');
    assert.ok((await lstat(path)).isSocket(), 'precondition: the dead socket file is still there');
    const socket = await start(path).started;
    assert.ok(socket);
    assert.equal(await exchange(path, 'status\n'), STATUS_OK);
    await socket.close();
  } finally {
    await remove();
  }
});

test('a socket another live process answers on is left alone; we run without it', async () => {
  const { dir, remove } = await tempDir();
  try {
    const path = join(dir, 'admin.sock');
    const first = await start(path).started;
    assert.ok(first);
    const inode = (await lstat(path)).ino;
    const second = start(path);
    assert.equal(await second.started, undefined);
    const warning = second.logs().find((l) => l.event === 'admin_socket_in_use');
    assert.ok(warning, 'the second instance logs admin_socket_in_use');
    assert.equal(warning.level, 40, 'as a warning');
    assert.equal((await lstat(path)).ino, inode, 'the first socket file is untouched');
    assert.equal(await exchange(path, 'status\n'), STATUS_OK, 'the first instance still answers');
    await first.close();
  } finally {
    await remove();
  }
});

test('a foreign live socket is neither stolen nor removed on our close', async () => {
  const { dir, remove } = await tempDir();
  try {
    const path = join(dir, 'admin.sock');
    const ours = await start(path).started;
    assert.ok(ours);
    // Someone replaces the file while we run (an operator, another instance after a mistake).
    const foreignDir = join(dir, 'elsewhere');
    await mkdir(foreignDir);
    const foreign = await listenPlain(join(foreignDir, 'f.sock'));
    await rename(join(foreignDir, 'f.sock'), path);
    await ours.close();
    assert.ok((await lstat(path)).isSocket(), 'the socket that is not ours stays');
    assert.equal(await exchange(path, 'x\n'), 'plain\n');
    await new Promise<void>((resolve) => foreign.close(() => resolve()));
  } finally {
    await remove();
  }
});

test('a symlink at the path is refused and neither followed nor removed', async () => {
  const { dir, remove } = await tempDir();
  try {
    const target = join(dir, 'precious.txt');
    await writeFile(target, 'keep me');
    const path = join(dir, 'admin.sock');
    await symlink(target, path);
    await assert.rejects(start(path).started, (err: unknown) => {
      assert.ok(err instanceof AdminSocketUnsafeError);
      assert.equal(err.code, 'ERR_ADMIN_SOCKET_UNSAFE');
      assert.match(err.message, /symbolic link/);
      return true;
    });
    assert.equal(await readlink(path), target);
    assert.equal(await readFile(target, 'utf8'), 'keep me');
    // A dangling symlink is refused the same way.
    const dangling = join(dir, 'dangling.sock');
    await symlink(join(dir, 'nowhere'), dangling);
    await assert.rejects(start(dangling).started, /symbolic link/);
    assert.equal(await readlink(dangling), join(dir, 'nowhere'));
  } finally {
    await remove();
  }
});

test('a regular file or a directory at the path is refused and left untouched', async () => {
  const { dir, remove } = await tempDir();
  try {
    const file = join(dir, 'file.sock');
    await writeFile(file, 'data');
    await assert.rejects(start(file).started, /admin socket .*file\.sock: is a regular file; refusing to remove it/);
    assert.equal(await readFile(file, 'utf8'), 'data');
    const directory = join(dir, 'dir.sock');
    await mkdir(directory);
    await writeFile(join(directory, 'inside'), 'x');
    await assert.rejects(start(directory).started, /is a directory; refusing to remove it/);
    assert.deepEqual(await readdir(directory), ['inside']);
  } finally {
    await remove();
  }
});

test('relative, dot-dot and over-long paths are refused before anything is created', async () => {
  const { dir, remove } = await tempDir();
  try {
    await assert.rejects(start('admin.sock').started, /must be an absolute path/);
    await assert.rejects(start(`${dir}/sub/../admin.sock`).started, /must not contain "\.\."/);
    const long = `${dir}/${'d'.repeat(MAX_SOCKET_PATH_BYTES)}.sock`;
    await assert.rejects(start(long).started, (err: unknown) => err instanceof AdminSocketUnsafeError && /limited to 107/.test(err.message));
    // Short enough for the socket itself but not for the private directory it is bound in first.
    const nearLimit = `${dir}/${'d'.repeat(MAX_SOCKET_PATH_BYTES - dir.length - 8)}/a`;
    await assert.rejects(start(nearLimit).started, /too long to bind safely/);
    assert.deepEqual(await readdir(dir), []);
  } finally {
    await remove();
  }
});

test('a missing directory is created with a mode no wider than 0755', async () => {
  const { dir, remove } = await tempDir();
  try {
    const path = join(dir, 'run', 'reverse-proxy', 'admin.sock');
    const socket = await start(path).started;
    assert.ok(socket);
    const mode = (await stat(join(dir, 'run', 'reverse-proxy'))).mode & 0o777;
    assert.equal(mode & ~SOCKET_DIRECTORY_MODE, 0, `directory mode 0${mode.toString(8)}`);
    await socket.close();
  } finally {
    await remove();
  }
});

test('a directory anyone may write to without the sticky bit is refused', async () => {
  const { dir, remove } = await tempDir();
  try {
    const open = join(dir, 'open');
    await mkdir(open);
    await chmod(open, 0o777);
    await assert.rejects(start(join(open, 'admin.sock')).started, /writable by every user without the sticky bit/);
    await chmod(open, 0o1777); // like /tmp: others cannot remove or rename our entries
    const socket = await start(join(open, 'admin.sock')).started;
    assert.ok(socket);
    await socket.close();
  } finally {
    await remove();
  }
});

test('close() ends open interactive sessions instead of waiting for them', async () => {
  const { dir, remove } = await tempDir();
  try {
    const path = join(dir, 'admin.sock');
    const socket = await start(path).started;
    assert.ok(socket);
    const session = exchange(path, 'prompt\n', { keepOpen: true, timeoutMs: 5_000 });
    await new Promise((r) => setTimeout(r, 50)); // let the session reach its prompt
    await socket.close();
    assert.equal(await session, 'master> ');
    await assert.rejects(lstat(path), { code: 'ENOENT' });
  } finally {
    await remove();
  }
});
