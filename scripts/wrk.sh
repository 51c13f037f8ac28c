# Reading wrk reports; source this file. `rps REPORT` prints requests per second,
# `non2xx REPORT` the answers that were not 2xx (0 when wrk printed none).
rps() { awk '/^Requests\/sec/ {print $2}' "$1"; }
non2xx() { awk '/Non-2xx/ {print $NF}' "$1" | grep . || echo 0; }
