-- wrk script: POST unique bodies to Gatehouse's chat, Responses or Embeddings endpoint, the same text each way.
--   BENCH_API    chat (default) | responses | embeddings (BENCH_INPUTS texts per request, default 1)
--   BENCH_STORE  for responses: "false" sends "store": false (nothing kept)
--   BENCH_KEY    app key (default gk-bench)
--   BENCH_RUN    a label unique to this run (default: the time in seconds)
-- done() prints one line: BENCHJSON {"requests":..,"non2xx":..,"rps":..,"p50_ms":..,"p99_ms":..}
local api = os.getenv("BENCH_API") or "chat"
local store = os.getenv("BENCH_STORE") ~= "false"
local key = os.getenv("BENCH_KEY") or "gk-bench"
-- BENCH_RUN makes every run's bodies its own: wrk seeds math.random the same way each time, so without it a later
-- run would repeat an earlier run's bodies and be answered from the cache.
local run = os.getenv("BENCH_RUN") or tostring(os.time())
local inputs = tonumber(os.getenv("BENCH_INPUTS") or "1")
local counter = 0

function init(args)
  wrk.method = "POST"
  wrk.headers["Content-Type"] = "application/json"
  wrk.headers["Authorization"] = "Bearer " .. key
end

function request()
  counter = counter + 1
  local text = "benchmark request " .. run .. " " .. counter .. " " .. math.random(1, 1000000000)
  if api == "embeddings" then
    local texts = {}
    for i = 1, inputs do
      texts[i] = '"' .. text .. " part " .. i .. '"'
    end
    return wrk.format(nil, "/v1/embeddings", nil, '{"model":"sim-embed","input":[' .. table.concat(texts, ",") .. ']}')
  end
  if api == "responses" then
    return wrk.format(nil, "/v1/responses", nil,
      '{"model":"sim-bench","max_output_tokens":64,"instructions":"You are a terse assistant used by a gateway benchmark.",' ..
      (store and '' or '"store":false,') .. '"input":"' .. text .. '"}')
  end
  return wrk.format(nil, "/v1/chat/completions", nil,
    '{"model":"sim-bench","max_tokens":64,"messages":[{"role":"system","content":"You are a terse assistant used by a gateway benchmark."},' ..
    '{"role":"user","content":"' .. text .. '"}]}')
end

function done(summary, latency, requests)
  local non2xx = summary.errors.status or 0
  io.write(string.format('BENCHJSON {"requests":%d,"non2xx":%d,"rps":%.0f,"p50_ms":%.2f,"p99_ms":%.2f}\n',
    summary.requests, non2xx, summary.requests / (summary.duration / 1e6), latency:percentile(50) / 1000, latency:percentile(99) / 1000))
end
