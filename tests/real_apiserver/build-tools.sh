#!/usr/bin/env bash
# Builds the real control plane for tests/real_apiserver from the pinned Go tools modules
# (tools/kube, tools/etcd, tools/kwok) into a cache outside the repository, keyed by version:
#   ${BREAKGLASS_TOOLS_CACHE:-$HOME/.cache/breakglass-tools}/k8s-v1.34.4-etcd-v3.6.17-kwok-v0.7.0/
# Prints that directory on stdout. A cached build is reused; nothing is committed.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
K8S=v1.34.4 ETCD=v3.6.17 KWOK=v0.7.0
out=${BREAKGLASS_TOOLS_CACHE:-$HOME/.cache/breakglass-tools}/k8s-$K8S-etcd-$ETCD-kwok-$KWOK
bins="kube-apiserver kube-controller-manager kube-scheduler etcd kwok"
# kwok's `Logs` CRD (per-pod log files, created by the tests) comes from the same module.
logs_crd=kwok.x-k8s.io_logs.yaml
have=1; for b in $bins; do [ -x "$out/$b" ] || have=0; done
[ -f "$out/$logs_crd" ] || have=0
if [ $have = 1 ]; then echo "$out"; exit 0; fi
command -v go >/dev/null || { echo "build-tools: no Go toolchain (go) on PATH" >&2; exit 1; }
mkdir -p "$out"
export CGO_ENABLED=0 GOFLAGS=-mod=readonly
maj=${K8S#v}; maj=${maj%%.*}; min=${K8S#v*.}; min=${min%%.*}
ld="-s -w -X k8s.io/component-base/version.gitVersion=$K8S -X k8s.io/component-base/version.gitMajor=$maj -X k8s.io/component-base/version.gitMinor=$min -X k8s.io/component-base/version.gitTreeState=clean"
build() { # dir, output name, package
  [ -x "$out/$2" ] && return 0
  echo "build-tools: building $2 ($1)" >&2
  (cd "$here/tools/$1" && go build -trimpath -ldflags "$4" -o "$out/$2.tmp" "$3") && mv "$out/$2.tmp" "$out/$2"
}
build kube kube-apiserver k8s.io/kubernetes/cmd/kube-apiserver "$ld"
build kube kube-controller-manager k8s.io/kubernetes/cmd/kube-controller-manager "$ld"
build kube kube-scheduler k8s.io/kubernetes/cmd/kube-scheduler "$ld"
build etcd etcd . "-s -w"
build kwok kwok sigs.k8s.io/kwok/cmd/kwok "-s -w -X sigs.k8s.io/kwok/pkg/consts.Version=$KWOK"
if [ ! -f "$out/$logs_crd" ]; then
  mod=$(cd "$here/tools/kwok" && go list -m -f '{{.Dir}}' sigs.k8s.io/kwok)
  cp "$mod/kustomize/crd/bases/$logs_crd" "$out/$logs_crd"
fi
echo "$out"
