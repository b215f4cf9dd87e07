import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import YAML from 'yaml';
import { createMetrics } from '../../src/observability/metrics';
import { generateRules } from '../../src/slo/rules';
import { parseDuration } from '../../src/topology/duration';
import { loadTopology } from '../../src/topology/load';
import { envNamesReadByCode } from '../helpers/env-names';

// The compose, Kubernetes and Grafana files cannot run here (no Docker, no cluster), so they
// are held to the code by parsing: env names the code reads, the metrics port, metric names
// that exist, and a Kubernetes topology equal to the one in topologies/.

const ROOT = path.resolve(__dirname, '../..');
const DIRS = ['deploy/compose', 'deploy/k8s', 'deploy/grafana'];
const DESIGN_ENV = ['KAFKA_BROKERS', 'SCHEMA_REGISTRY_URL', 'REDIS_URL', 'TRACKLANE_PSEUDONYM_KEYS', 'TRACKLANE_METRICS_PORT', 'LOG_LEVEL'];

// Parsed YAML/JSON of known shape: indexed freely, and the assertions say what is expected.
type Doc = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

function filesUnder(dir: string): string[] {
  return fs.readdirSync(path.join(ROOT, dir), { withFileTypes: true }).flatMap((e) => {
    const rel = path.posix.join(dir, e.name);
    return e.isDirectory() ? filesUnder(rel) : [rel];
  });
}
const FILES = DIRS.flatMap(filesUnder);
const read = (rel: string) => fs.readFileSync(path.join(ROOT, rel), 'utf8');

function yamlDocs(rel: string): Doc[] {
  return YAML.parseAllDocuments(read(rel), { merge: true }).map((d) => {
    if (d.errors.length) throw new Error(`${rel}: ${d.errors.map((e) => e.message).join('; ')}`);
    return d.toJS({ maxAliasCount: 100 }) as Doc;
  });
}
const YAML_FILES = FILES.filter((f) => /\.ya?ml$/.test(f));
const JSON_FILES = FILES.filter((f) => f.endsWith('.json'));
const docsOf = (dir: string) => YAML_FILES.filter((f) => f.startsWith(dir + '/')).flatMap((f) => yamlDocs(f).filter(Boolean).map((doc) => ({ file: f, doc })));

/** The default of --metrics-port, as the CLI defines it. */
function defaultMetricsPort(): number {
  const m = /TRACKLANE_METRICS_PORT\s*\?\?\s*'(\d+)'/.exec(fs.readFileSync(path.join(ROOT, 'src/cli/run.ts'), 'utf8'));
  if (!m) throw new Error('src/cli/run.ts no longer defaults TRACKLANE_METRICS_PORT; update this test');
  return Number(m[1]);
}

/** Metric names Prometheus sees: registered names, plus _bucket/_sum/_count for histograms. */
function exposedMetricNames(): Set<string> {
  const metrics = createMetrics('deploy-test', ['region']);
  const names = new Set<string>();
  for (const metric of metrics.registry.getMetricsAsArray()) {
    const { name, type } = metric as unknown as { name: string; type: string };
    names.add(name);
    if (type === 'histogram') for (const s of ['_bucket', '_sum', '_count']) names.add(name + s);
    if (type === 'summary') for (const s of ['_sum', '_count']) names.add(name + s);
  }
  return names;
}

function unknownMetrics(text: string, known: Set<string>): string[] {
  return [...new Set([...text.matchAll(/tracklane_[a-z_]+/g)].map((m) => m[0]))].filter((n) => !known.has(n)).sort();
}

async function waitForFile(rel: string, timeoutMs: number): Promise<string> {
  const deadline = Date.now() + timeoutMs;
  while (!fs.existsSync(path.join(ROOT, rel))) {
    if (Date.now() > deadline) throw new Error(`${rel} does not exist (waited ${timeoutMs / 1000}s)`);
    await new Promise((r) => setTimeout(r, 1000));
  }
  return read(rel);
}

describe('deploy files', () => {
  const codeEnv = envNamesReadByCode();
  const port = defaultMetricsPort();
  const known = exposedMetricNames();
  const compose = yamlDocs('deploy/compose/docker-compose.yaml')[0];
  const k8s = docsOf('deploy/k8s');
  const byKind = (kind: string) => k8s.filter((d) => d.doc.kind === kind).map((d) => d.doc);
  const tracklaneServices = Object.entries(compose.services as Record<string, Doc>).filter(([, s]) => String(s.build?.dockerfile ?? '').endsWith('deploy/compose/Dockerfile'));

  it('every YAML (all documents) and JSON file parses', () => {
    expect(YAML_FILES.length).toBeGreaterThan(10);
    expect(JSON_FILES.length).toBe(3);
    for (const f of YAML_FILES) expect(() => yamlDocs(f)).not.toThrow();
    for (const f of JSON_FILES) expect(() => JSON.parse(read(f))).not.toThrow();
  });

  it('the code reads every DESIGN.md env name (sanity check of the scan)', () => {
    for (const name of DESIGN_ENV) expect(codeEnv).toContain(name);
  });

  it('compose gives Tracklane only env names the code reads, and all of DESIGN.md section 3', () => {
    expect(tracklaneServices.map(([n]) => n).sort()).toEqual(['tracklane', 'tracklane-init', 'tracklane-rules']);
    for (const [name, service] of tracklaneServices) {
      const env = Object.keys(service.environment ?? {});
      expect({ service: name, unknown: env.filter((e) => !codeEnv.has(e)) }).toEqual({ service: name, unknown: [] });
    }
    const run = compose.services.tracklane as Doc;
    expect(Object.keys(run.environment).sort()).toEqual([...DESIGN_ENV].sort());
  });

  it('Kubernetes gives Tracklane only env names the code reads, and all of DESIGN.md section 3', () => {
    const deployment = byKind('Deployment')[0];
    const spec = deployment.spec.template.spec;
    const containers: Doc[] = [...(spec.initContainers ?? []), ...spec.containers];
    const configMaps = new Map(byKind('ConfigMap').map((c) => [c.metadata.name, c]));
    const secrets = new Map(byKind('Secret').map((s) => [s.metadata.name, s]));
    const names = new Set<string>();
    for (const c of containers) {
      for (const e of c.env ?? []) names.add(e.name);
      for (const from of c.envFrom ?? []) {
        if (from.configMapRef) {
          const cm = configMaps.get(from.configMapRef.name);
          expect(cm).toBeDefined();
          Object.keys(cm!.data).forEach((k) => names.add(k));
        }
        if (from.secretRef) {
          const secret = secrets.get(from.secretRef.name);
          expect(secret).toBeDefined(); // secret.example.yaml documents it
          Object.keys({ ...secret!.data, ...secret!.stringData }).forEach((k) => names.add(k));
        }
      }
    }
    for (const so of byKind('ScaledObject')) {
      for (const t of so.spec.triggers) for (const [k, v] of Object.entries(t.metadata)) if (k.endsWith('FromEnv')) names.add(String(v));
    }
    expect([...names].filter((n) => !codeEnv.has(n))).toEqual([]);
    for (const name of DESIGN_ENV) expect(names).toContain(name);
  });

  it(`every Tracklane port is the default metrics port`, () => {
    expect(port).toBe(9464);
    const run = compose.services.tracklane as Doc;
    expect(run.ports).toEqual([`${port}:${port}`]);
    expect(Number(run.environment.TRACKLANE_METRICS_PORT)).toBe(port);
    expect(run.healthcheck.test.join(' ')).toContain(`:${port}/readyz`);
    const prometheus = yamlDocs('deploy/compose/prometheus.yml')[0];
    const targets = prometheus.scrape_configs.flatMap((s: Doc) => s.static_configs.flatMap((c: Doc) => c.targets));
    expect(targets).toEqual([`tracklane:${port}`]);
    expect(read('deploy/compose/Dockerfile')).toMatch(new RegExp(`^EXPOSE ${port}$`, 'm'));

    const env = byKind('ConfigMap').find((c) => c.metadata.name === 'tracklane-env')!;
    expect(Number(env.data.TRACKLANE_METRICS_PORT)).toBe(port);
    const container = byKind('Deployment')[0].spec.template.spec.containers[0];
    const named = new Map<string, number>(container.ports.map((p: Doc) => [p.name, p.containerPort]));
    expect([...named.values()]).toEqual([port]);
    const resolve = (p: string | number) => (typeof p === 'number' ? p : named.get(p));
    for (const probe of ['startupProbe', 'livenessProbe', 'readinessProbe']) expect(resolve(container[probe].httpGet.port)).toBe(port);
    expect(container.livenessProbe.httpGet.path).toBe('/healthz');
    expect(container.readinessProbe.httpGet.path).toBe('/readyz');
    const service = byKind('Service')[0];
    for (const p of service.spec.ports) {
      expect(p.port).toBe(port);
      expect(resolve(p.targetPort)).toBe(port);
    }
    const monitor = byKind('ServiceMonitor')[0];
    expect(monitor.spec.endpoints.map((e: Doc) => e.port)).toEqual(service.spec.ports.map((p: Doc) => p.name));
  });

  it('dashboards and the Prometheus config name only metrics that exist', () => {
    for (const f of [...JSON_FILES, 'deploy/compose/prometheus.yml']) {
      expect({ file: f, unknown: unknownMetrics(read(f), known) }).toEqual({ file: f, unknown: [] });
    }
    // The check bites: a misspelt or removed metric is reported.
    expect(unknownMetrics('rate(tracklane_events_enriched_total[5m]) / tracklane_event_latency_seconds_bucket', known)).toEqual(['tracklane_event_latency_seconds_bucket']);
  });

  it('each dashboard shows what it is for, through a datasource template variable', () => {
    const uses = (f: string) => new Set([...read(f).matchAll(/tracklane_[a-z_]+/g)].map((m) => m[0]));
    const want: Record<string, string[]> = {
      'deploy/grafana/executive.json': ['tracklane_slo_error_budget_remaining', 'tracklane_sli_ratio'],
      'deploy/grafana/on-call.json': ['tracklane_slo_burn_rate', 'tracklane_slo_alert_firing', 'tracklane_events_dead_lettered_total', 'tracklane_consumer_lag'],
      'deploy/grafana/debug.json': ['tracklane_stage_seconds_bucket', 'tracklane_events_dead_lettered_total', 'tracklane_event_delivery_latency_seconds_bucket', 'tracklane_clock_skew_seconds_bucket'],
    };
    expect(Object.keys(want).sort()).toEqual([...JSON_FILES].sort());
    const uids = new Set<string>();
    for (const [file, metrics] of Object.entries(want)) {
      for (const m of metrics) expect({ file, metric: m, used: uses(file).has(m) }).toEqual({ file, metric: m, used: true });
      const dash = JSON.parse(read(file)) as Doc;
      uids.add(dash.uid);
      const dsVar = dash.templating.list.find((v: Doc) => v.type === 'datasource');
      expect(dsVar).toMatchObject({ name: 'datasource', query: 'prometheus' });
      for (const p of dash.panels.filter((x: Doc) => x.type !== 'row')) {
        expect({ panel: p.title, ds: p.datasource?.uid }).toEqual({ panel: p.title, ds: '${datasource}' });
        for (const t of p.targets) expect(t.datasource.uid).toBe('${datasource}');
        expect(p.targets.length).toBeGreaterThan(0);
      }
    }
    expect(uids.size).toBe(3);
  });

  it('the Kubernetes ConfigMaps hold topologies/checkout.yaml and its schema, mounted where the topology finds them', async () => {
    const topology = await waitForFile('topologies/checkout.yaml', 120_000);
    const schema = read('schemas/checkout-event.avsc');
    const cms = new Map(byKind('ConfigMap').map((c) => [c.metadata.name, c]));
    expect(cms.get('tracklane-topology')!.data['checkout.yaml']).toBe(topology);
    expect(cms.get('tracklane-schemas')!.data['checkout-event.avsc']).toBe(schema);

    const spec = byKind('Deployment')[0].spec.template.spec;
    const volumes = new Map<string, string>(spec.volumes.map((v: Doc) => [v.name, v.configMap.name]));
    for (const c of [...spec.initContainers, ...spec.containers]) {
      const mounts = Object.fromEntries(c.volumeMounts.map((m: Doc) => [m.mountPath, volumes.get(m.name)]));
      expect(mounts).toEqual({ '/topologies': 'tracklane-topology', '/schemas': 'tracklane-schemas' });
      expect(c.command.join(' ')).toMatch(/ -t \/topologies\/checkout\.yaml$/);
    }
    // The same layout on disk loads (the topology names its schema as ../schemas/...).
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tracklane-k8s-'));
    try {
      fs.mkdirSync(path.join(dir, 'topologies'));
      fs.mkdirSync(path.join(dir, 'schemas'));
      fs.writeFileSync(path.join(dir, 'topologies/checkout.yaml'), cms.get('tracklane-topology')!.data['checkout.yaml']);
      fs.writeFileSync(path.join(dir, 'schemas/checkout-event.avsc'), cms.get('tracklane-schemas')!.data['checkout-event.avsc']);
      const loaded = loadTopology(path.join(dir, 'topologies/checkout.yaml'));
      const so = byKind('ScaledObject')[0];
      const trigger = so.spec.triggers.find((t: Doc) => t.type === 'kafka');
      expect(trigger.metadata.consumerGroup).toBe(loaded.name); // the engine's consumer group
      expect(loaded.sources.map((s) => s.topic)).toContain(trigger.metadata.topic);
      expect(Number(trigger.metadata.lagThreshold)).toBeGreaterThan(0);
      expect(so.spec.maxReplicaCount).toBeLessThanOrEqual(Math.max(...loaded.sources.map((s) => s.partitions)));
      expect(so.spec.scaleTargetRef.name).toBe(byKind('Deployment')[0].metadata.name);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('kustomization lists every manifest except the example Secret', () => {
    const kustomization = yamlDocs('deploy/k8s/kustomization.yaml')[0];
    const manifests = YAML_FILES.filter((f) => f.startsWith('deploy/k8s/')).map((f) => path.basename(f)).filter((f) => f !== 'kustomization.yaml' && f !== 'secret.example.yaml');
    expect([...kustomization.resources].sort()).toEqual(manifests.sort());
    const kinds = k8s.map((d) => d.doc.kind);
    for (const kind of ['Deployment', 'ConfigMap', 'Secret', 'Service', 'ServiceMonitor', 'PodDisruptionBudget', 'ScaledObject', 'PrometheusRule']) expect(kinds).toContain(kind);
    const deployment = byKind('Deployment')[0];
    for (const c of deployment.spec.template.spec.containers) expect(c.resources.requests && c.resources.limits).toBeTruthy();
  });

  it('KEDA owns the replica count: no `replicas:` on a Deployment a ScaledObject scales', () => {
    const scaled = new Set(byKind('ScaledObject').map((so) => so.spec.scaleTargetRef.name));
    expect(scaled.size).toBeGreaterThan(0);
    for (const d of byKind('Deployment').filter((x) => scaled.has(x.metadata.name))) {
      expect({ deployment: d.metadata.name, replicas: d.spec.replicas }).toEqual({ deployment: d.metadata.name, replicas: undefined });
    }
  });

  it('the ServiceMonitor and the PrometheusRule carry the release label that kustomization.yaml sets in one place', () => {
    const kustomization = yamlDocs('deploy/k8s/kustomization.yaml')[0];
    const patch = (kustomization.patches as Doc[]).find((p) => p.target?.group === 'monitoring.coreos.com');
    expect(patch).toBeDefined();
    expect(patch!.target.kind).toBeUndefined(); // every monitoring.coreos.com object
    const ops = YAML.parse(patch!.patch) as Doc[];
    expect(ops).toEqual([{ op: 'add', path: '/metadata/labels/release', value: expect.any(String) }]);
    const release = ops[0].value as string;
    const monitoring = k8s.filter((d) => String(d.doc.apiVersion).startsWith('monitoring.coreos.com/'));
    expect(monitoring.map((d) => d.doc.kind).sort()).toEqual(['PrometheusRule', 'ServiceMonitor']);
    // the files say the same without kustomize (kubectl apply -f, the docs' pipe)
    for (const { file, doc } of monitoring) expect({ file, release: doc.metadata.labels?.release }).toEqual({ file, release });
  });

  it('prometheusrule.yaml is `tracklane rules --format prometheusrule` of topologies/checkout.yaml at the ServiceMonitor interval', () => {
    const [rule] = yamlDocs('deploy/k8s/prometheusrule.yaml');
    const interval = byKind('ServiceMonitor')[0].spec.endpoints[0].interval as string;
    const generated = generateRules(loadTopology(path.join(ROOT, 'topologies/checkout.yaml')), {
      format: 'prometheusrule', scrapeIntervalMs: parseDuration(interval), release: rule.metadata.labels.release,
    });
    expect(rule).toEqual(YAML.parse(generated.yaml));
    // and docs/deploy.md shows the pipe into the cluster
    expect(read('docs/deploy.md')).toMatch(/tracklane(?:\.js)? rules -t \S+ --format prometheusrule[^\n]*\| kubectl (?:-n \S+ )?apply -f -/);
  });

  it('compose runs what the brief asks: KRaft Kafka, Apicurio ccompat, Redis with an append-only file, the rules, the dashboards', () => {
    const s = compose.services as Record<string, Doc>;
    expect(s.kafka.image).toMatch(/^apache\/kafka:4\./);
    expect(s.kafka.environment.KAFKA_PROCESS_ROLES).toBe('broker,controller');
    expect(s.registry.image).toMatch(/^apicurio\/apicurio-registry:3\./);
    expect(s.tracklane.environment.SCHEMA_REGISTRY_URL).toMatch(/\/apis\/ccompat\/v7$/);
    expect(s.redis.command.join(' ')).toContain('--appendonly yes');
    expect(s.tracklane.command).toEqual(['node', 'bin/tracklane.js', 'run', '-t', '/topologies/checkout.yaml']);
    expect(s['tracklane-rules'].command.join(' ')).toContain('tracklane.js rules -t /topologies/checkout.yaml');
    expect(s.prometheus.volumes).toContain('./prometheus.yml:/etc/prometheus/prometheus.yml:ro');
    expect(s.grafana.volumes).toContain('../grafana:/var/lib/grafana/dashboards/tracklane:ro');
    const dockerfile = read('deploy/compose/Dockerfile');
    expect(dockerfile).toMatch(/^FROM node:20-slim/m);
    expect(dockerfile).toContain('RUN npm ci');
    expect(dockerfile).toContain('RUN npm run build');
    expect(dockerfile).toContain('CMD ["node", "bin/tracklane.js", "run", "-t", "/topologies/checkout.yaml"]');
  });

  it('names no machine-absolute paths or registry hosts', () => {
    for (const f of FILES) {
      const text = read(f);
      expect({ f, home: /\/(?:home|Users|root|work)\//.test(text) }).toEqual({ f, home: false });
      expect({ f, hosts: /registry\.npmjs|docker\.io|quay\.io|ghcr\.io/.test(text) }).toEqual({ f, hosts: false });
    }
  });
});
