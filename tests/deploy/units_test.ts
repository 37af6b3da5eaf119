/**
 * The deployment units of a fleet (deploy/): the systemd template unit passes `systemd-analyze verify` (where
 * systemd is installed) and gives each instance its shard index; the Kubernetes StatefulSet example parses, and
 * its essentials hold: as many replicas as the config's shard.count, each pod's name read by the real config
 * parser as its ordinal's shard index, a volume per pod at data_dir, secrets only from a Secret.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { parseAllDocuments } from "yaml";
import { parseConfig } from "../../lib/config.ts";

const DEPLOY = new URL("../../deploy/", import.meta.url).pathname;

// deno-lint-ignore no-explicit-any
type Doc = any;

async function k8sDocs(): Promise<Doc[]> {
  const docs = parseAllDocuments(await Deno.readTextFile(join(DEPLOY, "k8s", "statefulset.yaml")));
  for (const d of docs) assert.deepEqual(d.errors, [], String(d.errors));
  return docs.map((d) => d.toJS());
}

function only(docs: Doc[], kind: string): Doc {
  const found = docs.filter((d) => d.kind === kind);
  assert.equal(found.length, 1, `one ${kind}`);
  return found[0];
}

Deno.test("deploy/k8s/statefulset.yaml: ordinal = shard index, replicas = shard.count, a volume per pod at data_dir", async () => {
  const docs = await k8sDocs();
  const sts = only(docs, "StatefulSet");
  const configMap = only(docs, "ConfigMap");
  const service = only(docs, "Service");
  assert.equal(docs.filter((d) => d.kind === "Secret").length, 0, "no secret values in the repository");
  assert.equal(sts.spec.serviceName, service.metadata.name);
  assert.equal(service.spec.clusterIP, "None");
  assert.deepEqual(sts.spec.selector.matchLabels, sts.spec.template.metadata.labels);
  assert.deepEqual(service.spec.selector, sts.spec.template.metadata.labels);

  const pod = sts.spec.template.spec;
  assert.equal(pod.containers.length, 1);
  const c = pod.containers[0];
  const env = new Map<string, Doc>(c.env.map((e: Doc) => [e.name, e]));
  assert.deepEqual(env.get("COLLECTOR_SHARD_INDEX").valueFrom, { fieldRef: { fieldPath: "metadata.name" } });
  for (const secret of ["TELEGRAM_BOT_TOKEN", "DENO_KV_ACCESS_TOKEN"]) {
    assert.equal(env.get(secret).value, undefined, `${secret}: not a literal`);
    assert.equal(env.get(secret).valueFrom.secretKeyRef.key, secret);
  }

  // The config the pods read, parsed as the collector parses it, once per pod name.
  const [configPath] = c.args;
  const mounts = new Map<string, Doc>(c.volumeMounts.map((m: Doc) => [m.mountPath, m]));
  const configMount = mounts.get(configPath.slice(0, configPath.lastIndexOf("/")));
  const configVolume = pod.volumes.find((v: Doc) => v.name === configMount.name);
  assert.equal(configVolume.configMap.name, configMap.metadata.name);
  const text = configMap.data[configPath.slice(configPath.lastIndexOf("/") + 1)];
  const replicas = sts.spec.replicas;
  assert.ok(replicas >= 2);
  for (let ordinal = 0; ordinal < replicas; ordinal++) {
    const podName = `${sts.metadata.name}-${ordinal}`;
    const config = parseConfig(text, "config.yaml", {
      env: { get: (k) => (k === "COLLECTOR_SHARD_INDEX" ? podName : undefined) },
    });
    assert.deepEqual(config.shard, { index: ordinal, count: replicas, replicas: 1, name: `s${ordinal}` });
    assert.notEqual(config.cloudRemote, "", "the shards share a remote");
    // data_dir (and the ledger in it) on the pod's own volume.
    const dataMount = mounts.get(config.dataDir);
    assert.ok(dataMount, `a volume at data_dir ${config.dataDir}`);
    assert.deepEqual(sts.spec.volumeClaimTemplates.map((t: Doc) => t.metadata.name), [dataMount.name]);
    assert.ok(config.kvPath.startsWith(`${config.dataDir}/`));
  }
  // A pod beyond shard.count (replicas raised without the config) stops with a config error.
  const extra = `${sts.metadata.name}-${replicas}`;
  assert.throws(
    () =>
      parseConfig(text, "config.yaml", {
        env: { get: (k) => (k === "COLLECTOR_SHARD_INDEX" ? extra : undefined) },
      }),
    /shard\.index: \d+ must be below shard\.count/,
  );
  // Room for the last flush and heartbeat after SIGTERM, as the systemd unit gives.
  assert.ok(pod.terminationGracePeriodSeconds >= 120);
  assert.equal(c.securityContext.readOnlyRootFilesystem, true);
  assert.ok(
    mounts.has("/tmp"),
    "a writable /tmp (the fleet report reads the remote through a temp directory)",
  );
});

const SYSTEMD_UNITS = "/lib/systemd/system";
const canVerify = (() => {
  try {
    new Deno.Command("systemd-analyze", { args: ["--version"], stdout: "null", stderr: "null" }).outputSync();
    return Deno.statSync(SYSTEMD_UNITS).isDirectory;
  } catch {
    return false;
  }
})();

Deno.test({
  name: `deploy/binance-collector@.service: systemd-analyze verify passes for instances 0 and 7${
    canVerify ? "" : " (SKIPPED: systemd-analyze or the system units are not installed here)"
  }`,
  ignore: !canVerify,
  fn: async () => {
    // A root with the unit, a stand-in executable at its ExecStart path, and the host's system units.
    const root = await Deno.makeTempDir({ prefix: "systemd_" });
    try {
      await Deno.mkdir(join(root, "etc/systemd/system"), { recursive: true });
      await Deno.mkdir(join(root, "opt/binance-collector"), { recursive: true });
      await Deno.mkdir(join(root, "usr/lib/systemd"), { recursive: true });
      await Deno.symlink(SYSTEMD_UNITS, join(root, "usr/lib/systemd/system"));
      const unit = await Deno.readTextFile(join(DEPLOY, "binance-collector@.service"));
      await Deno.writeTextFile(join(root, "etc/systemd/system/binance-collector@.service"), unit);
      const exec = /^ExecStart=(\S+)/m.exec(unit)![1]!;
      await Deno.writeTextFile(join(root, exec), "#!/bin/sh\n");
      await Deno.chmod(join(root, exec), 0o755);
      for (const instance of ["0", "7"]) {
        const out = await new Deno.Command("systemd-analyze", {
          args: ["verify", "--man=no", `--root=${root}`, `binance-collector@${instance}.service`],
          stdout: "piped",
          stderr: "piped",
        }).output();
        const said = new TextDecoder().decode(out.stderr) + new TextDecoder().decode(out.stdout);
        assert.equal(out.code, 0, said);
        assert.equal(said.trim(), "", "no warnings");
      }
      // Broken on purpose, it fails: the check sees the unit.
      await Deno.writeTextFile(
        join(root, "etc/systemd/system/binance-collector@.service"),
        unit.replace("KillMode=mixed", "KillMode=sometimes"),
      );
      const bad = await new Deno.Command("systemd-analyze", {
        args: ["verify", "--man=no", `--root=${root}`, "binance-collector@0.service"],
        stdout: "piped",
        stderr: "piped",
      }).output();
      assert.match(new TextDecoder().decode(bad.stderr), /:\d+: Failed to parse kill mode specification/);
    } finally {
      await Deno.remove(root, { recursive: true });
    }
  },
});

Deno.test("deploy/binance-collector@.service: the instance is the shard index, with the single unit's settings", async () => {
  const template = await Deno.readTextFile(join(DEPLOY, "binance-collector@.service"));
  const single = await Deno.readTextFile(join(DEPLOY, "binance-collector.service"));
  assert.match(template, /^Environment=COLLECTOR_SHARD_INDEX=%i$/m);
  const settings = (unit: string) =>
    unit.split("\n").filter((l) =>
      /^(ExecStart|User|WorkingDirectory|KillSignal|KillMode|TimeoutStopSec|Restart\w*|ReadWritePaths|EnvironmentFile|LimitNOFILE)=/
        .test(l)
    );
  assert.deepEqual(settings(template), settings(single));
  // What %i gives, read by the config parser: instance 2 of a three-shard config.
  const config = parseConfig("shard:\n  count: 3\ndata_dir: data/{shard}\n", "config.yaml", {
    env: { get: (k) => (k === "COLLECTOR_SHARD_INDEX" ? "2" : undefined) },
  });
  assert.equal(config.shard?.index, 2);
  assert.equal(config.dataDir, "data/s2");
});
