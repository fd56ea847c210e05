#!/usr/bin/env bash
# Deploys (or removes) ossguard in every region of OSSGUARD_REGIONS with Serverless Devs.
#
#   OSSGUARD_REGIONS="cn-hangzhou cn-beijing" deploy/deploy.sh [deploy|remove] [extra `s` flags]
#
# s.yaml describes one region per run (`${env('OSSGUARD_REGION')}`): Serverless Devs 3 has no loops, and
# copying each function's block per region would repeat it. The first region's run is a plain `s deploy`:
# its pre-deploy actions build the bundles and run `ossguard bootstrap`, and it deploys every resource,
# including those pinned to one region (access-key-guard in cn-shanghai). The other regions deploy only the
# resources whose region follows OSSGUARD_REGION, found by rendering s.yaml with a marker region.
set -euo pipefail

command=${1:-deploy}
shift || true
case "$command" in deploy | remove) ;; *) echo "usage: $0 [deploy|remove] [s flags]" >&2; exit 2 ;; esac

read -r -a regions <<<"$(tr ',' ' ' <<<"${OSSGUARD_REGIONS:-cn-hangzhou}")"
template=${OSSGUARD_S_YAML:-s.yaml}
# Tests point this at `node <path of the s CLI>`; people use the project's own dev dependency.
read -r -a s <<<"${OSSGUARD_S:-npx --no-install s}"

marker=ossguard-every-region
regional=$(
  OSSGUARD_REGION=$marker "${s[@]}" preview -t "$template" -o json --silent |
    node -e '
      let text = "";
      process.stdin.on("data", (d) => (text += d)).on("end", () => {
        const { resources = {} } = JSON.parse(text);
        const names = Object.keys(resources).filter((r) => resources[r].props?.region === process.argv[1]);
        console.log(names.join(" "));
      });' "$marker"
)

first=${regions[0]}
others=("${regions[@]:1}")

run() { echo "+ OSSGUARD_REGION=$1 s ${*:2}" >&2; OSSGUARD_REGION=$1 "${s[@]}" "${@:2}"; }

if [[ $command == deploy ]]; then
  run "$first" deploy -y -t "$template" "$@"
  for region in "${others[@]}"; do
    for resource in $regional; do run "$region" "$resource" deploy -y --skip-actions -t "$template" "$@"; done
  done
else
  for region in "${others[@]}"; do
    for resource in $regional; do run "$region" "$resource" remove -y -t "$template" "$@"; done
  done
  run "$first" remove -y -t "$template" "$@"
fi
