// A stand-in for the official node:24-slim image, made without any image registry: debootstrap
// a minimal Debian bookworm from the apt mirror this machine already uses, add the Node binary the
// project pins (npm package `node`) and the machine's npm, then `podman import`. The image is kept
// between runs under a tag keyed by the Node version, so only the first run pays for it.
import { chmod, copyFile, cp, mkdir, mkdtemp, readFile, readdir, realpath, rm, symlink } from 'node:fs/promises';
import { join, dirname } from 'node:path';
import { REPO_ROOT } from '../lib/paths.ts';
import { run } from '../lib/exec.ts';
import { podman } from '../lib/podman.ts';

const SUITE = 'bookworm';
const NODE_BINARY = join(REPO_ROOT, 'node_modules', 'node', 'bin', 'node');

/**
 * The Debian mirror apt is configured with, read from sources.list (one-line format) or the
 * deb822 *.sources files, so no host name is written into the repository.
 */
export async function debianMirror(): Promise<string> {
  const files = ['/etc/apt/sources.list'];
  for (const entry of await readdir('/etc/apt/sources.list.d').catch(() => [])) files.push(join('/etc/apt/sources.list.d', entry));
  for (const file of files) {
    const text = await readFile(file, 'utf8').catch(() => '');
    for (const line of text.split('\n')) {
      const oneLine = /^\s*deb\s+(?:\[[^\]]*\]\s+)?(\S+)\s+(\S+)\s+.*\bmain\b/.exec(line);
      if (oneLine?.[2] === SUITE && oneLine[1]) return oneLine[1];
    }
    for (const stanza of text.split(/\n\s*\n/)) {
      const field = (name: string) => new RegExp(`^${name}:\\s*(.+)$`, 'mi').exec(stanza)?.[1]?.trim().split(/\s+/) ?? [];
      if (field('Types').includes('deb') && field('Suites').includes(SUITE) && field('Components').includes('main')) {
        const uri = field('URIs')[0];
        if (uri) return uri;
      }
    }
  }
  throw new Error(`no apt source for Debian ${SUITE} main in /etc/apt/sources.list*: debootstrap needs a mirror`);
}

/** The npm that runs on this machine: its package directory, to copy into the base like node:24-slim ships it. */
async function hostNpmDir(): Promise<string> {
  const { stdout } = await run('sh', ['-c', 'command -v npm']);
  const cli = await realpath(stdout.trim());
  return dirname(dirname(cli));
}

export async function nodeVersion(): Promise<string> {
  const { stdout } = await run(NODE_BINARY, ['--version']);
  return stdout.trim().replace(/^v/, '');
}

/** Tag of the base image for the pinned Node version, building it first if it is missing. */
export async function ensureBaseImage(log: (line: string) => void): Promise<string> {
  const tag = `localhost/node:${await nodeVersion()}-bookworm-slim`;
  if ((await podman(['image', 'exists', tag], { allowFailure: true })).code === 0) {
    log(`base image ${tag}: cached`);
    return tag;
  }
  const mirror = await debianMirror();
  log(`base image ${tag}: debootstrap ${SUITE} from the configured apt mirror (a minute or two)`);
  const work = await mkdtemp('/var/tmp/reverse-proxy-base-');
  const root = join(work, 'rootfs');
  try {
    await run('debootstrap', ['--variant=minbase', SUITE, root, mirror], { timeoutMs: 900_000 });
    await rm(join(root, 'var/cache/apt/archives'), { recursive: true, force: true });
    await rm(join(root, 'var/lib/apt/lists'), { recursive: true, force: true });
    await mkdir(join(root, 'var/lib/apt/lists/partial'), { recursive: true });
    await mkdir(join(root, 'var/cache/apt/archives/partial'), { recursive: true });

    await copyFile(NODE_BINARY, join(root, 'usr/local/bin/node'));
    await chmod(join(root, 'usr/local/bin/node'), 0o755);
    const npmDir = join(root, 'usr/local/lib/node_modules/npm');
    await cp(await hostNpmDir(), npmDir, { recursive: true, verbatimSymlinks: true });
    for (const tool of ['npm', 'npx']) await symlink(`../lib/node_modules/npm/bin/${tool}-cli.js`, join(root, 'usr/local/bin', tool));

    await run('tar', ['-C', root, '-cf', join(work, 'rootfs.tar'), '.'], { timeoutMs: 300_000 });
    await podman(
      [
        'import',
        '--change', 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin',
        '--change', 'CMD ["node"]',
        join(work, 'rootfs.tar'),
        tag,
      ],
      { timeoutMs: 300_000 },
    );
    log(`base image ${tag}: imported`);
    return tag;
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}
