-- wrk script for upload benchmarks: POSTs the multipart body in $BODY_FILE (boundary
-- BENCHBOUNDARY, made by `multipart` in scripts/bench-upload.sh) with the bearer $TOKEN.
local f = io.open(os.getenv("BODY_FILE"), "rb")
wrk.method = "POST"
wrk.body = f:read("*all")
f:close()
wrk.headers["Content-Type"] = "multipart/form-data; boundary=BENCHBOUNDARY"
wrk.headers["Authorization"] = "Bearer " .. os.getenv("TOKEN")
