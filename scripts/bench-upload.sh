#!/usr/bin/env bash
# Upload benchmark helpers; source this file. Bodies go to wrk with scripts/upload.lua.

# The multipart/form-data body (boundary BENCHBOUNDARY) of JPEG $1, written to $2.
multipart() {
  printf -- '--BENCHBOUNDARY\r\nContent-Disposition: form-data; name="file"; filename="b.jpg"\r\nContent-Type: image/jpeg\r\n\r\n' >"$2"
  cat "$1" >>"$2"
  printf -- '\r\n--BENCHBOUNDARY--\r\n' >>"$2"
}
