#!/usr/bin/env bash
# Checks docker/ without a Docker engine: both compose profiles resolve (`docker-compose
# config`, with the values `make up` writes to docker/.env), the several-server profile has
# its object store, bucket job, replicas and proxy, and no image anywhere is `latest` or
# unversioned.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/need.sh docker-compose
env_file=$(mktemp)
trap 'rm -f "$env_file"' EXIT
printf 'GALLERY_JWT_SECRET=%s\nGALLERY_PUBLIC_URL=http://localhost:8080\nGALLERY_S3_SECRET_KEY=%s\n' \
  check-only check-only >"$env_file"
compose() { docker-compose -f docker/docker-compose.yml --env-file "$env_file" "$@"; }
for profile in single several; do
  compose --profile "$profile" config --quiet
done
services=" $(compose --profile several config --services | tr '\n' ' ')"
for service in db objects bucket gallery-1 gallery-2 proxy; do
  [[ $services == *" $service "* ]] || { echo "compose-check: no $service in the several profile" >&2; exit 1; }
done
# Every image is `name:version`; `latest` and bare names are refused.
images=$( (grep -hE '^\s*image:' docker/docker-compose.yml | awk '{print $2}'; grep -hE '^FROM ' docker/Dockerfile | awk '{print $2}') | sort -u)
for image in $images; do
  if [[ $image != *:* || $image == *:latest* ]]; then
    echo "compose-check: $image is not pinned to a version" >&2
    exit 1
  fi
done
echo "compose-check: both profiles resolve; images:" $images
