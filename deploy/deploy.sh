#!/usr/bin/env bash
# Deploys (or removes) ossguard in every region of OSSGUARD_REGIONS with Serverless Devs.
#
#   OSSGUARD_REGIONS="cn-hangzhou cn-beijing" deploy/deploy.sh [deploy|remove] [extra `s` flags]
#
# The first region is the home region (OSSGUARD_HOME_REGION): the trail's SLS project, and so trail-guard,
# whose log trigger must read a project of its own region (F-FC-LOGTRIGGER-SAME-REGION), and the other
# regionless functions live there. Every listed region whose EventBridge bus receives OSS events
# (deploy/eventbridge-oss-regions.json, F-EVENTBRIDGE-OSS-REGIONS) also gets the EventBridge fast-path
# functions: the resources whose region follows OSSGUARD_REGION, found by rendering s.yaml with a marker
# region. A region without OSS events on its bus gets none: the trail covers it. The home region's run
# carries the pre-deploy actions (build, `ossguard bootstrap`); the others skip them.
set -euo pipefail

command=${1:-deploy}
shift || true
case "$command" in deploy | remove) ;; *) echo "usage: $0 [deploy|remove] [s flags]" >&2; exit 2 ;; esac

read -r -a regions <<<"$(tr ',' ' ' <<<"${OSSGUARD_REGIONS:-cn-hangzhou}")"
template=${OSSGUARD_S_YAML:-s.yaml}
# Tests point this at `node <path of the s CLI>`; people use the project's own dev dependency.
read -r -a s <<<"${OSSGUARD_S:-npx --no-install s}"

home=${OSSGUARD_HOME_REGION:-${regions[0]}}
export OSSGUARD_HOME_REGION=$home

marker=ossguard-every-region
# One rendering (each `s` run costs about a second): the regional resources on its first line, the others
# on its second.
rendered=$(
  OSSGUARD_REGION=$marker "${s[@]}" preview -t "$template" -o json --silent |
    node -e '
      let text = "";
      process.stdin.on("data", (d) => (text += d)).on("end", () => {
        const { resources = {} } = JSON.parse(text);
        const regional = (r) => resources[r].props?.region === process.argv[1];
        console.log(Object.keys(resources).filter(regional).join(" "));
        console.log(Object.keys(resources).filter((r) => !regional(r)).join(" "));
      });' "$marker"
)
regional=$(sed -n 1p <<<"$rendered")
read -r -a home_only <<<"$(sed -n 2p <<<"$rendered")"

supported() {
  node -e 'process.exit(require(process.argv[1]).includes(process.argv[2]) ? 0 : 1)' \
    "$(cd "$(dirname "$0")" && pwd)/eventbridge-oss-regions.json" "$1"
}

others=()
for region in "${regions[@]}"; do [[ $region == "$home" ]] || others+=("$region"); done

run() { echo "+ OSSGUARD_REGION=$1 s ${*:2}" >&2; OSSGUARD_REGION=$1 "${s[@]}" "${@:2}"; }
skip() { echo "ossguard: $1 receives no OSS events on EventBridge; the trail's logstore (trail-guard in $home) covers it" >&2; }

deploy_home() {
  if supported "$home"; then
    run "$home" deploy -y -t "$template" "$@"
    return
  fi
  skip "$home"
  local actions=()
  for resource in "${home_only[@]}"; do
    run "$home" "$resource" deploy -y "${actions[@]}" -t "$template" "$@"
    actions=(--skip-actions)
  done
}

remove_home() {
  if supported "$home"; then
    run "$home" remove -y -t "$template" "$@"
    return
  fi
  for resource in "${home_only[@]}"; do run "$home" "$resource" remove -y -t "$template" "$@"; done
}

if [[ $command == deploy ]]; then
  deploy_home "$@"
  for region in "${others[@]}"; do
    if ! supported "$region"; then skip "$region"; continue; fi
    for resource in $regional; do run "$region" "$resource" deploy -y --skip-actions -t "$template" "$@"; done
  done
else
  for region in "${others[@]}"; do
    supported "$region" || continue
    for resource in $regional; do run "$region" "$resource" remove -y -t "$template" "$@"; done
  done
  remove_home "$@"
fi
