#!/usr/bin/env bash
# Checks the deployment files without a cluster or a Docker engine: the Kubernetes manifests
# against the API schemas (kubernetes-validate from PyPI, in a venv, schemas bundled) and the
# fields the app relies on (scripts/check-deploy.py), the Prometheus rules with promtool (Debian's
# prometheus package) including their unit tests, and the Grafana dashboard as JSON.
set -euo pipefail
source "$(dirname "$0")/common.sh"
cd "$ROOT"

venv="$HOME/.cache/insightops-deploy-venv"
if [ ! -x "$venv/bin/kubernetes-validate" ]; then
  say "installing kubernetes-validate into $venv"
  python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet --disable-pip-version-check "kubernetes-validate==1.37.0"
fi
say "Kubernetes manifests: schemas (1.31, strict) and required fields"
"$venv/bin/kubernetes-validate" --strict --kubernetes-version 1.31.0 deploy/k8s/configmap.yaml deploy/k8s/secret.example.yaml \
  deploy/k8s/deployment.yaml deploy/k8s/service.yaml deploy/k8s/migration-job.yaml deploy/k8s/hpa.yaml
"$venv/bin/python" scripts/check-deploy.py

command -v promtool >/dev/null || apt_install prometheus
say "Prometheus rules"
promtool check rules deploy/prometheus/insightops-rules.yml
(cd deploy/prometheus && promtool test rules tests.yml)

python3 -c 'import json,sys; d=json.load(open("deploy/grafana/insightops-dashboard.json")); assert d["panels"], "no panels"; print("grafana dashboard:", len(d["panels"]), "panels")'
