"""Checks what the app needs of its deployment files, beyond the API schemas: probes on the right
endpoints, a termination grace period longer than the configured drain + grace, resources, the
replica bounds, a migration Job, and a non-root, multi-stage Dockerfile with a health check."""
import pathlib
import sys
import tomllib

import yaml

root = pathlib.Path(__file__).resolve().parent.parent
k8s = root / "deploy" / "k8s"
problems = []


def check(condition, message):
    if not condition:
        problems.append(message)


def load(name):
    return list(yaml.safe_load_all((k8s / name).read_text()))[0]


config_map = load("configmap.yaml")
config = tomllib.loads(config_map["data"]["Leptos.toml"])
ops = config["ops"]
check(config["environment"] == "prod", "the ConfigMap configures prod")
check(config["database"]["migrate_on_start"] is False, "instances must not migrate on start (the Job does)")

deployment = load("deployment.yaml")
spec = deployment["spec"]
pod = spec["template"]["spec"]
container = pod["containers"][0]
check(spec["replicas"] == 2, "2 replicas")
check(spec["strategy"]["rollingUpdate"]["maxUnavailable"] == 0, "rolling updates keep every replica serving")
check(pod["terminationGracePeriodSeconds"] > ops["drain_seconds"] + ops["grace_seconds"],
      f"terminationGracePeriodSeconds {pod['terminationGracePeriodSeconds']} must exceed drain {ops['drain_seconds']} + grace {ops['grace_seconds']}")
check(container["readinessProbe"]["httpGet"]["path"] == "/api/health/ready", "readiness probe on /api/health/ready")
check(container["livenessProbe"]["httpGet"]["path"] == "/api/health/live", "liveness probe on /api/health/live")
check(container["readinessProbe"]["periodSeconds"] < ops["drain_seconds"], "readiness is polled more often than the drain lasts")
for kind in ("requests", "limits"):
    for resource in ("cpu", "memory"):
        check(resource in container["resources"].get(kind, {}), f"resources.{kind}.{resource}")
check(pod["securityContext"]["runAsNonRoot"] is True, "runs as non-root")
env = {e["name"]: e for e in container["env"]}
check(env["DATABASE_URL"]["valueFrom"]["secretKeyRef"]["name"] == "insightops-secrets", "DATABASE_URL from the Secret")
ports = {p["name"]: p["containerPort"] for p in container["ports"]}
check(ops["metrics_address"].endswith(f":{ports['metrics']}"), "the metrics port matches ops.metrics_address")

service = load("service.yaml")
check([p["targetPort"] for p in service["spec"]["ports"]] == ["http"], "the Service exposes the app port only, not metrics")

hpa = load("hpa.yaml")
check((hpa["spec"]["minReplicas"], hpa["spec"]["maxReplicas"]) == (2, 8), "HPA 2-8")
check(hpa["spec"]["scaleTargetRef"]["name"] == deployment["metadata"]["name"], "HPA targets the Deployment")

job = load("migration-job.yaml")
check(job["spec"]["template"]["spec"]["containers"][0]["args"] == ["migrate"], "the migration Job runs `migrate`")

dockerfile = (root / "Dockerfile").read_text()
check(dockerfile.count("\nFROM ") + dockerfile.startswith("FROM ") >= 2, "multi-stage Dockerfile")
check("\nUSER 10001" in dockerfile, "the image runs as a non-root user")
check("HEALTHCHECK" in dockerfile and "/api/health/live" in dockerfile, "the image has a health check")

if problems:
    print("deployment files:\n  " + "\n  ".join(problems), file=sys.stderr)
    sys.exit(1)
print("deployment files: every required field present")
