-- wrk script for scripts/bench-load.sh: a mixed load of login, list, get, thumbnail and
-- upload, in fixed proportions, with the status of every answer counted per second so a
-- database restart in the middle can be read off (which statuses, and when).
-- Environment: LOAD_TOKEN, LOAD_IMAGE (an approved image's id), LOAD_USER, LOAD_PASSWORD,
-- LOAD_UPLOAD (a file holding a multipart body), LOAD_BOUNDARY.

local token = os.getenv("LOAD_TOKEN")
local image = os.getenv("LOAD_IMAGE")
local auth = { ["Authorization"] = "Bearer " .. token }
local login_body = string.format('{"username":"%s","password":"%s"}', os.getenv("LOAD_USER"), os.getenv("LOAD_PASSWORD"))
local file = io.open(os.getenv("LOAD_UPLOAD"), "rb")
local upload_body = file:read("*a")
file:close()
local upload_headers = {
  ["Authorization"] = "Bearer " .. token,
  ["Content-Type"] = "multipart/form-data; boundary=" .. os.getenv("LOAD_BOUNDARY"),
}

-- One login and one upload in every 20 requests; the rest reads.
local plan = {}
local function add(n, req) for _ = 1, n do plan[#plan + 1] = req end end
add(1, function() return wrk.format("POST", "/api/v1/auth/login", { ["Content-Type"] = "application/json" }, login_body) end)
add(1, function() return wrk.format("POST", "/api/v1/images", upload_headers, upload_body) end)
add(6, function() return wrk.format("GET", "/api/v1/images?per_page=20", auth) end)
add(6, function() return wrk.format("GET", "/api/v1/images/" .. image, auth) end)
add(6, function() return wrk.format("GET", "/api/v1/images/" .. image .. "/thumbnails/200", auth) end)

local threads = {}
function setup(thread)
  thread:set("id", #threads + 1)
  threads[#threads + 1] = thread
end

local n = 0
counts = {} -- global: done() reads it from each thread
local start

function init()
  start = os.time()
  n = math.random(#plan)
end

function request()
  n = n % #plan + 1
  return plan[n]()
end

function response(status)
  local key = string.format("%d %d", os.time() - start, status)
  counts[key] = (counts[key] or 0) + 1
end

function done(summary, latency)
  local merged = {}
  for _, thread in ipairs(threads) do
    local c = thread:get("counts")
    for key, v in pairs(c) do merged[key] = (merged[key] or 0) + v end
  end
  local out = io.open(os.getenv("LOAD_COUNTS"), "w")
  for key, v in pairs(merged) do out:write(key, " ", v, "\n") end
  out:close()
end
