// The chart's TLS wiring: `tls.secretName` mounts the kubernetes.io/tls Secret as a directory
// (never subPath, which kubelet never updates) in the proxy and the reloader, adds it to the
// reloader's watch, gives the proxy config an https listener with that certificate (accepted by
// the real config parser), and opens an https port on the container and the Service. The
// optional cert-manager Certificate writes that Secret. Strict values refuse mistakes.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { IVolumeMount } from 'kubernetes-models/v1';
import { CHART_DIR, type Manifest, chartParts, helm, helmTemplate, renderManifests } from './helpers/helm.ts';

const SITES = [{ host: ['shop.example.com', 'www.shop.example.com'], upstream: 'http://127.0.0.1:8081' }, { host: 'api.example.com', upstream: 'http://127.0.0.1:8082' }];
const TLS = { tls: { secretName: 'shop-tls' }, config: { sites: SITES } };
const CERT_MANAGER = { tls: { secretName: 'shop-tls', certManager: { enabled: true, issuerRef: { name: 'letsencrypt', kind: 'ClusterIssuer' }, renewBefore: '720h' } }, config: { sites: SITES } };

function find(manifests: Manifest[], kind: string): Manifest | undefined {
  return manifests.find((m) => m.kind === kind);
}

function parts(manifests: Manifest[]) {
  const { pod, container, service, config } = chartParts(manifests);
  return { pod, named: (name: string) => container(name)!, service, config };
}

describe('chart: tls', () => {
  test('off by default: no Secret volume, no https port, no certificates, no Certificate', async () => {
    const manifests = await renderManifests();
    const { pod, named, service, config } = parts(manifests);
    assert.equal(pod.volumes!.find((v) => v.secret), undefined);
    assert.deepEqual(named('proxy').ports!.map((p) => p.name), ['http']);
    assert.deepEqual(service.spec!.ports!.map((p) => p.name), ['http']);
    assert.deepEqual(config.certificates, []);
    assert.ok(config.listeners.every((l) => !l.tls));
    assert.equal(named('reloader').args!.filter((a) => a.startsWith('--watch=')).length, 1);
    assert.equal(find(manifests, 'Certificate'), undefined);
  });

  test('secretName: the Secret as a directory in both containers, watched, served on an https port', async () => {
    const { pod, named, service, config } = parts(await renderManifests(TLS));
    const volume = pod.volumes!.find((v) => v.secret?.secretName === 'shop-tls')?.name;
    assert.ok(volume, 'the Secret is a volume of the pod');
    for (const name of ['proxy', 'reloader']) {
      const mount: IVolumeMount | undefined = named(name).volumeMounts!.find((m) => m.name === volume);
      assert.deepEqual({ path: mount?.mountPath, readOnly: mount?.readOnly, subPath: mount?.subPath }, { path: '/etc/reverse-proxy-tls', readOnly: true, subPath: undefined }, `${name} mounts the Secret as a directory`);
    }
    assert.ok(named('reloader').args!.includes('--watch=/etc/reverse-proxy-tls'), 'the reloader watches the Secret directory');
    assert.deepEqual(named('proxy').ports!.map((p) => [p.name, p.containerPort]), [['http', 8080], ['https', 8443]]);
    assert.deepEqual(service.spec!.ports!.map((p) => [p.name, p.port, p.targetPort]), [['http', 80, 'http'], ['https', 443, 'https']]);
    assert.deepEqual(config.listeners, [{ address: '0.0.0.0', port: 8080, tls: false }, { address: '0.0.0.0', port: 8443, tls: true }]);
    assert.deepEqual(config.certificates.map((c) => [c.cert, c.key, c.default]), [['/etc/reverse-proxy-tls/tls.crt', '/etc/reverse-proxy-tls/tls.key', true]]);
    await helm(['lint', '--strict', CHART_DIR, '--set', 'tls.secretName=shop-tls']);
  });

  test('cert-manager: a Certificate that writes the mounted Secret, for every site host', async () => {
    const certificate = find(await renderManifests(CERT_MANAGER), 'Certificate') as Manifest & { spec: Record<string, unknown> };
    assert.ok(certificate, 'a Certificate is rendered');
    assert.equal(certificate.apiVersion, 'cert-manager.io/v1');
    assert.deepEqual(certificate.spec, {
      secretName: 'shop-tls',
      dnsNames: ['shop.example.com', 'www.shop.example.com', 'api.example.com'],
      issuerRef: { name: 'letsencrypt', kind: 'ClusterIssuer', group: 'cert-manager.io' },
      renewBefore: '720h',
    });
    const named = find(await renderManifests({ ...CERT_MANAGER, tls: { ...CERT_MANAGER.tls, certManager: { ...CERT_MANAGER.tls.certManager, dnsNames: ['only.example.com'] } } }), 'Certificate') as Manifest & { spec: { dnsNames: string[] } };
    assert.deepEqual(named.spec.dnsNames, ['only.example.com']);
  });

  test('refused: a Certificate without Secret or issuer, the http port twice, keys the schema does not know', async () => {
    const refused = async (values: Record<string, unknown>, message: RegExp) =>
      assert.rejects(helmTemplate(values), (err: { stderr?: string }) => {
        assert.match(err.stderr ?? '', message);
        return true;
      });
    await refused({ tls: { certManager: { enabled: true, issuerRef: { name: 'le' } } }, config: { sites: SITES } }, /needs tls\.secretName/);
    await refused({ tls: { secretName: 'shop-tls', certManager: { enabled: true } }, config: { sites: SITES } }, /needs tls\.certManager\.issuerRef\.name/);
    await refused({ tls: { secretName: 'shop-tls', port: 8080 } }, /tls\.port 8080 is config\.port too/);
    await refused({ tls: { secretName: 'shop-tls', subPath: 'tls.crt' } }, /subPath/);
    await refused({ tls: { secretName: 'Not_A_Name' } }, /secretName/);
    await refused({ tls: { secretName: 'shop-tls', certManager: { enabled: true, issuerRef: { name: 'le', kind: 'Cluster' } } } }, /kind/);
  });
});
