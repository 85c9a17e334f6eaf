// skaffold.yaml points at things that exist: the Dockerfile, the chart, and chart values that
// accept what skaffold substitutes (image repo, tag@digest, and the local profile's values).
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { parse } from 'yaml';
import { REPO_ROOT, renderManifests } from './helpers/helm.ts';

interface Skaffold {
  build: { artifacts: { image: string; context: string; docker: { dockerfile: string } }[] };
  deploy: { helm: { releases: { chartPath: string; setValueTemplates: Record<string, string> }[] } };
  profiles: { name: string; patches: { path: string; value: unknown }[] }[];
}

const skaffold = parse(readFileSync(join(REPO_ROOT, 'skaffold.yaml'), 'utf8')) as Skaffold;

test('skaffold builds the Dockerfile and deploys the chart with the image it built', async () => {
  const [artifact] = skaffold.build.artifacts;
  const [release] = skaffold.deploy.helm.releases;
  assert.ok(artifact && release);
  assert.ok(existsSync(join(REPO_ROOT, artifact.context, artifact.docker.dockerfile)));
  assert.ok(existsSync(join(REPO_ROOT, release.chartPath, 'Chart.yaml')));

  // Skaffold's template keys replace "-" in the image name with "_".
  const key = artifact.image.replaceAll('-', '_');
  assert.equal(release.setValueTemplates['image.repository'], `{{.IMAGE_REPO_${key}}}`);
  assert.equal(release.setValueTemplates['image.tag'], `{{.IMAGE_TAG_${key}}}@{{.IMAGE_DIGEST_${key}}}`);

  const local = skaffold.profiles.find((p) => p.name === 'local');
  const localValues = local?.patches.find((p) => p.path.endsWith('/setValues'))?.value as Record<string, unknown>;
  const digest = `sha256:${'0'.repeat(64)}`;
  const manifests = await renderManifests({
    image: { repository: 'registry.example/reverse-proxy', tag: `abc1234@${digest}`, pullPolicy: localValues['image.pullPolicy'] },
    replicaCount: localValues.replicaCount,
  });
  const deployment = manifests.find((m) => m.kind === 'Deployment') as { spec: { template: { spec: { containers: { image: string }[] } } } } | undefined;
  assert.equal(deployment?.spec.template.spec.containers[0]?.image, `registry.example/reverse-proxy:abc1234@${digest}`);
});
