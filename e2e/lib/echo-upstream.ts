// The demo upstream both e2e stages put behind the proxy: plain JavaScript run with `node -e`,
// so it runs the same as a host process and inside the image (which holds no e2e files).
// It answers every request with its NAME; `/slow?ms=N` answers after N ms (an in-flight request
// to watch a drain finish). It prints `listening <port>` once bound.
export const ECHO_UPSTREAM_JS = `
const http = require('node:http');
const name = process.env.NAME || 'upstream';
const server = http.createServer((req, res) => {
  const url = new URL(req.url, 'http://x');
  const ms = url.pathname === '/slow' ? Number(url.searchParams.get('ms') || 1000) : 0;
  setTimeout(() => res.end(name + '\\n'), ms);
});
server.listen(Number(process.env.PORT || 0), process.env.HOST || '127.0.0.1', () => console.log('listening ' + server.address().port));
process.on('SIGTERM', () => server.close(() => process.exit(0)));
`;
