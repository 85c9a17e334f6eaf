#!/usr/bin/env node
// `reverse-proxy <command>`: parses arguments and hands over to the module that owns the
// command. Nothing else lives here.
import { parseArgs } from 'node:util';
import { DEFAULT_CONFIG_PATH } from './config/defaults.ts';
import { ConfigInvalidError, formatProblem, ReverseProxyError, UsageError } from './errors.ts';
import { VERSION } from './version.ts';

const USAGE = `Usage: reverse-proxy <command> [options]

Commands:
  serve     run the proxy (master and workers) from a config file
  check     validate a config file without serving (like nginx -t)
  ctl       send a command to the admin socket, or open its interactive prompt
  reloader  sidecar: watch a ConfigMap mount and reload the proxy on change
  demo      serve a built-in example: the proxy in front of a demo upstream

Run 'reverse-proxy <command> --help' for the options of a command;
'reverse-proxy [<command>] --version' prints the version.
`;

const CONFIG_USAGE = (command: string, what: string) => `Usage: reverse-proxy ${command} [--config FILE]

${what}

Options:
  -c, --config FILE  config file (default: $REVERSE_PROXY_CONFIG, else ${DEFAULT_CONFIG_PATH})
  -h, --help         show this help
  -v, --version      print the version
`;

const SERVE_USAGE = CONFIG_USAGE('serve', 'Runs the proxy. SIGHUP reloads the config; SIGTERM or SIGINT drains and exits.');
const CHECK_USAGE = CONFIG_USAGE('check', 'Validates the config file with the same code a reload uses. Exit 0 if valid, 1 if not.');
const DEMO_USAGE = `Usage: reverse-proxy demo [--port PORT]

Starts a demo upstream and the proxy in front of it, with the admin socket in a temp dir.

Options:
  -p, --port PORT  proxy port on 127.0.0.1 (default: $PORT, else 8080; 0 picks a free one)
  -h, --help       show this help
`;

/** Parses the options serve and check share; returns undefined after printing help. */
function parseConfigOptions(argv: string[], usage: string): string | undefined {
  const { values } = parseArgs({
    args: argv,
    options: { config: { type: 'string', short: 'c' }, help: { type: 'boolean', short: 'h' } },
    strict: true,
    allowPositionals: false,
  });
  if (values.help) process.stdout.write(usage);
  else return values.config ?? process.env.REVERSE_PROXY_CONFIG ?? DEFAULT_CONFIG_PATH;
}

async function serve(argv: string[]): Promise<number | undefined> {
  const file = parseConfigOptions(argv, SERVE_USAGE);
  if (file === undefined) return 0;
  const { Master } = await import('./runtime/master.ts');
  await Master.start(file);
  return undefined;
}

async function check(argv: string[]): Promise<number> {
  const file = parseConfigOptions(argv, CHECK_USAGE);
  if (file === undefined) return 0;
  const { loadConfigFile } = await import('./config/load.ts');
  const { summarize } = await import('./config/summary.ts');
  try {
    const loaded = await loadConfigFile(file);
    const { configWarnings } = await import('./config/validate.ts');
    for (const warning of configWarnings(loaded.config)) process.stderr.write(`warning: ${formatProblem(file, warning)}\n`);
    for (const warning of loaded.warnings) process.stderr.write(`warning: ${warning}\n`);
    process.stdout.write(`${file}: ok: ${summarize(loaded.config)} (sha256 ${loaded.sha256.slice(0, 12)})\n`);
    return 0;
  } catch (err) {
    if (!(err instanceof ReverseProxyError)) throw err;
    // One problem per line reads better in a terminal than the joined message.
    const lines = err instanceof ConfigInvalidError ? err.problems.map((p) => formatProblem(file, p)) : [err.message];
    for (const line of lines) process.stderr.write(`${line}\n`);
    process.stderr.write(`${file}: config is invalid\n`);
    return 1;
  }
}

async function demo(argv: string[]): Promise<number | undefined> {
  const { values } = parseArgs({ args: argv, options: { port: { type: 'string', short: 'p' }, help: { type: 'boolean', short: 'h' } }, strict: true });
  if (values.help) {
    process.stdout.write(DEMO_USAGE);
    return 0;
  }
  const port = Number(values.port ?? process.env.PORT ?? 8080);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new UsageError(`--port must be a port number, not "${values.port ?? process.env.PORT}"`);
  const { runDemo } = await import('./demo.ts');
  await runDemo(port);
  return undefined;
}

async function main(argv: string[]): Promise<number | undefined> {
  const [command, ...rest] = argv;
  // Every command answers --version the same way, before its own option parsing.
  if (rest.length === 1 && (rest[0] === '--version' || rest[0] === '-v')) {
    process.stdout.write(`${VERSION}\n`);
    return 0;
  }
  switch (command) {
    case 'serve':
      return serve(rest);
    case 'check':
      return check(rest);
    case 'ctl':
      return (await import('./admin/ctl.ts')).ctlMain(rest);
    case 'reloader':
      return (await import('./reloader/main.ts')).reloaderMain(rest);
    case 'demo':
      return demo(rest);
    case '-v':
    case '--version':
      process.stdout.write(`${VERSION}\n`);
      return 0;
    case undefined:
    case '-h':
    case '--help':
    case 'help':
      process.stdout.write(USAGE);
      return command === undefined ? 2 : 0;
    default:
      throw new UsageError(`unknown command "${command}"\n\n${USAGE}`);
  }
}

main(process.argv.slice(2)).then(
  (code) => {
    // undefined: a long-running command owns the process and decides when it exits.
    if (code !== undefined) process.exitCode = code;
  },
  (err: unknown) => {
    if (err instanceof ReverseProxyError || (err as { code?: string }).code?.startsWith('ERR_PARSE_ARGS')) {
      process.stderr.write(`reverse-proxy: ${(err as Error).message}\n`);
      process.exitCode = err instanceof ReverseProxyError && err.code !== 'ERR_USAGE' ? 1 : 2;
    } else {
      process.stderr.write(`reverse-proxy: unexpected error: ${(err as Error).stack ?? String(err)}\n`);
      process.exitCode = 70;
    }
  },
);
